import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isoTime, systemClock, type Clock } from '../core/clock.js';
import { toMsiteError } from '../core/errors.js';
import { readPacketHeader } from '../packet/packetFile.js';
import { isSealedPacket } from '../packet/sealedPacket.js';
import { lsepoch } from '../replication/epochCommands.js';
import { actualRow } from '../replication/epochs.js';
import { opsBehind } from '../replication/opsBehind.js';
import { assessPacket, expandPacketPaths } from '../replication/importPackets.js';
import { jobStatus } from '../schedule/jobStatus.js';
import { ScheduleStore } from '../schedule/scheduleStore.js';
import { hostTimeZone } from '../schedule/timeZone.js';
import { incomingBays, siteShippingConf } from '../shipping/incomingBays.js';
import { ordersIn, type OrderInBay } from '../shipping/orderFiles.js';
import { readOrderFile } from '../shipping/orderFiles.js';
import { nextHop, type ShippingConf } from '../shipping/shippingConf.js';
import type { ShippingOrder } from '../shipping/shippingOrder.js';
import { classReturnBay, classStorageBays, INCOMING, orderDirs, OUTGOING } from '../shipping/storageBays.js';
import { replicaName } from '../vob/queries.js';
import { Vob } from '../vob/vob.js';
import type {
  DashboardConflict,
  DashboardLimits,
  DashboardLog,
  DashboardLogLine,
  DashboardOrder,
  DashboardPacket,
  DashboardPacketGroup,
  DashboardRoute,
  DashboardSibling,
  DashboardSnapshot,
  DashboardVob,
  DashboardJob,
} from './dashboardTypes.js';
import type { SiteDatabase } from './siteDatabase.js';
import type { SiteHome } from './siteHome.js';
import { readSiteSettings } from './siteSettings.js';

/**
 * Default caps of the long lists. A site may hold thousands of renames or packets; a page shows
 * the newest and counts the rest, which keeps the snapshot small and its reading fast.
 */
export const DEFAULT_DASHBOARD_LIMITS: DashboardLimits = { conflicts: 20, packetsPerState: 10, orders: 50, logLines: 40 };

/** The newest sync script logs shown. */
const SYNC_LOGS_SHOWN = 3;
/** Bytes read from the end of a log for its tail: enough for `logLines` lines of any sane length. */
const TAIL_BYTES = 64 * 1024;
/** The order in which packet states are listed: what needs attention first. */
const STATE_ORDER = ['deferred', 'importable', 'refused', 'sealed', 'not-applicable', 'already-applied'];
const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** Pino's own fields, left out of a log line's text. */
const PINO_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

export interface DashboardOptions {
  /** Caps of the long lists; default DEFAULT_DASHBOARD_LIMITS. */
  limits?: Partial<DashboardLimits>;
  clock?: Clock;
  /** IANA zone of the job times; default the host's. */
  timeZone?: string;
  /** The schedule store to read the jobs from (the daemon's); default one opened on the site database. */
  store?: ScheduleStore;
}

/** What one packet file was found to be, kept while the file (size, mtime) and the VOB's actual row stay the same. */
interface PacketFacts {
  stamp: string;
  /** The header's family, when the header reads and the packet is not sealed. */
  family: string | undefined;
  origin: string | null;
  /** For packets of no VOB here: their state and reason. */
  state: string;
  reason: string | null;
  /** The actual row the assessment was made against. */
  against: string | undefined;
}

function fileStamp(path: string): { stamp: string; size: number } | undefined {
  try {
    const s = statSync(path);
    return { stamp: `${s.size}:${s.mtimeMs}`, size: s.size };
  } catch {
    return undefined;
  }
}

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : isoTime(ms);
}

/** The last `count` lines of a text file, read from its end only. */
function tailLines(file: string, count: number): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(file).size;
    const length = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n');
    // A cut first line is a fragment: drop it unless the whole file was read.
    if (length < size) lines.shift();
    return lines.filter((l) => l.trim() !== '').slice(-count);
  } finally {
    closeSync(fd);
  }
}

/** A pino JSON line as time, level and text (its message and fields); any other line as it is. */
function logLine(line: string): DashboardLogLine {
  if (!line.startsWith('{')) return { time: null, level: null, text: line };
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const fields = Object.entries(o)
      .filter(([k]) => !PINO_FIELDS.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    const level = typeof o.level === 'number' ? (PINO_LEVELS[o.level] ?? String(o.level)) : typeof o.level === 'string' ? o.level : null;
    const time = typeof o.time === 'number' ? isoTime(o.time) : typeof o.time === 'string' ? o.time : null;
    return { time, level, text: [typeof o.msg === 'string' ? o.msg : '', ...fields].filter(Boolean).join(' ') };
  } catch {
    return { time: null, level: null, text: line };
  }
}

/** How this site reaches each host it knows (PEER lines and ROUTE destinations of every class). */
function routesOf(conf: ShippingConf, here: string | null): DashboardRoute[] {
  const hosts = new Set<string>(conf.peers.keys());
  for (const c of conf.classes.values()) for (const r of c.routes) for (const d of r.destinations) hosts.add(d);
  if (here !== null) hosts.delete(here);
  return [...hosts].sort().map((to) => {
    const hop = nextHop(conf, to);
    const via = hop === to ? null : hop;
    return { to, via, url: conf.peers.get(hop)?.url ?? null };
  });
}

/**
 * Reads the dashboard's snapshot of a site home, keeping what is costly to read again between
 * snapshots: each VOB's read-only connection, and what each packet in the bays was found to be
 * (its header read and signature checked once per file and actual row, not once per snapshot).
 * One reader per daemon. It reads site.db through `home.database()`, so the registry and the rest
 * come from one connection.
 */
export class DashboardReader {
  private readonly vobs = new Map<string, Vob>();
  /** Each VOB's part of the last snapshot, with the connection's data_version it was read at. */
  private readonly vobParts = new Map<string, { dataVersion: number; part: { actualKey: string; dashboard: DashboardVob } }>();
  private readonly timeZone: string;
  private readonly packets = new Map<string, PacketFacts>();
  private readonly orders = new Map<string, { stamp: string; order: ShippingOrder | undefined; error: string | undefined }>();
  private store: ScheduleStore | undefined;
  readonly limits: DashboardLimits;

  constructor(
    readonly home: SiteHome,
    private readonly options: DashboardOptions = {},
  ) {
    this.limits = { ...DEFAULT_DASHBOARD_LIMITS, ...options.limits };
    // Asked once: the host's zone costs a formatter each time.
    this.timeZone = options.timeZone ?? hostTimeZone();
  }

  /** The directories whose changes can change the snapshot: the home, its logs, the bays and each VOB's storage. */
  watchedDirs(): string[] {
    const dirs = new Set<string>([this.home.dir, this.home.logDir, join(this.home.logDir, 'sync_logs')]);
    try {
      const conf = siteShippingConf(this.home.dir);
      for (const cls of conf.classes.keys()) {
        for (const bay of classStorageBays(this.home.dir, conf, cls)) for (const sub of [INCOMING, OUTGOING]) dirs.add(join(bay, sub));
        const rtn = classReturnBay(this.home.dir, conf, cls);
        for (const sub of [INCOMING, OUTGOING]) dirs.add(join(rtn, sub));
      }
    } catch {
      // A broken shipping.conf: the snapshot says so; the home is still watched.
    }
    for (const path of this.vobs.keys()) dirs.add(path);
    return [...dirs].filter((d) => existsSync(d));
  }

  /** Reads the snapshot. Never throws for what it cannot read: `problems` and each VOB's `error` say what. */
  read(): DashboardSnapshot {
    const started = performance.now();
    const clock = this.options.clock ?? systemClock;
    const problems: string[] = [];
    const attempt = <T>(what: string, fn: () => T, fallback: T): T => {
      try {
        return fn();
      } catch (err) {
        problems.push(`${what}: ${toMsiteError(err).message}`);
        return fallback;
      }
    };
    const site = this.home.database();
    const host = attempt('site settings', () => readSiteSettings(site).host ?? null, null);
    const conf = attempt('shipping.conf', () => siteShippingConf(this.home.dir), undefined);
    const routes = conf ? routesOf(conf, host) : [];
    const vobs = this.readVobs(problems);
    const unmatched = this.assignPackets(vobs, problems);
    const orders = conf ? this.readOrders(site, conf) : { inFlight: [], inFlightCount: 0, returned: [], returnedCount: 0 };
    const jobs = attempt('schedule', () => this.readJobs(site, clock.now()), []);
    const logs = this.readLogs();
    const snapshot: DashboardSnapshot = {
      generatedAt: isoTime(clock.now()),
      readMs: 0,
      site: { home: this.home.dir, host },
      limits: this.limits,
      routes,
      vobs: vobs.map((v) => v.dashboard),
      unmatchedPackets: unmatched,
      orders,
      jobs,
      logs,
      problems,
    };
    snapshot.readMs = Math.round((performance.now() - started) * 10) / 10;
    return snapshot;
  }

  /** Closes the VOBs the reader holds open, and the home's database (`home.database()`, which it reads through). */
  close(): void {
    for (const vob of this.vobs.values()) vob.close();
    this.vobs.clear();
    this.vobParts.clear();
    this.home.close();
  }

  private vob(path: string): Vob {
    let vob = this.vobs.get(path);
    if (!vob) {
      vob = Vob.open(path, { readonly: true });
      this.vobs.set(path, vob);
    }
    return vob;
  }

  private readVobs(problems: string[]): { vob: Vob | undefined; actualKey: string; dashboard: DashboardVob }[] {
    let registrations;
    try {
      registrations = this.home.registrations();
    } catch (err) {
      problems.push(`VOB registry: ${toMsiteError(err).message}`);
      return [];
    }
    const registered = new Set(registrations.map((r) => r.path));
    for (const [path, vob] of this.vobs) {
      if (!registered.has(path)) {
        vob.close();
        this.vobs.delete(path);
        this.vobParts.delete(path);
      }
    }
    return registrations.map((r) => {
      const empty: DashboardVob = {
        tag: r.tag,
        path: r.path,
        family: null,
        replica: null,
        replicas: [],
        actualRow: {},
        siblings: [],
        packets: [],
        openConflicts: 0,
        conflictCount: 0,
        conflicts: [],
      };
      if (r.state === 'creating') return { vob: undefined, actualKey: '', dashboard: { ...empty, error: 'being created' } };
      try {
        const vob = this.vob(r.path);
        // data_version changes only when another connection commits: an unchanged VOB is not read again.
        const dataVersion = vob.db.pragma('data_version', { simple: true }) as number;
        const cached = this.vobParts.get(r.path);
        if (cached?.dataVersion === dataVersion && cached.part.dashboard.tag === r.tag) {
          return { vob, actualKey: cached.part.actualKey, dashboard: { ...cached.part.dashboard, packets: [] } };
        }
        const read = this.readVob(vob, r.tag, empty);
        this.vobParts.set(r.path, { dataVersion, part: read });
        return read;
      } catch (err) {
        this.vobs.get(r.path)?.close();
        this.vobs.delete(r.path);
        this.vobParts.delete(r.path);
        return { vob: undefined, actualKey: '', dashboard: { ...empty, error: toMsiteError(err).message } };
      }
    });
  }

  private readVob(vob: Vob, tag: string, empty: DashboardVob): { vob: Vob; actualKey: string; dashboard: DashboardVob } {
    // One read transaction: every figure of the VOB from the same moment.
    return vob.db.transaction(() => {
      const self = replicaName(vob, vob.self);
      const replicas = vob.q('SELECT oid, name, host FROM replica WHERE removed = 0 ORDER BY created_at, oid').all() as {
        oid: string;
        name: string;
        host: string;
      }[];
      const rows = lsepoch(vob);
      const actual = rows[self] ?? {};
      const last = new Map<string, number>();
      for (const s of vob.q('SELECT kind, replica, max(at) AS at FROM sync_record GROUP BY kind, replica').all() as {
        kind: string;
        replica: string;
        at: number;
      }[]) {
        last.set(`${s.kind}:${s.replica}`, s.at);
      }
      const siblings: DashboardSibling[] = replicas
        .filter((r) => r.oid !== vob.self)
        .map((r) => ({
          replica: r.name,
          host: r.host,
          row: rows[r.name] ?? {},
          lagOps: opsBehind(actual, rows[r.name] ?? {}),
          lastImportAt: iso(last.get(`import:${r.oid}`)),
          lastExportAt: iso(last.get(`export:${r.oid}`)),
        }));
      const { open, count, newest } = this.readConflicts(vob, tag);
      return {
        vob,
        // By origin OID, as assessPacket reads it (lsepoch's rows are by name).
        actualKey: JSON.stringify(actualRow(vob)),
        dashboard: {
          ...empty,
          family: vob.family,
          replica: self,
          replicas: replicas.map((r) => ({ name: r.name, host: r.host, self: r.oid === vob.self })),
          actualRow: actual,
          siblings,
          openConflicts: open,
          conflictCount: count,
          conflicts: newest,
        },
      };
    })();
  }

  private readConflicts(vob: Vob, tag: string): { open: number; count: number; newest: DashboardConflict[] } {
    const count = vob.q('SELECT count(*) FROM conflict').pluck().get() as number;
    if (count === 0) return { open: 0, count, newest: [] };
    // An object renamed here is settled once its local name is the one its master gives it.
    const open = vob
      .q(
        `SELECT count(*) FROM (SELECT DISTINCT kind, oid FROM conflict) c
         LEFT JOIN type t ON c.kind <> 'replica' AND t.oid = c.oid
         LEFT JOIN replica r ON c.kind = 'replica' AND r.oid = c.oid
         WHERE coalesce(t.name <> t.desired, r.name <> r.desired, 0)`,
      )
      .pluck()
      .get() as number;
    const rows = vob
      .q(
        `SELECT c.kind, c.oid, c.original_name, c.local_name, c.creator, c.at,
                coalesce(t.name, r.name) AS name, coalesce(t.desired, r.desired) AS desired, coalesce(t.master, r.master) AS master
         FROM conflict c
         LEFT JOIN type t ON c.kind <> 'replica' AND t.oid = c.oid
         LEFT JOIN replica r ON c.kind = 'replica' AND r.oid = c.oid
         ORDER BY c.seq DESC LIMIT ?`,
      )
      .all(this.limits.conflicts) as {
      kind: string;
      oid: string;
      original_name: string;
      local_name: string;
      creator: string;
      at: number;
      name: string | null;
      desired: string | null;
      master: string | null;
    }[];
    const hostOf = new Map(
      (vob.q('SELECT oid, name, host FROM replica').all() as { oid: string; name: string; host: string }[]).map((r) => [r.oid, r]),
    );
    const newest = rows.map((c): DashboardConflict => {
      const creator = hostOf.get(c.creator)?.name ?? c.creator;
      const master = c.master ? (hostOf.get(c.master) ?? { name: c.master, host: '?' }) : { name: creator, host: '?' };
      const resolved = c.name !== null && c.name === c.desired;
      const atMaster = c.desired ?? c.original_name;
      // Seed 002's remedy: the master renames its object to a name of its own, then sends the
      // update, so every replica gives the object one name and the clash is gone.
      const newName = `${c.original_name}_${creator}`;
      return {
        kind: c.kind,
        oid: c.oid,
        originalName: c.original_name,
        localName: c.name ?? c.local_name,
        creator,
        at: isoTime(c.at),
        master: master.name,
        masterHost: master.host,
        resolved,
        remedy: resolved ? [] : [`msite rename --vob ${tag} ${c.kind}:${atMaster} ${newName}`, `msite sync_export_list --replicas ${tag}`],
      };
    });
    return { open, count, newest };
  }

  /**
   * Puts each packet of the incoming bays with the VOB of its family, judged as lspacket and import
   * judge it (assessPacket); returns the groups of packets no VOB here takes (sealed, unreadable, of
   * another family).
   */
  private assignPackets(
    vobs: { vob: Vob | undefined; actualKey: string; dashboard: DashboardVob }[],
    problems: string[],
  ): DashboardPacketGroup[] {
    let files: string[];
    try {
      files = expandPacketPaths(incomingBays(this.home.dir));
    } catch (err) {
      problems.push(`storage bays: ${toMsiteError(err).message}`);
      return [];
    }
    const byFamily = new Map<string, { vob: Vob; actualKey: string; dashboard: DashboardVob }>();
    for (const v of vobs) if (v.vob && v.dashboard.family) byFamily.set(v.dashboard.family, { ...v, vob: v.vob });
    const groups = new Map<DashboardVob | undefined, Map<string, DashboardPacketGroup>>();
    const seen = new Set<string>();
    for (const path of files) {
      const st = fileStamp(path);
      if (!st) continue;
      seen.add(path);
      let facts = this.packets.get(path);
      if (!facts || facts.stamp !== st.stamp) {
        facts = this.packetFacts(path, st.stamp);
        this.packets.set(path, facts);
      }
      const target = facts.family !== undefined ? byFamily.get(facts.family) : undefined;
      if (target && facts.against !== target.actualKey) {
        try {
          const a = assessPacket(target.vob, path, JSON.parse(target.actualKey) as Record<string, number>);
          facts.state = a.state;
          facts.reason = a.reason ?? null;
        } catch (err) {
          // Taken by an import while it was read, say: shown as it is, and judged again next time.
          facts.state = 'refused';
          facts.reason = toMsiteError(err).message;
        }
        facts.against = target.actualKey;
      }
      const key = target?.dashboard;
      let byState = groups.get(key);
      if (!byState) groups.set(key, (byState = new Map()));
      let group = byState.get(facts.state);
      if (!group) byState.set(facts.state, (group = { state: facts.state, count: 0, packets: [] }));
      group.count++;
      if (group.packets.length < this.limits.packetsPerState) {
        const p: DashboardPacket = { name: basename(path), bay: dirname(path), size: st.size, origin: facts.origin, reason: facts.reason };
        group.packets.push(p);
      }
    }
    for (const path of this.packets.keys()) if (!seen.has(path)) this.packets.delete(path);
    const sorted = (m: Map<string, DashboardPacketGroup> | undefined): DashboardPacketGroup[] =>
      [...(m?.values() ?? [])].sort((a, b) => rank(a.state) - rank(b.state));
    for (const v of vobs) v.dashboard.packets = sorted(groups.get(v.dashboard));
    return sorted(groups.get(undefined));
  }

  private packetFacts(path: string, stamp: string): PacketFacts {
    if (isSealedPacket(path)) {
      return {
        stamp,
        family: undefined,
        origin: null,
        state: 'sealed',
        reason: 'sealed for this site: the import opens it',
        against: undefined,
      };
    }
    try {
      const h = readPacketHeader(path);
      return {
        stamp,
        family: h.family,
        origin: h.originName,
        state: 'not-applicable',
        reason: `of VOB family ${h.family}, which has no replica at this site`,
        against: undefined,
      };
    } catch (err) {
      return { stamp, family: undefined, origin: null, state: 'refused', reason: toMsiteError(err).message, against: undefined };
    }
  }

  private order(o: OrderInBay): { order: ShippingOrder | undefined; error: string | undefined } {
    const st = fileStamp(o.orderPath);
    const cached = this.orders.get(o.orderPath);
    if (cached && st && cached.stamp === st.stamp) return cached;
    let entry: { stamp: string; order: ShippingOrder | undefined; error: string | undefined };
    try {
      entry = { stamp: st?.stamp ?? '', order: readOrderFile(o.orderPath), error: undefined };
    } catch (err) {
      entry = { stamp: st?.stamp ?? '', order: undefined, error: toMsiteError(err).message };
    }
    this.orders.set(o.orderPath, entry);
    return entry;
  }

  private readOrders(site: SiteDatabase, conf: ShippingConf): DashboardSnapshot['orders'] {
    const { outgoing, returned } = orderDirs(this.home.dir, conf);
    const list = (dirs: readonly string[]): OrderInBay[] => dirs.flatMap((d) => ordersIn(d));
    const inFlight = list(outgoing);
    const back = list(returned);
    const seen = new Set([...inFlight, ...back].map((o) => o.orderPath));
    for (const path of this.orders.keys()) if (!seen.has(path)) this.orders.delete(path);
    const lastAttempt = site.db.prepare('SELECT max(attempted_at) FROM order_attempt WHERE order_name = ?').pluck();
    const shown = (orders: OrderInBay[]): DashboardOrder[] =>
      orders.slice(0, this.limits.orders).map((o) => {
        const { order, error } = this.order(o);
        const name = basename(o.packetPath);
        if (!order) {
          return {
            packet: name,
            bay: dirname(o.orderPath),
            size: fileStamp(o.packetPath)?.size ?? 0,
            createdAt: '',
            expiresAt: '',
            destinations: [{ host: '?', state: 'unreadable', attempts: 0, lastError: error ?? null, nextTry: null }],
            lastAttemptAt: null,
          };
        }
        return {
          packet: name,
          bay: dirname(o.orderPath),
          size: order.size,
          createdAt: isoTime(order.createdAt),
          expiresAt: isoTime(order.expiresAt),
          destinations: order.destinations.map((d) => ({
            host: d.host,
            state: d.state,
            attempts: d.attempts,
            lastError: d.lastError ?? null,
            nextTry: iso(d.nextTry),
          })),
          lastAttemptAt: iso(lastAttempt.get(basename(o.orderPath)) as number | null),
          ...(order.returned ? { undelivered: order.returned.undelivered } : {}),
        };
      });
    return { inFlight: shown(inFlight), inFlightCount: inFlight.length, returned: shown(back), returnedCount: back.length };
  }

  private readJobs(site: SiteDatabase, now: number): DashboardJob[] {
    this.store ??= this.options.store ?? ScheduleStore.open(site.db);
    const store = this.store;
    return store.getJobs().map((j) => {
      const s = jobStatus(store, j.id!, now, this.timeZone);
      const c = s.lastCompletion;
      return {
        id: s.id,
        name: s.name,
        state: s.state,
        task: s.task,
        nextStart: s.nextStart,
        running: s.running !== null,
        lastCompletion: c
          ? { started: c.started ?? null, ended: c.ended ?? null, exitStatus: c.exitStatus ?? null, messages: c.messages ?? null }
          : null,
      };
    });
  }

  private readLogs(): DashboardLog[] {
    const n = this.limits.logLines;
    const logs: DashboardLog[] = [];
    const serve = join(this.home.logDir, 'msite-serve.log');
    if (existsSync(serve)) logs.push({ name: 'shipping server', file: serve, lines: tailLines(serve, n).map(logLine) });
    const syncDir = join(this.home.logDir, 'sync_logs');
    let names: string[] = [];
    try {
      names = readdirSync(syncDir).filter((f) => f.endsWith('.log'));
    } catch {
      // No sync script has kept a log yet.
    }
    const newest = names
      .map((f) => ({ f, at: statSync(join(syncDir, f), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => b.at - a.at || b.f.localeCompare(a.f))
      .slice(0, SYNC_LOGS_SHOWN);
    for (const { f } of newest) logs.push({ name: f, file: join(syncDir, f), lines: tailLines(join(syncDir, f), n).map(logLine) });
    return logs;
  }
}

function rank(state: string): number {
  const i = STATE_ORDER.indexOf(state);
  return i < 0 ? STATE_ORDER.length : i;
}

/**
 * The dashboard's snapshot of the site in `home`, read once: every VOB (opened read-only), the bays,
 * orders, jobs and logs. A daemon keeps a DashboardReader instead, which keeps what is costly to
 * read again.
 */
export function dashboardState(home: SiteHome, options: DashboardOptions = {}): DashboardSnapshot {
  const reader = new DashboardReader(home, options);
  try {
    return reader.read();
  } finally {
    reader.close();
  }
}
