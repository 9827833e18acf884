import { constants } from 'node:os';
import type { Command } from '@commander-js/extra-typings';
import { InvalidInputError } from '../../core/errors.js';
import { DEFAULT_ADMIN_PORT, DEFAULT_PEER_PORT } from '../../site/siteSettings.js';
import { siteCommand, siteHome, type Io } from '../context.js';
import { integerArg } from '../numberArgs.js';

/**
 * `msite serve [--port N] [--admin-port N]`: runs the site daemon in the foreground until SIGTERM or
 * SIGINT, then stops it cleanly (SiteDaemon.stop: uploads cut resumably, landings, jobs and relayed
 * deliveries given a grace period, $MSITE_STOP_GRACE seconds (default 5), the home's claim released,
 * daemon.json removed); a second signal while it stops exits at once. The first line it prints names the admin listener, the second the peer
 * listener (or why there is none). With $MSITE_STOP_WITH_PARENT set to its parent's process id (as
 * `msite demo` starts its daemons), it also stops so once that parent has ended, however it ended.
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
      const grace = io.env.MSITE_STOP_GRACE;
      if (grace !== undefined && !/^\d+(\.\d+)?$/.test(grace)) {
        throw new InvalidInputError(`bad MSITE_STOP_GRACE "${grace}": give the seconds a stop waits for running work, e.g. 5`);
      }
      const parentText = io.env.MSITE_STOP_WITH_PARENT;
      if (parentText !== undefined && !/^[1-9]\d*$/.test(parentText)) {
        throw new InvalidInputError(`bad MSITE_STOP_WITH_PARENT "${parentText}": give the process id whose end stops the daemon`);
      }
      const parent = parentText === undefined ? undefined : Number(parentText);
      // The daemon's modules (fastify, the tus server) take ~350 ms to load: only `serve` loads them.
      const { SiteDaemon } = await import('../../site/siteDaemon.js');
      const daemon = await SiteDaemon.start({
        home: siteHome(io, opts),
        ...(grace !== undefined ? { stopGraceMs: Number(grace) * 1000 } : {}),
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
      let stopping = false;
      let stopped: () => void = () => {};
      const stop = (why: string): void => {
        stopping = true;
        io.err(`msite serve: ${why}: stopping\n`);
        daemon.stop().then(stopped, (err: unknown) => {
          io.err(`msite serve: stop failed: ${(err as Error).message}\n`);
          stopped();
        });
      };
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stopping) {
          // The administrator will not wait: leave at once. Jobs still running finish on their own;
          // the claim and daemon.json name a process that is gone, so the next start takes them over.
          io.err(`msite serve: ${signal} again: exiting now\n`);
          process.exit(128 + (constants.signals[signal] ?? 0));
        }
        stop(signal);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      // A parent that dies without a word (SIGKILL) cannot stop its daemons: they see it gone.
      const orphaned =
        parent === undefined ? undefined : setInterval(() => process.ppid !== parent && !stopping && stop(`process ${parent} ended`), 1000);
      await new Promise<void>((resolveStop) => (stopped = resolveStop));
      clearInterval(orphaned);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
}
