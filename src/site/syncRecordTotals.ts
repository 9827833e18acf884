import type { Vob } from '../vob/vob.js';

/**
 * Upper bounds (seconds) of the import and export duration histograms: from a status packet
 * (milliseconds) to a replica's first big update (minutes).
 */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** What a VOB's sync_record holds for one kind (`export`, `import`) and one sibling (by OID). */
export interface SyncTotal {
  kind: string;
  replica: string;
  /** The newest record's time (ms since the epoch). */
  last: number;
  /** Records with a duration (those written before durations were recorded have none). */
  count: number;
  sumMs: number;
  /** Cumulative: records that took at most DURATION_BUCKETS[i] seconds. */
  buckets: number[];
}

interface Row {
  kind: string;
  replica: string;
  last: number;
  n: number;
  total: number;
  [bucket: `b${number}`]: number;
}

/** SQLite counts the buckets, so a scrape reads a few rows of numbers, not the records. */
const QUERY = `SELECT kind, replica, max(at) AS last, count(duration_ms) AS n, coalesce(sum(duration_ms), 0) AS total, ${DURATION_BUCKETS.map(
  (b, i) => `coalesce(sum(duration_ms <= ${b * 1000}), 0) AS b${i}`,
).join(', ')} FROM sync_record WHERE seq > ? AND seq <= ? GROUP BY kind, replica`;

interface Held {
  /** The replica and its incarnation: a VOB restored or re-made under the same path starts again. */
  identity: string;
  seq: number;
  totals: Map<string, SyncTotal>;
}

/**
 * The sync_record totals of each VOB, kept between scrapes by the daemon: records are only ever
 * appended (seq grows), so each scrape reads only those newer than the last it saw. A VOB exporting
 * to three siblings every minute adds one and a half million records a year; a scrape that read
 * them all would grow with them (the first scrape after a start still does).
 *
 * The totals start again from the first record when the VOB's replica or incarnation changes or its
 * newest seq falls (a backup restored): what the counters then show is a reset, as Prometheus reads it.
 */
export class SyncRecordTotals {
  private readonly held = new Map<string, Held>();

  /** The totals of `vob`'s records, by kind and sibling. */
  read(vob: Vob): SyncTotal[] {
    const identity = `${vob.self} ${vob.meta('incarnation') ?? ''}`;
    const newest = vob.q('SELECT coalesce(max(seq), 0) FROM sync_record').pluck().get() as number;
    let h = this.held.get(vob.dir);
    if (!h || h.identity !== identity || newest < h.seq) {
      h = { identity, seq: 0, totals: new Map() };
      this.held.set(vob.dir, h);
    }
    if (newest > h.seq) {
      for (const r of vob.q(QUERY).all(h.seq, newest) as Row[]) {
        const key = `${r.kind} ${r.replica}`;
        const t = h.totals.get(key) ?? {
          kind: r.kind,
          replica: r.replica,
          last: r.last,
          count: 0,
          sumMs: 0,
          buckets: DURATION_BUCKETS.map(() => 0),
        };
        t.last = Math.max(t.last, r.last);
        t.count += r.n;
        t.sumMs += r.total;
        t.buckets = t.buckets.map((n, i) => n + (r[`b${i}`] ?? 0));
        h.totals.set(key, t);
      }
      h.seq = newest;
    }
    return [...h.totals.values()];
  }

  /** Forgets every VOB but those in `dirs` (the ones still registered). */
  keepOnly(dirs: ReadonlySet<string>): void {
    for (const dir of this.held.keys()) if (!dirs.has(dir)) this.held.delete(dir);
  }
}
