import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';

/** Every row of every table of a VOB database, for before/after comparisons. */
export function snapshot(vobDir: string): Record<string, unknown[]> {
  const db = new BetterSqlite3(join(vobDir, 'vob.db'), { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}

/**
 * The VOB's content: every table but the replication bookkeeping that reading a packet's header may
 * update (facts, estimates of siblings, incarnations, sync records, meta), with the own epoch row.
 */
export function vobContent(vobDir: string): Record<string, unknown[]> {
  const all = snapshot(vobDir);
  const self = (all.meta as { key: string; value: string }[]).find((m) => m.key === 'self')!.value;
  const { fact: _f, incarnation: _i, sync_record: _s, meta: _m, epoch, ...rest } = all;
  return { ...rest, epoch: (epoch as { replica: string }[]).filter((e) => e.replica === self) };
}
