import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { isoTime, systemClock, type Clock } from '../core/clock.js';
import { InvalidInputError, IoError, toMsiteError, writingTo } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { Scheduler } from '../schedule/scheduler.js';
import { ScheduleStore } from '../schedule/scheduleStore.js';
import type { Spawner } from '../core/spawner.js';
import { certificateKeyText } from '../shipping/peerKey.js';
import { loadSiteIdentity, type SiteIdentity } from '../shipping/siteIdentity.js';
import { registerAdminRoutes, type AdminContext } from './adminApi.js';
import { processIdentity } from '../core/processAlive.js';
import { claimDaemon, daemonHeldError, liveDaemonClaim, type DaemonClaim, type DaemonClaimInfo } from './daemonClaim.js';
import { readDaemonFile, removeDaemonFile, writeDaemonFile } from './daemonFile.js';
import { registerDashboardRoutes } from './dashboardRoutes.js';
import { frameworkErrors, MAX_JSON_BODY_BYTES, useMsiteHttp } from './httpErrors.js';
import { registerMetricsRoute } from './metricsRoute.js';
import { PacketReceiver } from './packetReceiver.js';
import { PeerDirectory } from './peerDirectory.js';
import { registerPeerRoutes } from './peerRoutes.js';
import { SiteDatabase } from './siteDatabase.js';
import { relayedOrders, RelayDeliveries } from './relayDeliveries.js';
import { SiteHome } from './siteHome.js';
import { DEFAULT_ADMIN_PORT, DEFAULT_PEER_PORT, readSiteSettings, type SiteSettings } from './siteSettings.js';
import { UnknownPeerError } from './unknownPeerError.js';

/** The admin listener is on loopback only: the admin API has no authentication of its own. */
export const DAEMON_HOST = '127.0.0.1';
/** The peer listener's address when neither `--listen` at site init nor the options name one. */
export const DEFAULT_PEER_LISTEN = '0.0.0.0';

export interface SiteDaemonOptions {
  home: SiteHome;
  /** The peer listener's port: default the site's setting, else 7071; 0 picks a free port. */
  port?: number;
  /** The admin listener's port: default the site's setting, else 7072; 0 picks a free port. With `port` 0 and no setting, 0. */
  adminPort?: number;
  /** The peer listener's address: default the site's setting, else every interface. */
  listen?: string;
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
  /** Bytes the receiver keeps free on its disks. Default 16 MiB. */
  diskReserveBytes?: number;
}

function checkPort(port: number, flag: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidInputError(`bad ${flag} ${port}: give a number from 0 (any free port) to 65535`);
  }
}

/** Binds `server` to `host:port`, or fails with an IoError naming them (before anything else is done). */
async function bind(server: Server | HttpsServer, host: string, port: number, flag: string): Promise<void> {
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      rejectListen(
        new IoError(`cannot listen on ${host}:${port}: ${why}`, {
          cause: err,
          data: { port, sysCode: err.code },
          persistence: 'permanent',
          hint: `choose another port with ${flag}, or stop what uses it`,
        }),
      );
    });
    server.listen(port, host, () => resolveListen());
  });
}

function portOf(server: Server | HttpsServer | undefined): number | undefined {
  const address = server?.address();
  return typeof address === 'object' && address !== null ? address.port : undefined;
}

/**
 * `msite serve`: one daemon per site home, with two fastify listeners and the scheduler.
 *
 * - The admin listener, plain HTTP on 127.0.0.1: the admin API (adminApi.ts).
 * - The peer listener, HTTPS with mutual TLS, for other sites only: each side presents the self-signed
 *   certificate made from its site key, and a request is served only when the client's key is one
 *   of shipping.conf's PEER keys (pinned by key, no CA); anything else gets 403 and a log line. It
 *   carries the packet receiver (packetReceiver.ts) and the requests between sites (peerRoutes.ts).
 *   A site without an identity (no `msite site init`) runs without it.
 *
 * While it runs, its row in site.db's `daemon_state` claims the site home, and `<home>/daemon.json`
 * says where the admin listener is.
 */
export class SiteDaemon {
  private stopped: Promise<void> | undefined;

  private constructor(
    readonly home: SiteHome,
    private readonly site: SiteDatabase,
    private readonly claim: DaemonClaim,
    readonly scheduler: Scheduler,
    readonly store: ScheduleStore,
    readonly logger: Logger,
    private readonly adminServer: Server,
    readonly admin: FastifyInstance,
    private readonly peerServer: HttpsServer | undefined,
    readonly peer: FastifyInstance | undefined,
    readonly receiver: PacketReceiver | undefined,
    readonly relays: RelayDeliveries,
    private readonly options: SiteDaemonOptions,
    readonly startedAt: number,
  ) {}

  /** The admin listener's port (the one picked when started with port 0). */
  get port(): number {
    return portOf(this.adminServer) ?? 0;
  }

  /** The peer listener's port; undefined when it does not run. */
  get peerPort(): number | undefined {
    return portOf(this.peerServer);
  }

  /** The admin listener. */
  get url(): string {
    return `http://${DAEMON_HOST}:${this.port}`;
  }

  /** The peer listener, as reached on loopback. */
  get peerUrl(): string | undefined {
    return this.peerPort === undefined ? undefined : `https://127.0.0.1:${this.peerPort}`;
  }

  /**
   * Starts the daemon: binds both listeners (a port in use fails before anything is created in the
   * home), claims the site home in site.db (daemonClaim.ts: one daemon per home, of two started at
   * once exactly one runs), writes daemon.json, starts the scheduler (which at once runs what was
   * missed while no daemon ran), and sends on the packets it holds for others.
   *
   * @throws StateError when another daemon serves the site home; IoError when a port is taken.
   */
  static async start(options: SiteDaemonOptions): Promise<SiteDaemon> {
    const { home } = options;
    // Looked at first for a clear answer (a taken port would hide it); the claim below decides.
    const holder = (): Pick<DaemonClaimInfo, 'pid' | 'port'> | undefined => {
      const other = existsSync(home.databaseFile) ? home.withDatabase((site) => liveDaemonClaim(site.db)) : undefined;
      // A daemon of an older msite says so in daemon.json only.
      return other ?? readDaemonFile(home.daemonFile);
    };
    const early = holder();
    if (early) throw daemonHeldError(home.dir, early);
    // Read only: the home is not created before both ports are bound.
    const settings: SiteSettings = existsSync(home.databaseFile) ? home.withDatabase(readSiteSettings) : {};
    const identity: SiteIdentity | undefined = loadSiteIdentity(home.dir);
    const peerPort = options.port ?? settings.port ?? DEFAULT_PEER_PORT;
    const adminPort = options.adminPort ?? (options.port === 0 ? 0 : (settings.adminPort ?? DEFAULT_ADMIN_PORT));
    checkPort(peerPort, '--port');
    checkPort(adminPort, '--admin-port');

    const adminServer = createServer();
    let peerServer: HttpsServer | undefined;
    try {
      await bind(adminServer, DAEMON_HOST, adminPort, '--admin-port');
      if (identity) {
        // Any client certificate is let through the handshake; the key check below decides, so that a
        // refused peer gets a clear answer rather than a reset connection.
        peerServer = createHttpsServer({ key: identity.key, cert: identity.cert, requestCert: true, rejectUnauthorized: false });
        await bind(peerServer, options.listen ?? settings.listen ?? DEFAULT_PEER_LISTEN, peerPort, '--port');
      }
    } catch (err) {
      adminServer.close();
      // A daemon that started meanwhile holds the ports: say so rather than "port in use".
      const late = holder();
      throw late ? daemonHeldError(home.dir, late) : err;
    }

    let site: SiteDatabase | undefined;
    let claim: DaemonClaim | undefined;
    let daemon: SiteDaemon;
    const clock = options.clock ?? systemClock;
    try {
      writingTo('create directory', home.dir, () => mkdirSync(home.dir, { recursive: true }));
      site = SiteDatabase.open(home.dir);
      claim = claimDaemon(site.db, home.dir, {
        port: portOf(adminServer),
        ...(portOf(peerServer) !== undefined ? { peerPort: portOf(peerServer) } : {}),
        since: clock.now(),
      });
      const logger =
        options.logger ?? createLogger({ level: options.logLevel ?? 'info', destination: join(home.logDir, 'msite-serve.log') });
      const store = ScheduleStore.open(site.db, { clock });
      const openSite = site;
      const scheduler = new Scheduler({
        store,
        home: home.dir,
        clock,
        logger,
        ...(options.spawner ? { spawner: options.spawner } : {}),
        ...(options.timeZone ? { timeZone: options.timeZone } : {}),
      });
      const startedAt = clock.now();
      const admin = Fastify({
        serverFactory: (handler) => adminServer.on('request', handler),
        bodyLimit: MAX_JSON_BODY_BYTES,
        frameworkErrors,
      });
      useMsiteHttp(admin);
      const ctx: AdminContext = {
        home: home.dir,
        scheduler,
        store,
        clock,
        startedAt,
        timeZone: options.timeZone,
        port: () => portOf(adminServer) ?? 0,
        peerPort: () => portOf(peerServer),
      };
      registerAdminRoutes(admin, () => ctx);
      registerMetricsRoute(admin, { home, site, store, clock, logger });
      registerDashboardRoutes(admin, { home, store, clock, timeZone: options.timeZone });
      await admin.ready();

      let peer: FastifyInstance | undefined;
      let receiver: PacketReceiver | undefined;
      const relays = new RelayDeliveries(home, openSite, logger);
      if (peerServer) {
        const server = peerServer;
        const peers = new PeerDirectory(home.shippingConfFile);
        const peerHost = new WeakMap<IncomingMessage, string>();
        const siteHost = settings.host;
        receiver = new PacketReceiver({
          homeDir: home.dir,
          logger,
          conf: () => peers.conf(),
          siteHost: () => siteHost,
          // A relay sends on at once what it stores for others; what fails waits for the next poll.
          onRelay: (orderPath) => relays.send([orderPath]),
          peerOf: (req) => peerHost.get(req),
          ...(options.diskReserveBytes !== undefined ? { diskReserveBytes: options.diskReserveBytes } : {}),
          now: () => clock.now(),
        });
        peer = Fastify({
          serverFactory: (handler) => server.on('request', handler) as unknown as Server,
          bodyLimit: MAX_JSON_BODY_BYTES,
          frameworkErrors,
        });
        useMsiteHttp(peer);
        peer.addHook('onRequest', async (req) => {
          const socket = req.raw.socket as TLSSocket;
          const key = certificateKeyText(socket.getPeerX509Certificate?.());
          let host: string | undefined;
          try {
            host = key === undefined ? undefined : peers.hostOf(key);
          } catch (err) {
            logger.error({ err: toMsiteError(err).message }, 'peer refused: shipping.conf cannot be read');
            throw err;
          }
          if (host === undefined) {
            logger.warn({ remote: socket.remoteAddress, publicKey: key, method: req.method, url: req.url }, 'peer refused: not a PEER key');
            throw new UnknownPeerError(key);
          }
          peerHost.set(req.raw, host);
        });
        receiver.register(peer);
        registerPeerRoutes(peer, { home, site: openSite, logger, peerOf: (req) => peerHost.get(req) });
        await peer.ready();
        await receiver.cleanUp();
      }
      daemon = new SiteDaemon(
        home,
        site,
        claim,
        scheduler,
        store,
        logger,
        adminServer,
        admin,
        peerServer,
        peer,
        receiver,
        relays,
        options,
        startedAt,
      );
    } catch (err) {
      claim?.release();
      site?.close();
      adminServer.close();
      peerServer?.close();
      throw err;
    }
    writeDaemonFile(home.daemonFile, {
      pid: process.pid,
      port: daemon.port,
      host: DAEMON_HOST,
      startedAt: isoTime(daemon.startedAt),
      ...(daemon.peerPort !== undefined ? { peerPort: daemon.peerPort } : {}),
      ...(processIdentity() ? { process: processIdentity() } : {}),
    });
    daemon.logger.info({ port: daemon.port, peerPort: daemon.peerPort, home: home.dir, pid: process.pid }, 'msite serve started');
    daemon.scheduler.start();
    // What a stop cut short, or a crash left, in the relay's outgoing bays goes on now.
    if (daemon.receiver) daemon.relays.send(relayedOrders(home.dir, settings.host));
    return daemon;
  }

  /**
   * Stops cleanly, within `stopGraceMs` (default 5 s) and a little more:
   *
   * - both listeners stop taking connections; packet uploads under way are cut at once (what arrived
   *   stays a partial upload outside the bays, and the sender resumes from it), while an upload whose
   *   every byte is in is checked and landed first (PacketReceiver.settled);
   * - no new job runs start; running ones get the grace period, then are ended (SIGTERM, then
   *   SIGKILL) and their ends recorded: an import ended so rolls back its transaction;
   * - relayed packets being sent on get the grace period, then are cut (resumable), their orders left
   *   as they were for the next start (relayDeliveries.ts);
   * - the claim on the site home is released, daemon.json removed, site.db closed.
   *
   * Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.logger.info({ running: this.scheduler.active().map((r) => r.jobId), relaying: this.relays.size }, 'msite serve stopping');
      const grace = this.options.stopGraceMs ?? 5_000;
      const servers = [this.adminServer, ...(this.peerServer ? [this.peerServer] : [])];
      const closed = Promise.all(servers.map((s) => new Promise<void>((resolveClose) => s.close(() => resolveClose()))));
      for (const s of servers) s.closeIdleConnections();
      this.peerServer?.closeAllConnections();
      await Promise.all([this.scheduler.stop(grace), this.relays.stop(grace), this.receiver?.settled()]);
      for (const s of servers) s.closeAllConnections();
      await closed;
      await this.admin.close();
      await this.peer?.close();
      // Landings that began while the relays stopped: none can start now, the listener is closed.
      await this.receiver?.settled();
      this.claim.release();
      removeDaemonFile(this.home.daemonFile);
      this.site.close();
      this.logger.info('msite serve stopped');
    })();
    return this.stopped;
  }
}
