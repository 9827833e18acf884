import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import { mkvob } from '../src/replication/mkvob.js';
import { checkin, checkout } from '../src/vob/commands/checkouts.js';
import { mkelem } from '../src/vob/commands/elements.js';
import { importVersions } from '../src/vob/commands/importVersions.js';
import { resolvePath } from '../src/vob/resolvePath.js';
import { DB_FILE, Vob } from '../src/vob/vob.js';
import type { History, HistoryStep } from './history.js';

/**
 * How the bench VOBs commit: `full` fsyncs every commit (the library's default). Printed with the
 * figures, since the rates depend on it.
 */
export const LOAD_SYNCHRONOUS = 'full' as const;

/**
 * A new VOB family whose first replica, `origin`, has a signing key (mkvob), so it can make sibling
 * replicas and sign update packets. Nothing else in it yet: see addElements.
 */
export function createBenchVob(dir: string, tag: string): Vob {
  return mkvob(dir, { tag, replicaName: 'origin', synchronous: LOAD_SYNCHRONOUS });
}

/**
 * Creates every directory and file element of the history (files get only their empty /main/0),
 * so each history step is a new version (a checkout + checkin, or one mkversion) and the first
 * step of a file is its /main/1, as git's first commit of the file is. One transaction: this is setup, not what is measured.
 */
export function addElements(vob: Vob, history: History): void {
  vob.transaction(() => {
    for (const d of history.dirs) mkelem(vob, d, { kind: 'directory', auto: true });
    for (const p of history.paths) mkelem(vob, p, { kind: 'file', auto: true });
  });
}

/** createBenchVob + addElements: a VOB ready for the history's checkouts and checkins. */
export function setupVob(dir: string, history: History, tag: string): Vob {
  const vob = createBenchVob(dir, tag);
  addElements(vob, history);
  return vob;
}

function checkoutCheckin(vob: Vob, history: History, step: HistoryStep): void {
  const path = history.paths[step.file]!;
  checkout(vob, path);
  checkin(vob, path, { content: step.content, comment: step.comment });
}

/** One durable transaction (one fsync'd commit) per checkout + checkin, as an interactive user gets. */
export function loadDurable(vob: Vob, history: History, count: number): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const step = history.steps[i]!;
    vob.transaction(() => checkoutCheckin(vob, history, step));
  }
  return (performance.now() - start) / 1000;
}

export interface BulkResult {
  seconds: number;
  /** CPU time (user + system) of this process over the load: steadier than wall time on a busy machine. */
  cpuSeconds: number;
  /** Resident set size before the first batch, in bytes. */
  rssBefore: number;
  /** Highest resident set size seen after a batch, in bytes. */
  peakRss: number;
  /** Checkins per second over each tenth of the history: shows whether cost grows with the VOB. */
  tenthRates: number[];
}

/**
 * The bulk loader: importVersions, the library's bulk path (one mkversion op per version),
 * `batch` versions per transaction. Timed per tenth of the history, so growth with size shows.
 */
export function loadBulk(vob: Vob, history: History, batch: number): BulkResult {
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  const steps = history.steps;
  const tenth = Math.max(1, Math.ceil(steps.length / 10));
  const tenthRates: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < steps.length; i += tenth) {
    const from = performance.now();
    const part = steps.slice(i, i + tenth).map((s) => ({ path: history.paths[s.file]!, content: s.content, comment: s.comment }));
    importVersions(vob, part, { batch });
    tenthRates.push(part.length / ((performance.now() - from) / 1000));
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssBefore, peakRss, tenthRates };
}

/**
 * Reopens the loaded VOB and checks it holds the history: one file version per step, and the last
 * bytes of a few files equal what the history ended with. A benchmark of a loader that dropped data
 * would be worthless, so this fails loudly.
 */
export function verifyVob(dir: string, history: History, sampleFiles: number[]): void {
  const vob = Vob.open(dir);
  try {
    const fileVersions = vob.db
      .prepare(
        `SELECT COUNT(*) FROM version v JOIN branch b ON b.oid = v.branch JOIN element e ON e.oid = b.element
         WHERE e.kind = 'file' AND v.number > 0`,
      )
      .pluck()
      .get() as number;
    if (fileVersions !== history.steps.length) throw new Error(`VOB has ${fileVersions} file versions, expected ${history.steps.length}`);
    for (const file of sampleFiles) {
      const expected = lastContent(history, file);
      const r = resolvePath(vob, history.paths[file]!);
      const actual = r.version?.content ? vob.pool.get(r.version.content) : undefined;
      if (expected && (!actual || !actual.equals(expected)))
        throw new Error(`VOB content of ${history.paths[file]!} differs from the history`);
    }
  } finally {
    vob.close();
  }
}

export function lastContent(history: History, file: number): Buffer | undefined {
  for (let i = history.steps.length - 1; i >= 0; i--) if (history.steps[i]!.file === file) return history.steps[i]!.content;
  return undefined;
}

export interface TableUsage {
  name: string;
  /** Table or index, from sqlite_master. */
  type: string;
  pages: number;
  bytes: number;
  payload: number;
  unused: number;
  rows: number | undefined;
}

/** Where the database's bytes go, per table and index, from SQLite's dbstat virtual table. */
export function tableUsage(dir: string): TableUsage[] {
  const db = new BetterSqlite3(join(dir, DB_FILE), { readonly: true });
  try {
    const kinds = new Map(
      (db.prepare('SELECT name, type FROM sqlite_master').all() as { name: string; type: string }[]).map((r) => [r.name, r.type]),
    );
    const rows = db
      .prepare(
        `SELECT name, COUNT(*) AS pages, SUM(pgsize) AS bytes, SUM(payload) AS payload, SUM(unused) AS unused
         FROM dbstat GROUP BY name ORDER BY bytes DESC`,
      )
      .all() as { name: string; pages: number; bytes: number; payload: number; unused: number }[];
    return rows.map((r) => {
      const type = kinds.get(r.name) ?? (r.name.startsWith('sqlite_autoindex_') ? 'index' : 'other');
      const rowCount = type === 'table' ? (db.prepare(`SELECT COUNT(*) FROM "${r.name}"`).pluck().get() as number) : undefined;
      return { ...r, type, rows: rowCount };
    });
  } finally {
    db.close();
  }
}
