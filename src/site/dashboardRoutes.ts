import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Clock } from '../core/clock.js';
import { NotFoundError, toMsiteError } from '../core/errors.js';
import type { ScheduleStore } from '../schedule/scheduleStore.js';
import { DashboardReader } from './dashboardState.js';
import type { DashboardSnapshot } from './dashboardTypes.js';
import { errorBody, refuseOtherMethods } from './httpErrors.js';
import type { SiteHome } from './siteHome.js';

/** Quiet time after a file change before the snapshot is read again: a commit touches several files at once. */
const DEBOUNCE_MS = 150;
/** The fallback when a change is not seen by fs.watch (another file system, a bay outside the home). */
const POLL_MS = 3_000;
/** A comment line this often keeps proxies and browsers from closing an idle event stream. */
const KEEPALIVE_MS = 15_000;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
/** A built asset's file name: Vite's `name-hash.ext`; nothing that could climb out of the assets directory. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

export interface DashboardContext {
  home: SiteHome;
  store: ScheduleStore;
  clock: Clock;
  timeZone: string | undefined;
  /** The built front-end; default `dist/web` of the package this module is in (see webRoot). */
  webRoot?: string;
}

/**
 * The front-end Vite builds (`npm run build`) into `dist/web` of the package: found from this
 * module's place, whether it runs built (dist/src/site) or from the sources (src/site), by going up
 * to the directory holding package.json.
 */
export function webRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dir, 'dist', 'web');
}

/** Everything in a snapshot but when and how fast it was read: two equal keys, nothing to tell the browsers. */
function contentKey(s: DashboardSnapshot): string {
  return JSON.stringify({ ...s, generatedAt: '', readMs: 0 });
}

/**
 * The live side of the dashboard: one reader for every browser, reading again when a watched
 * directory changes (debounced) or the poll comes, and sending a `snapshot` event to every open
 * stream when what it reads differs from what was sent. It watches only while a stream is open.
 */
class DashboardFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly watchers = new Map<string, FSWatcher>();
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private lastKey = '';
  private last: DashboardSnapshot | undefined;

  constructor(readonly reader: DashboardReader) {}

  /** The current snapshot, read now. */
  read(): DashboardSnapshot {
    const s = this.reader.read();
    this.last = s;
    return s;
  }

  subscribe(res: ServerResponse): void {
    this.clients.add(res);
    res.on('close', () => this.unsubscribe(res));
    try {
      const s = this.clients.size === 1 || !this.last ? this.read() : this.last;
      this.lastKey = contentKey(s);
      send(res, 'snapshot', s);
    } catch (err) {
      // The stream stays open: the next change or poll sends a snapshot once the site reads again.
      send(res, 'problem', errorBody(toMsiteError(err)));
    }
    if (this.clients.size === 1) this.start();
  }

  private unsubscribe(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stopWatching();
  }

  private start(): void {
    this.watchDirs();
    this.poll = setInterval(() => this.refresh(), POLL_MS);
    this.keepalive = setInterval(() => {
      for (const c of this.clients) c.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    this.poll.unref();
    this.keepalive.unref();
  }

  /** Watches the reader's directories, adding those that appeared since (a bay made by the first delivery). */
  private watchDirs(): void {
    for (const dir of this.reader.watchedDirs()) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.changed());
        w.on('error', () => {
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        // Gone between listing and watching, or out of watches: the poll still sees its changes.
      }
    }
  }

  private changed(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.refresh(), DEBOUNCE_MS);
    this.debounce.unref();
  }

  private refresh(): void {
    if (this.clients.size === 0) return;
    let s: DashboardSnapshot;
    try {
      s = this.read();
    } catch (err) {
      // Called from a timer: a failure must not end the daemon. The browsers hear of it; the poll tries again.
      for (const c of this.clients) send(c, 'problem', errorBody(toMsiteError(err)));
      return;
    }
    const key = contentKey(s);
    if (key !== this.lastKey) {
      this.lastKey = key;
      for (const c of this.clients) send(c, 'snapshot', s);
    }
    this.watchDirs();
  }

  private stopWatching(): void {
    clearTimeout(this.debounce);
    clearInterval(this.poll);
    clearInterval(this.keepalive);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  close(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.stopWatching();
    this.reader.close();
  }
}

function send(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function unavailable(reply: FastifyReply, root: string): FastifyReply {
  return reply
    .code(503)
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><meta charset="utf-8"><title>msite dashboard not built</title>` +
        `<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">` +
        `<h1>The dashboard is not built</h1><p>Its files are not in <code>${root.replace(/[&<>]/g, '')}</code>. ` +
        `Run <code>npm run build</code> in msite's directory, then reload. The API answers meanwhile: ` +
        `<a href="/api/dashboard">/api/dashboard</a>.</p></body>`,
    );
}

/**
 * The dashboard on the admin listener:
 * - `GET /api/dashboard`: the site's snapshot (dashboardTypes.ts). Long lists are capped, with counts:
 *   `limits` says how many of each are listed.
 * - `GET /api/events`: server-sent events; a `snapshot` event at once, then one each time what the
 *   snapshot says changes (file changes seen by fs.watch, debounced, and a poll every 3 s); a
 *   `problem` event (`{"error": …}`) when the site cannot be read.
 * - `GET /` and `GET /assets/FILE`: the built front-end; 503 with a page naming `npm run build`
 *   when it is not built.
 */
export function registerDashboardRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const feed = new DashboardFeed(new DashboardReader(ctx.home, { store: ctx.store, clock: ctx.clock, timeZone: ctx.timeZone }));
  const root = ctx.webRoot ?? webRoot();
  app.addHook('onClose', async () => feed.close());

  app.get('/api/dashboard', () => feed.read());
  app.get('/api/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // A browser that lost the stream tries again after this long.
    });
    res.write('retry: 2000\n\n');
    feed.subscribe(res);
    req.raw.on('close', () => res.end());
  });
  app.get('/', (_req, reply) => {
    const index = join(root, 'index.html');
    if (!existsSync(index)) return unavailable(reply, root);
    return reply.type(CONTENT_TYPES['.html']!).header('cache-control', 'no-cache').send(readFileSync(index));
  });
  app.get<{ Params: { file: string } }>('/assets/:file', (req, reply) => {
    const name = req.params.file;
    const type = CONTENT_TYPES[extname(name)];
    const file = join(root, 'assets', name);
    if (!ASSET_NAME.test(name) || name.includes('..') || type === undefined || !existsSync(file)) {
      throw new NotFoundError('file', `/assets/${name}`);
    }
    // Vite puts a content hash in every asset's name: a name never changes its bytes.
    return reply.type(type).header('cache-control', 'public, max-age=31536000, immutable').send(readFileSync(file));
  });
  for (const url of ['/api/dashboard', '/api/events', '/', '/assets/:file']) refuseOtherMethods(app, url, ['GET']);
}
