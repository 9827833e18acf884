import type { Command } from '@commander-js/extra-typings';
import { StateError } from '../../core/errors.js';
import { startDemo, type DemoCommand } from '../../site/runDemo.js';
import { siteCommand, type Io } from '../context.js';
import { integerArg } from '../numberArgs.js';

/** Runs each demo step through this msite's own command line, in this process, quietly. */
function inProcessCommand(io: Io): DemoCommand {
  return async (home, args) => {
    const { main } = await import('../main.js');
    let said = '';
    const env = { ...io.env };
    delete env.MSITE_VOB;
    const status = await main([...args, '--home', home], {
      ...io,
      env,
      out: () => {},
      err: (t) => void (said += t),
      stderrIsTTY: false,
    });
    if (status !== 0) throw new StateError(`demo step failed: msite ${args.join(' ')}: ${said.trim()}`);
  };
}

/**
 * `msite demo [--for SECONDS] [--keep]`: three sites with their daemons on loopback (runDemo.ts),
 * their dashboards printed, a change every few seconds, until SIGINT (Ctrl-C) or SIGTERM, or for
 * SECONDS. Then every daemon stops cleanly and the temporary homes are removed (`--keep` keeps them).
 */
export function registerDemoCommand(program: Command, io: Io): void {
  siteCommand(program, 'demo', 'run three sites with their daemons and dashboards on loopback until Ctrl-C')
    .option('--for <seconds>', 'stop by itself after this many seconds', integerArg('--for', { min: 1, max: 86_400 }))
    .option('--keep', 'keep the temporary site homes afterwards')
    .action(async (_o, c) => {
      const opts = c.optsWithGlobals();
      const say = (line: string): void => io.out(`${line}\n`);
      const demo = await startDemo({ run: inProcessCommand(io), say });
      say('');
      say(`msite demo: three sites under ${demo.root}; dashboards:`);
      for (const s of demo.sites) say(`  ${s.name.padEnd(12)} ${s.url}  (daemon ${s.pid}, home ${s.home})`);
      say(
        `msite demo: exports every minute (job "${demo.jobs.export}"), a change every few seconds; ${
          opts.for !== undefined ? `stops after ${opts.for} s or on Ctrl-C` : 'Ctrl-C stops'
        }`,
      );
      let failure: string | undefined;
      const why = await new Promise<string>((resolveWhy) => {
        const onSignal = (signal: NodeJS.Signals): void => end(signal);
        const timer = opts.for !== undefined ? setTimeout(() => end(`${opts.for} s`), opts.for * 1000) : undefined;
        const end = (reason: string): void => {
          clearTimeout(timer);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolveWhy(reason);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        void demo.failed.then((message) => end((failure = message)));
      });
      say(`msite demo: ${why}: stopping the daemons`);
      // A second Ctrl-C while they stop is told, not obeyed: each daemon ends within its grace period.
      const patience = (): void => io.err('msite demo: stopping: each daemon ends within its grace period\n');
      process.on('SIGINT', patience);
      process.on('SIGTERM', patience);
      try {
        await demo.stop({ keep: Boolean(opts.keep) });
      } finally {
        process.off('SIGINT', patience);
        process.off('SIGTERM', patience);
      }
      say(opts.keep ? `msite demo: kept ${demo.root}` : `msite demo: removed ${demo.root}`);
      if (failure !== undefined) throw new StateError(`the demo ended early: ${failure}`);
    });
}
