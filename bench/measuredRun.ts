import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** What one process cost: wall seconds from spawn to exit, CPU seconds (user + system), peak RSS in bytes. */
export interface Measured {
  seconds: number;
  cpuSeconds: number;
  peakRss: number;
}

/**
 * Runs FILE ARGS under /usr/bin/time, to completion, and returns its figures and stdout. Throws
 * with its stderr when it fails. The figures go to a file of their own, so the command's stderr
 * stays its own.
 */
export function measured(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Measured & { stdout: string } {
  const timeFile = join(tmpdir(), `msite-bench-time-${process.pid}`);
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', timeFile, file, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    // gitimport prints a line per ref it maps: express's history prints thousands.
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seconds = (performance.now() - start) / 1000;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.trim().slice(-2000)}`);
  const [maxRssKb, user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(timeFile);
  return { seconds, cpuSeconds: user! + system!, peakRss: maxRssKb! * 1024, stdout: r.stdout };
}
