import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/**
 * The site's own host name: what its replicas' host fields, its peers' `PEER` lines and `ROUTE`s call
 * it. Orders record it as their origin and in their hops, so a route that comes back here is seen.
 *
 * It is the `host` that `msite site init --host` recorded in the home's site.db (table `site_setting`,
 * site/siteSettings.ts writes it), else the machine's host name. Read here, below the site layer, on a
 * read-only connection of its own: the shipping code is handed a home directory, and asking the
 * database for one row costs well under a millisecond.
 */
export function siteHost(homeDir: string): string {
  const file = join(homeDir, 'site.db');
  if (existsSync(file)) {
    let db: BetterSqlite3.Database | undefined;
    try {
      db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
      const row = db.prepare("SELECT value FROM site_setting WHERE key = 'host'").get() as { value: string } | undefined;
      if (row && row.value !== '') return row.value;
    } catch {
      // A home from before site settings (no such table): the machine's name.
    } finally {
      db?.close();
    }
  }
  return hostname();
}
