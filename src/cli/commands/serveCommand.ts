import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { DEFAULT_DAEMON_PORT, SiteDaemon } from '../../site/siteDaemon.js';
import { commonOptions, siteHome, type CommonOptions, type Io } from '../context.js';

/**
 * `msite serve [--port N]`: runs the site daemon in the foreground until SIGTERM or SIGINT, then stops
 * it cleanly (running jobs get a grace period, their ends are recorded, daemon.json is removed).
 */
export function registerServeCommand(program: Command, io: Io): void {
  program
    .command('serve')
    .description('run the site daemon: scheduler and admin API on 127.0.0.1')
    .option('--port <n>', `port to listen on; 0 picks a free one (default ${DEFAULT_DAEMON_PORT})`)
    .action(async (_o, cmd: Command) => {
      const opts = commonOptions(cmd) as CommonOptions & { port?: string };
      let port = DEFAULT_DAEMON_PORT;
      if (opts.port !== undefined) {
        if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535) {
          throw new UsageError(`bad --port "${opts.port}": give a number from 0 (any free port) to 65535`);
        }
        port = Number(opts.port);
      }
      const daemon = await SiteDaemon.start({ home: siteHome(io, opts), port, logLevel: io.env.MSITE_LOG_LEVEL });
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
