import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { StorageError, writingTo } from '../core/errors.js';

/** A snapshot view's admin directory, at the view's root: its database and update logs. */
export const VIEW_ADMIN_DIR = '.msite';
export const VIEW_DB_FILE = 'view.db';
const MAGIC = 'msite-view';

/**
 * The view database, `.msite/view.db` in the view's root:
 *
 * - `meta`: the view's tag, its VOB (storage directory, tag, family and replica, so a VOB replaced
 *   under the same path is noticed), and its config spec (text and the directory its includes are
 *   read from).
 * - `loaded`: each file and directory update copied into the view, by path from the VOB root: the
 *   element, the version loaded, the rule that selected it, and for files the size, mtime and
 *   SHA-256 written, so update and hijack detection reread only files whose size or mtime changed,
 *   and the version's mode it was written as (null: a plain file; `executable`; `symlink`, its SHA
 *   that of the link's target).
 * - `view_checkout`: the checkouts this view made (a replica's checkouts are shared by its views;
 *   each view shows only its own as CHECKEDOUT).
 * - `pending_merge`: versions merged into a checkout and not yet checked in: checkin turns each into
 *   a merge arrow. Keyed by the checkout, so rows left by a checkout that ended otherwise never apply
 *   to a later one.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE loaded (
    path TEXT PRIMARY KEY,
    element TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'directory')),
    version TEXT NOT NULL,
    rule TEXT,
    size INTEGER,
    mtime REAL,
    sha TEXT
  ) WITHOUT ROWID;
  CREATE INDEX loaded_element ON loaded (element);
  CREATE TABLE view_checkout (
    element TEXT PRIMARY KEY,
    checkout TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE pending_merge (
    checkout TEXT NOT NULL,
    element TEXT NOT NULL,
    from_version TEXT NOT NULL,
    UNIQUE (checkout, from_version)
  );
  `,
  // 2: how each file was written, so a symlink is checked as a link and a mode that differs from the
  // selected version's (a view loaded before modes were honoured) is loaded again.
  `
  ALTER TABLE loaded ADD COLUMN mode TEXT;
  `,
];

/**
 * Opens (or, with `create`, creates) the database in a view's admin directory. A view's state is a
 * cache of the VOB plus the view's own few facts; `synchronous = NORMAL` is enough, since what a
 * crash of the machine loses, the next update finds again from the files' hashes.
 */
export function openViewDatabase(adminDir: string, create: boolean): Database {
  const file = join(adminDir, VIEW_DB_FILE);
  if (create) writingTo('create directory', adminDir, () => mkdirSync(adminDir, { recursive: true }));
  let db: Database;
  try {
    db = new BetterSqlite3(file, { fileMustExist: !create });
  } catch (err) {
    throw new StorageError(`cannot open the view database ${file}: ${(err as Error).message}`, { cause: err, data: { file } });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 10000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StorageError(`cannot open the view database ${file}: it was written by a newer msite`, { hint: 'upgrade msite' });
    }
    if (!create && version === 0)
      throw new StorageError(`not a view database: ${file}`, { hint: 'the view is damaged; remove it with rmview' });
    db.transaction(() => {
      for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
      if (version === 0) db.prepare("INSERT INTO meta (key, value) VALUES ('magic', ?)").run(MAGIC);
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
    const magic = db.prepare("SELECT value FROM meta WHERE key = 'magic'").pluck().get();
    if (magic !== MAGIC) throw new StorageError(`not a view database: ${file}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
