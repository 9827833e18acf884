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
