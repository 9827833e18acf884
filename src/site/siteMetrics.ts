import { resolve } from 'node:path';
import { opsBehind } from '../replication/opsBehind.js';
import type { Database } from 'better-sqlite3';
import { lsepoch } from '../replication/epochCommands.js';
import { expandPacketPaths } from '../replication/importPackets.js';
import { incomingBays, siteShippingConf } from '../shipping/incomingBays.js';
import { ordersIn, readOrderFile } from '../shipping/orderFiles.js';
import { isReturnPacket } from '../shipping/receivePackets.js';
import { orderDirs } from '../shipping/storageBays.js';
import { replicaName } from '../vob/queries.js';
import { Vob } from '../vob/vob.js';
import type { SiteHome } from './siteHome.js';
import { SyncRecordTotals, type SyncTotal } from './syncRecordTotals.js';

/** The recorded durations of one kind of sync with one sibling, as a histogram. */
export interface RecordedDurations {
  count: number;
  sumSeconds: number;
  /** Cumulative: how many took at most DURATION_BUCKETS[i] seconds. */
  buckets: number[];
}

export interface SiblingMetrics {
  /** The sibling replica's name. */
  name: string;
  /** Ops this replica holds that the sibling lacks, by this replica's estimate (its lsepoch row). */
  opsBehind: number;
  /** When the last export to it was recorded (ms since the epoch). */
  lastExportAt?: number;
  /** When the last packet from it was imported here. */
  lastImportAt?: number;
  exports?: RecordedDurations;
  imports?: RecordedDurations;
}

export interface VobMetrics {
  tag: string;
  /** False when the VOB could not be opened or read: nothing else is known of it. */
  up: boolean;
  siblings: SiblingMetrics[];
  /** Automatic renames ever recorded (the `conflict` table). */
  conflicts: number;
  /** Types and replicas still under another name than their master gave them. */
  unresolvedConflicts: number;
}

export type OrderState = 'pending' | 'expired' | 'returning' | 'returned';

export interface HostDeliveries {
  /** The next hop's host. */
  host: string;
  delivered: number;
  failed: number;
  /** Sum of the sizes of the packets delivered. */
  packetBytes: number;
  /** Bytes the delivered attempts wrote on the wire. */
  wireBytes: number;
}

export interface JobRuns {
  id: number;
  name: string;
  runs: number;
  /** Runs that ended with an exit status other than 0. */
  failures: number;
}

/** What /metrics shows, read at one moment. */
export interface SiteMetrics {
  at: number;
  vobs: VobMetrics[];
  /** Packets waiting for import, by incoming bay directory. */
  waiting: { bay: string; packets: number }[];
  orders: Record<OrderState, number>;
  deliveries: HostDeliveries[];
  jobs: JobRuns[];
  /** False when shipping.conf cannot be read: bays and orders are then those of the defaults. */
  shippingConfUp: boolean;
}

function durations(t: SyncTotal): RecordedDurations {
  return { count: t.count, sumSeconds: t.sumMs / 1000, buckets: t.buckets };
}

function vobMetrics(tag: string, path: string, totals: SyncRecordTotals): VobMetrics {
  let vob: Vob;
  try {
    vob = Vob.open(path, { readonly: true });
  } catch {
    return { tag, up: false, siblings: [], conflicts: 0, unresolvedConflicts: 0 };
  }
  try {
    const self = replicaName(vob, vob.self);
    // The figure lsepoch shows: what this replica has applied (its own row) less the sibling's row.
    const rows = lsepoch(vob);
    const own = rows[self] ?? {};
    const siblings = new Map<string, SiblingMetrics>();
    for (const [name, row] of Object.entries(rows)) {
      if (name === self) continue;
      siblings.set(name, { name, opsBehind: opsBehind(own, row) });
    }
    for (const t of totals.read(vob)) {
      const name = replicaName(vob, t.replica);
      const s = siblings.get(name) ?? { name, opsBehind: 0 };
      siblings.set(name, s);
      if (t.kind === 'export') {
        s.lastExportAt = t.last;
        if (t.count > 0) s.exports = durations(t);
      } else if (t.kind === 'import') {
        s.lastImportAt = t.last;
        if (t.count > 0) s.imports = durations(t);
      }
    }
    const conflicts = vob.q('SELECT count(*) FROM conflict').pluck().get() as number;
    const unresolvedConflicts = vob
      .q('SELECT (SELECT count(*) FROM type WHERE name <> desired) + (SELECT count(*) FROM replica WHERE name <> desired)')
      .pluck()
      .get() as number;
    return { tag, up: true, siblings: [...siblings.values()], conflicts, unresolvedConflicts };
  } catch {
    return { tag, up: false, siblings: [], conflicts: 0, unresolvedConflicts: 0 };
  } finally {
    vob.close();
  }
}

/** Orders in the outgoing directories (pending, expired, returning) and in the return bays (returned). */
function orderCounts(homeDir: string, now: number): { orders: Record<OrderState, number>; confUp: boolean } {
  const orders: Record<OrderState, number> = { pending: 0, expired: 0, returning: 0, returned: 0 };
  let conf;
  let confUp = true;
  try {
    conf = siteShippingConf(homeDir);
  } catch {
    confUp = false;
    return { orders, confUp };
  }
  const { outgoing, returned } = orderDirs(homeDir, conf);
  for (const dir of outgoing) {
    for (const o of ordersIn(dir)) {
      let order;
      try {
        order = readOrderFile(o.orderPath);
      } catch {
        continue; // the shipping server reports an unreadable order; it is no state here
      }
      if (order.kind === 'return') orders.returning++;
      else if (order.expiresAt <= now) orders.expired++;
      else if (order.destinations.some((d) => d.state === 'pending')) orders.pending++;
    }
  }
  for (const dir of returned) orders.returned += ordersIn(dir).length;
  return { orders, confUp };
}

function waitingPackets(homeDir: string): { bay: string; packets: number }[] {
  try {
    return incomingBays(homeDir).map((bay) => ({ bay, packets: expandPacketPaths([bay]).filter((p) => !isReturnPacket(p)).length }));
  } catch {
    return [];
  }
}

/**
 * One delivery attempt to one hop is one row per destination it carried for (order_attempt): counted
 * once here, by order, hop and time.
 */
function deliveries(db: Database): HostDeliveries[] {
  return db
    .prepare(
      `SELECT host, sum(outcome = 'delivered') AS delivered, sum(outcome = 'failed') AS failed,
              sum(CASE WHEN outcome = 'delivered' THEN packet_bytes ELSE 0 END) AS packetBytes,
              sum(CASE WHEN outcome = 'delivered' THEN bytes ELSE 0 END) AS wireBytes
       FROM (SELECT DISTINCT order_name, coalesce(hop, destination) AS host, attempted_at, outcome,
                    coalesce(packet_bytes, 0) AS packet_bytes, coalesce(bytes, 0) AS bytes FROM order_attempt)
       GROUP BY host ORDER BY host`,
    )
    .all() as HostDeliveries[];
}

/** Runs by job: every job defined (0 runs until it runs) and every job that ran since (by its last name). */
function jobRuns(db: Database, defined: readonly { id?: number; name: string }[]): JobRuns[] {
  const ran = db
    .prepare(
      'SELECT job_id AS id, job_name AS name, max(seq) AS last, count(*) AS runs, sum(exit_status <> 0) AS failures FROM schedule_run GROUP BY job_id',
    )
    .all() as (JobRuns & { last: number })[];
  const byId = new Map<number, JobRuns>(ran.map((r) => [r.id, { id: r.id, name: r.name, runs: r.runs, failures: r.failures }]));
  for (const j of defined) {
    if (j.id === undefined) continue;
    const r = byId.get(j.id);
    byId.set(j.id, r ? { ...r, name: j.name } : { id: j.id, name: j.name, runs: 0, failures: 0 });
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/**
 * Reads what /metrics shows from where it is recorded: each registered VOB (opened read-only; one
 * that cannot be opened is `up: false` and does not stop the rest), the bays and order files, and
 * site.db's delivery attempts and job runs. `db` is the site's open database; `jobs` the jobs defined;
 * `totals` what earlier scrapes read of the VOBs' sync records (default none: every record is read).
 */
export function gatherSiteMetrics(
  home: SiteHome,
  db: Database,
  jobs: readonly { id?: number; name: string }[],
  now: number,
  totals: SyncRecordTotals = new SyncRecordTotals(),
): SiteMetrics {
  const registered = home.registry();
  totals.keepOnly(new Set(registered.map((r) => resolve(r.path))));
  const vobs = registered.map((r) => vobMetrics(r.tag, r.path, totals));
  const { orders, confUp } = orderCounts(home.dir, now);
  return {
    at: now,
    vobs,
    waiting: waitingPackets(home.dir),
    orders,
    deliveries: deliveries(db),
    jobs: jobRuns(db, jobs),
    shippingConfUp: confUp,
  };
}
