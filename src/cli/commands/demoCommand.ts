import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { commonOptions, type Io } from '../context.js';

/**
 * `msite demo`: a real walk-through of the VOB commands in a temporary site home, printing each
 * command and what it printed. Each step runs the same code path as the command line.
 */
export function registerDemoCommand(program: Command, io: Io): void {
  program
    .command('demo')
    .description('walk through the VOB commands in a temporary site home')
    .option('--keep', 'keep the temporary site home afterwards')
    .action(async (_o, c: Command) => {
      const opts = commonOptions(c) as { keep?: boolean };
      const { main } = await import('../main.js');
      const dir = mkdtempSync(join(tmpdir(), 'msite-demo-'));
      const home = join(dir, 'home');
      const file = (name: string, text: string | Uint8Array) => {
        const p = join(dir, name);
        writeFileSync(p, text);
        return p;
      };
      const steps: string[][] = [
        ['mkvob', '--tag', '/vobs/demo', '--replica', 'boston_hub', join(dir, 'demo.vob')],
        ['mkdir', '--auto', '-c', 'sources', 'src'],
        ['mkelem', '--auto', '--from', file('a1.c', 'int main(void) { return 0; }\n'), '-c', 'first cut', 'src/a.c'],
        ['checkout', 'src/a.c'],
        ['checkin', '--from', file('a2.c', 'int main(void) { return 1; }\n'), '-c', 'exit 1', 'src/a.c'],
        ['mkbrtype', '-c', 'development', 'dev'],
        ['mkbranch', 'dev', 'src/a.c'],
        ['checkout', 'src/a.c@@/main/dev'],
        ['checkin', '--from', file('a3.c', 'int main(void) { return 2; }\n'), 'src/a.c'],
        ['mklbtype', 'REL1'],
        ['mklabel', 'REL1', 'src/a.c'],
        ['lsvtree', 'src/a.c'],
        ['cat', 'src/a.c@@/main/dev/1'],
        ['describe', 'lbtype:REL1'],
        ['lshistory'],
      ];
      io.out(`Site home: ${home}\n\n`);
      try {
        for (const step of steps) {
          io.out(`$ msite ${step.map((s) => (s.includes(' ') ? JSON.stringify(s) : s)).join(' ')}\n`);
          const status = await main([...step, '--home', home], io);
          io.out('\n');
          if (status !== 0) throw new Error(`demo step failed: msite ${step.join(' ')}`);
        }
      } finally {
        if (opts.keep) io.out(`Kept ${dir}\n`);
        else rmSync(dir, { recursive: true, force: true });
      }
    });
}
