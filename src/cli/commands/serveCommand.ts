import type { Command } from '@commander-js/extra-typings';
import { DEFAULT_DAEMON_PORT, SiteDaemon } from '../../site/siteDaemon.js';
import { siteCommand, siteHome, type Io } from '../context.js';
import { integerArg } from '../numberArgs.js';

/**
 * `msite serve [--port N]`: runs the site daemon in the foreground until SIGTERM or SIGINT, then stops
 * it cleanly (running jobs get a grace period, their ends are recorded, daemon.json is removed).
 */
export function registerServeCommand(program: Command, io: Io): void {
  siteCommand(program, 'serve', 'run the site daemon: scheduler and admin API on 127.0.0.1')
    .option(
      '--port <n>',
      `port to listen on; 0 picks a free one (default ${DEFAULT_DAEMON_PORT})`,
      integerArg('--port', { min: 0, max: 65535, hint: '0 picks a free port' }),
    )
    .action(async (_o, cmd) => {
      const opts = cmd.optsWithGlobals();
      const daemon = await SiteDaemon.start({ home: siteHome(io, opts), port: opts.port ?? DEFAULT_DAEMON_PORT });
      io.out(`msite serve: listening on ${daemon.url}\n`);
      await new Promise<void>((resolveStop) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          io.err(`msite serve: ${signal}: stopping\n`);
          void daemon.stop().then(resolveStop, (err: unknown) => {
            io.err(`msite serve: stop failed: ${(err as Error).message}\n`);
            resolveStop();
          });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
    });
}
