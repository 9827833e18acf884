import type { Vob } from '../vob/vob.js';

/** Oplog ids by origin replica OID: a row of the epoch matrix. */
export type EpochRow = Record<string, number>;

/**
 * The epoch matrix of this replica. Its own row is what it has actually applied from each origin;
 * every other row is its estimate of what that sibling has applied. Stored in the `epoch` table.
 */
export function epochRow(vob: Vob, replica: string): EpochRow {
  const rows = vob.q('SELECT origin, id FROM epoch WHERE replica = ?').all(replica) as { origin: string; id: number }[];
  return Object.fromEntries(rows.map((r) => [r.origin, r.id]));
}

/** This replica's actual row. */
export function actualRow(vob: Vob): EpochRow {
  return epochRow(vob, vob.self);
}

/** Every row this replica holds, by replica OID (its own included). */
export function epochMatrix(vob: Vob): Record<string, EpochRow> {
  const rows = vob.q('SELECT replica, origin, id FROM epoch ORDER BY replica, origin').all() as {
    replica: string;
    origin: string;
    id: number;
  }[];
  const out: Record<string, EpochRow> = {};
  for (const r of rows) (out[r.replica] ??= {})[r.origin] = r.id;
  return out;
}

/** Sets entries of a sibling's estimate row exactly (chepoch, recovery). Never the own row. */
export function setEstimate(vob: Vob, replica: string, row: EpochRow): void {
  if (replica === vob.self) throw new Error('the actual row is changed only by applying ops');
  const st = vob.q('INSERT INTO epoch (replica, origin, id) VALUES (?, ?, ?) ON CONFLICT (replica, origin) DO UPDATE SET id = excluded.id');
  for (const [origin, id] of Object.entries(row)) st.run(replica, origin, id);
}

/** Raises a sibling's estimate to at least `row`, entry by entry; never lowers it. */
export function raiseEstimate(vob: Vob, replica: string, row: EpochRow): void {
  if (replica === vob.self) return;
  const st = vob.q(
    'INSERT INTO epoch (replica, origin, id) VALUES (?, ?, ?) ON CONFLICT (replica, origin) DO UPDATE SET id = max(id, excluded.id)',
  );
  for (const [origin, id] of Object.entries(row)) st.run(replica, origin, id);
}

/** `a` has everything `b` has: a[o] >= b[o] for every origin of b. */
export function covers(a: EpochRow, b: EpochRow): boolean {
  return Object.entries(b).every(([o, id]) => (a[o] ?? 0) >= id);
}

/** Entry-wise minimum over rows (what all of them have). */
export function minRow(rows: readonly EpochRow[]): EpochRow {
  const origins = new Set(rows.flatMap((r) => Object.keys(r)));
  return Object.fromEntries([...origins].map((o) => [o, Math.min(...rows.map((r) => r[o] ?? 0))]));
}
