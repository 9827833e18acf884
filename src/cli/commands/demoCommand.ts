import type { Command } from '@commander-js/extra-typings';
import { StateError } from '../../core/errors.js';
import { DemoStoppedError, startDemo, type DemoCommand } from '../../site/runDemo.js';
import { siteCommand, type Io } from '../context.js';
import { integerArg } from '../numberArgs.js';

/** Runs each demo step through this msite's own command line, in this process, quietly. */
export function inProcessCommand(io: Io): DemoCommand {
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
      // Installed before the set-up, so that a Ctrl-C then also leaves nothing behind.
      const stop = new AbortController();
      let signalled: string | undefined;
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        // A second Ctrl-C while the daemons stop is told, not obeyed: each ends within its grace period.
        if (stopping) return void io.err('msite demo: stopping: each daemon ends within its grace period\n');
        signalled ??= signal;
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let timer: NodeJS.Timeout | undefined;
      try {
        let demo;
        try {
          demo = await startDemo({ run: inProcessCommand(io), say, signal: stop.signal });
        } catch (err) {
          if (!(err instanceof DemoStoppedError)) throw err;
          say(`msite demo: ${signalled}: ${err.message}`);
          return;
        }
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
          if (opts.for !== undefined) timer = setTimeout(() => resolveWhy(`${opts.for} s`), opts.for * 1000);
          if (stop.signal.aborted) resolveWhy(signalled!);
          stop.signal.addEventListener('abort', () => resolveWhy(signalled!), { once: true });
          void demo.failed.then((message) => resolveWhy((failure = message)));
        });
        clearTimeout(timer);
        stopping = true;
        say(`msite demo: ${why}: stopping the daemons`);
        await demo.stop({ keep: Boolean(opts.keep) });
        say(opts.keep ? `msite demo: kept ${demo.root}` : `msite demo: removed ${demo.root}`);
        if (failure !== undefined) throw new StateError(`the demo ended early: ${failure}`);
      } finally {
        clearTimeout(timer);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
