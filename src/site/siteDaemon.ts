import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isoTime, systemClock, type Clock } from '../core/clock.js';
import { InvalidInputError, IoError, StateError, writingTo } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { jobStatus } from '../schedule/jobStatus.js';
import { Scheduler } from '../schedule/scheduler.js';
import { ScheduleStore } from '../schedule/scheduleStore.js';
import type { Spawner } from '../core/spawner.js';
import { readDaemonFile, removeDaemonFile, writeDaemonFile } from './daemonFile.js';
import { Router } from './router.js';
import { SiteDatabase } from './siteDatabase.js';
import { SiteHome } from './siteHome.js';

/** The daemon port when neither `--port` nor the site's configuration names one. */
export const DEFAULT_DAEMON_PORT = 7071;
/** The daemon listens on loopback only: the admin API has no authentication of its own. */
export const DAEMON_HOST = '127.0.0.1';

export interface SiteDaemonOptions {
  home: SiteHome;
  /** Default 7071; 0 picks a free port. */
  port?: number;
  clock?: Clock;
  spawner?: Spawner;
  /** Default: pino into `<home>/log/msite-serve.log` at `logLevel`. */
  logger?: Logger;
  /** The default logger's level (the command passes $MSITE_LOG_LEVEL). Default info. */
  logLevel?: string;
  /** How long `stop` waits for running jobs before ending them. Default 5 s. */
  stopGraceMs?: number;
  /** IANA zone of the job times; default the host's. */
  timeZone?: string;
}

/**
 * `msite serve`: one daemon per site home. An HTTP server on 127.0.0.1 with a route table (later the
 * packet receiver, the dashboard and /metrics join it) and the scheduler. While it runs,
 * `<home>/daemon.json` says where it listens.
 *
 * Routes: `GET /api/health`, `GET /api/schedule/jobs`, `GET /api/schedule/jobs/:job/status`,
 * `POST /api/schedule/jobs/:job/run` (body optional: `{"user": NAME}` to have the ACL checked for NAME).
 * `:job` is an id or a %-encoded name.
 */
export class SiteDaemon {
  readonly router = new Router();
  private stopped: Promise<void> | undefined;

  private constructor(
    readonly home: SiteHome,
    private readonly site: SiteDatabase,
    readonly scheduler: Scheduler,
    readonly store: ScheduleStore,
    readonly logger: Logger,
    private readonly server: Server,
    private readonly clock: Clock,
    private readonly options: SiteDaemonOptions,
    readonly startedAt: number,
  ) {
    this.addRoutes();
  }

  /** The port it listens on (the one picked when started with port 0). */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  get url(): string {
    return `http://${DAEMON_HOST}:${this.port}`;
  }

  /**
   * Starts the daemon: listens, writes daemon.json, starts the scheduler (which at once runs what was
   * missed while no daemon ran).
   *
   * @throws StateError when another daemon serves the site home; IoError when the port is taken.
   */
  static async start(options: SiteDaemonOptions): Promise<SiteDaemon> {
    const { home } = options;
    const port = options.port ?? DEFAULT_DAEMON_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidInputError(`bad port ${port}: give a number from 0 (any free port) to 65535`);
    }
    const other = readDaemonFile(home.daemonFile);
    if (other) {
      throw new StateError(`a daemon already serves ${home.dir} (process ${other.pid}, port ${other.port})`, {
        data: { pid: other.pid, port: other.port },
        hint: `stop it first: kill ${other.pid}`,
      });
    }
    // Bind first: a port in use must fail before anything is created in the home.
    const server = createServer();
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
        rejectListen(
          new IoError(`cannot listen on ${DAEMON_HOST}:${port}: ${why}`, {
            cause: err,
            data: { port, sysCode: err.code },
            persistence: 'permanent',
            hint: 'choose another port with --port, or stop what uses it',
          }),
        );
      });
      server.listen(port, DAEMON_HOST, () => resolveListen());
    });
    let daemon: SiteDaemon;
    let site: SiteDatabase | undefined;
    try {
      writingTo('create directory', home.dir, () => mkdirSync(home.dir, { recursive: true }));
      const clock = options.clock ?? systemClock;
      const logger =
        options.logger ?? createLogger({ level: options.logLevel ?? 'info', destination: join(home.logDir, 'msite-serve.log') });
      site = SiteDatabase.open(home.dir);
      const store = ScheduleStore.open(site.db, { clock });
      const scheduler = new Scheduler({
        store,
        home: home.dir,
        clock,
        logger,
        ...(options.spawner ? { spawner: options.spawner } : {}),
        ...(options.timeZone ? { timeZone: options.timeZone } : {}),
      });
      daemon = new SiteDaemon(home, site, scheduler, store, logger, server, clock, options, clock.now());
    } catch (err) {
      site?.close();
      server.close();
      throw err;
    }
    server.on('request', (req, res) => void daemon.router.handle(req, res));
    writeDaemonFile(home.daemonFile, { pid: process.pid, port: daemon.port, host: DAEMON_HOST, startedAt: isoTime(daemon.startedAt) });
    daemon.logger.info({ port: daemon.port, home: home.dir, pid: process.pid }, 'msite serve started');
    daemon.scheduler.start();
    return daemon;
  }

  /**
   * Stops cleanly: no new runs, running jobs get the grace period and are then ended (their ends are
   * recorded), the server closes, daemon.json is removed. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.logger.info({ running: this.scheduler.active().map((r) => r.jobId) }, 'msite serve stopping');
      const closed = new Promise<void>((resolveClose) => this.server.close(() => resolveClose()));
      this.server.closeIdleConnections();
      await this.scheduler.stop(this.options.stopGraceMs ?? 5_000);
      this.server.closeAllConnections();
      await closed;
      removeDaemonFile(this.home.daemonFile);
      this.site.close();
      this.logger.info('msite serve stopped');
    })();
    return this.stopped;
  }

  private addRoutes(): void {
    const tz = this.options.timeZone;
    this.router
      .add('GET', '/api/health', () => ({
        status: 200,
        body: {
          status: 'ok',
          pid: process.pid,
          home: this.home.dir,
          port: this.port,
          startedAt: isoTime(this.startedAt),
          running: this.scheduler.active().map((r) => r.jobId),
        },
      }))
      .add('GET', '/api/schedule/jobs', () => {
        const now = this.clock.now();
        return { status: 200, body: { jobs: this.store.getJobs().map((j) => jobStatus(this.store, j.id!, now, tz)) } };
      })
      .add('GET', '/api/schedule/jobs/:job/status', ({ params }) => ({
        status: 200,
        body: jobStatus(this.store, params['job']!, this.clock.now(), tz),
      }))
      .add('POST', '/api/schedule/jobs/:job/run', ({ params, body }) => {
        if (body !== undefined) {
          const user: unknown = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['user'] : undefined;
          if (typeof body !== 'object' || body === null || Array.isArray(body) || (user !== undefined && typeof user !== 'string')) {
            throw new InvalidInputError('bad request: the body must be a JSON object, optionally {"user": "NAME"}');
          }
          if (typeof user === 'string') this.store.requireAccess(user, 'change');
        }
        const run = this.scheduler.runJob(params['job']!);
        return {
          status: 202,
          body: {
            run: { jobId: run.jobId, jobName: run.jobName, processId: run.processId, started: isoTime(run.started), command: run.command },
          },
        };
      });
  }
}
