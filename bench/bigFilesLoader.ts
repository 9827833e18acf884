/**
 * The big-files bench's load, in a process of its own: runs a list of msite commands (mkdir,
 * mkelem --from, checkout, checkin --from) one after another through the CLI's `main`, as
 * bin/msite.js would run each, without paying a node start-up per command (git's commands, which
 * it is compared with, start in milliseconds). Its peak RSS is the largest any command needed.
 * Prints `{seconds, cpuSeconds, commands}` as JSON.
 *
 *   node dist/bench/bigFilesLoader.js COMMANDS.json     (a JSON array of argument arrays)
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { main } from '../src/cli/main.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: bigFilesLoader.js COMMANDS.json');
  process.exit(2);
}
const commands = JSON.parse(readFileSync(file, 'utf8')) as string[][];
let stderr = '';
const io = {
  out: () => {},
  err: (t: string) => {
    stderr += t;
  },
  env: process.env,
  cwd: process.cwd(),
  stdin: Readable.from([]),
  stdinIsTTY: false,
  stderrIsTTY: false,
};
const cpuStart = process.cpuUsage();
const start = performance.now();
for (const argv of commands) {
  const status = await main(argv, io);
  if (status !== 0) {
    console.error(`msite ${argv.join(' ')} exited ${status}: ${stderr.trim()}`);
    process.exit(1);
  }
}
const cpu = process.cpuUsage(cpuStart);
process.stdout.write(
  JSON.stringify({ seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, commands: commands.length }),
);
