import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { readStoredSchedule, type StoredSchedule } from '../../src/schedule/storedSchedule.js';

/** The schedule as a home's site database holds it, read on a connection of its own. */
export function storedSchedule(home: string): StoredSchedule | undefined {
  const db = new BetterSqlite3(join(home, 'site.db'), { readonly: true });
  try {
    return readStoredSchedule(db);
  } finally {
    db.close();
  }
}
