import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { siteCommand, type Io } from '../context.js';

/**
 * `msite demo`: a real walk-through in three temporary site homes (boston_hub, sanfran_hub,
 * bangalore): VOB commands, replica creation, and the name clash of seed 002's Figure 3 resolved by
 * automatic renaming, printing each command and what it printed. Each step runs the command line's
 * own code path.
 */
export function registerDemoCommand(program: Command, io: Io): void {
  siteCommand(program, 'demo', 'walk through VOB commands and replication in three temporary site homes')
    .option('--keep', 'keep the temporary site home afterwards')
    .action(async (_o, c) => {
      const opts = c.optsWithGlobals();
      const { main } = await import('../main.js');
      const dir = mkdtempSync(join(tmpdir(), 'msite-demo-'));
      const homes = { boston: join(dir, 'boston'), sanfran: join(dir, 'sanfran'), bangalore: join(dir, 'bangalore') };
      const file = (name: string, text: string | Uint8Array) => {
        const p = join(dir, name);
        writeFileSync(p, text);
        return p;
      };
      const box = (name: string) => {
        const p = join(dir, name);
        mkdirSync(p, { recursive: true });
        return p;
      };
      const packetsIn = (d: string) => readdirSync(d).map((n) => join(d, n));
      type Step = { site: keyof typeof homes; args: string[] } | { say: string };
      const at = (site: keyof typeof homes, ...args: string[]): Step => ({ site, args });
      const steps: (Step | (() => Step[]))[] = [
        { say: 'One VOB at boston_hub: directories, elements, versions, a branch and a label.' },
        at('boston', 'mkvob', '--tag', '/vobs/demo', '--replica', 'boston_hub', join(dir, 'boston.vob')),
        at('boston', 'mkdir', '--auto', '-c', 'sources', 'src'),
        at('boston', 'mkelem', '--auto', '--from', file('a1.c', 'int main(void) { return 0; }\n'), '-c', 'first cut', 'src/a.c'),
        at('boston', 'checkout', 'src/a.c'),
        at('boston', 'checkin', '--from', file('a2.c', 'int main(void) { return 1; }\n'), '-c', 'exit 1', 'src/a.c'),
        at('boston', 'mkbrtype', '-c', 'development', 'dev'),
        at('boston', 'mkbranch', 'dev', 'src/a.c'),
        at('boston', 'checkout', 'src/a.c@@/main/dev'),
        at('boston', 'checkin', '--from', file('a3.c', 'int main(void) { return 2; }\n'), 'src/a.c'),
        at('boston', 'mklbtype', 'REL1'),
        at('boston', 'mklabel', 'REL1', 'src/a.c'),
        at('boston', 'lsvtree', 'src/a.c'),
        at('boston', 'cat', 'src/a.c@@/main/dev/1'),
        { say: 'Two more replicas, each made from a signed creation packet.' },
        at('boston', 'mkreplica', '--export', '--out', box('for-sanfran'), 'sanfran-host:sanfran_hub'),
        () => [
          at('sanfran', 'mkreplica', '--import', '--tag', '/vobs/demo', join(dir, 'sanfran.vob'), packetsIn(join(dir, 'for-sanfran'))[0]!),
        ],
        at('boston', 'mkreplica', '--export', '--out', box('for-bangalore'), 'bangalore-host:bangalore'),
        () => [
          at(
            'bangalore',
            'mkreplica',
            '--import',
            '--tag',
            '/vobs/demo',
            join(dir, 'bangalore.vob'),
            packetsIn(join(dir, 'for-bangalore'))[0]!,
          ),
        ],
        { say: 'sanfran_hub learns of bangalore from boston_hub.' },
        at('boston', 'syncreplica', '--export', '--out', box('to-sanfran-1'), 'sanfran_hub'),
        () => [at('sanfran', 'syncreplica', '--import', join(dir, 'to-sanfran-1'))],
        { say: 'boston_hub and sanfran_hub both make a label type V2.0; bangalore hears from both.' },
        at('boston', 'mklbtype', 'V2.0'),
        at('sanfran', 'mklbtype', 'V2.0'),
        at('boston', 'syncreplica', '--export', '--out', box('to-bangalore-1'), 'bangalore'),
        at('sanfran', 'syncreplica', '--export', '--out', box('to-bangalore-2'), 'bangalore'),
        () => [at('bangalore', 'syncreplica', '--import', join(dir, 'to-bangalore-2'), join(dir, 'to-bangalore-1'))],
        at('bangalore', 'lstype', '--kind', 'lbtype'),
        at('bangalore', 'lsconflict'),
        at('bangalore', 'lsepoch'),
        at('bangalore', 'cat', 'src/a.c@@REL1'),
      ];
      io.out(`Three site homes under ${dir}\n\n`);
      try {
        for (const entry of steps) {
          for (const step of typeof entry === 'function' ? entry() : [entry]) {
            if ('say' in step) {
              io.out(`# ${step.say}\n\n`);
              continue;
            }
            io.out(`[${step.site}]$ msite ${step.args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n`);
            const status = await main([...step.args, '--home', homes[step.site]], io);
            io.out('\n');
            if (status !== 0) throw new Error(`demo step failed: msite ${step.args.join(' ')}`);
          }
        }
      } finally {
        if (opts.keep) io.out(`Kept ${dir}\n`);
        else rmSync(dir, { recursive: true, force: true });
      }
    });
}
