import type { Command } from '@commander-js/extra-typings';
import { DEFAULT_ADMIN_PORT, DEFAULT_PEER_PORT } from '../../site/siteSettings.js';
import { siteCommand, siteHome, type Io } from '../context.js';
import { integerArg } from '../numberArgs.js';

/**
 * `msite serve [--port N] [--admin-port N]`: runs the site daemon in the foreground until SIGTERM or
 * SIGINT, then stops it cleanly (running jobs get a grace period, their ends are recorded,
 * daemon.json is removed). The first line it prints names the admin listener, the second the peer
 * listener (or why there is none).
 */
export function registerServeCommand(program: Command, io: Io): void {
  siteCommand(program, 'serve', 'run the site daemon: scheduler, admin API on 127.0.0.1, peer listener (mutual TLS)')
    .option(
      '--port <n>',
      `peer listener port; 0 picks a free one (default the site's, else ${DEFAULT_PEER_PORT})`,
      integerArg('--port', { min: 0, max: 65535, hint: '0 picks a free port' }),
    )
    .option(
      '--admin-port <n>',
      `admin listener port on 127.0.0.1; 0 picks a free one (default the site's, else ${DEFAULT_ADMIN_PORT}; 0 when --port is 0)`,
      integerArg('--admin-port', { min: 0, max: 65535, hint: '0 picks a free port' }),
    )
    .action(async (_o, cmd) => {
      const opts = cmd.optsWithGlobals();
      // The daemon's modules (fastify, the tus server) take ~350 ms to load: only `serve` loads them.
      const { SiteDaemon } = await import('../../site/siteDaemon.js');
      const daemon = await SiteDaemon.start({
        home: siteHome(io, opts),
        ...(io.env.MSITE_LOG_LEVEL !== undefined ? { logLevel: io.env.MSITE_LOG_LEVEL } : {}),
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        ...(opts.adminPort !== undefined ? { adminPort: opts.adminPort } : {}),
      });
      io.out(`msite serve: listening on ${daemon.url}\n`);
      io.out(
        daemon.peerPort !== undefined
          ? `msite serve: peers on port ${daemon.peerPort}\n`
          : `msite serve: no peer listener: the site has no identity (msite site init)\n`,
      );
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
