import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { IoError, StorageError, writeFailure, writingTo } from '../core/errors.js';
import { retireLegacySiteFiles } from './legacySiteFiles.js';
import { applySiteMigrations, SITE_SCHEMA_VERSION } from './siteSchema.js';

export const SITE_DB_FILE = 'site.db';

export interface SiteDatabaseOptions {
  /**
   * How long a write waits for another process's transaction (a CLI command, the daemon) before it
   * fails with a transient error. Default 10 s: every site transaction is short.
   */
  busyTimeoutMs?: number;
}

/** Errors that mean the home (or its database) cannot be written, not that it is damaged. */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_READONLY_DIRECTORY']);

function openFailure(file: string, err: unknown): Error {
  if (err instanceof StorageError || err instanceof IoError) return err;
  const code = (err as { code?: unknown }).code;
  const why = (err as Error).message;
  if (code === 'SQLITE_BUSY') {
    return new IoError(`cannot open the site database ${file}: it stayed locked by another process`, { cause: err, data: { file } });
  }
  if (typeof code === 'string' && UNWRITABLE.has(code)) {
    // SQLite says only "unable to open database file"; the file system says why, and which path.
    const path = existsSync(file) ? file : dirname(file);
    try {
      accessSync(path, constants.W_OK);
    } catch (accessErr) {
      const named = writeFailure(accessErr, 'write', path);
      if (named) return named;
    }
    return new StorageError(`cannot write the site database ${file}: ${why}`, {
      cause: err,
      data: { file },
      hint: 'give this user write access to the site home, or choose another with --home',
    });
  }
  return new StorageError(`cannot open the site database ${file}: ${why}`, {
    cause: err,
    data: { file },
    hint: 'restore it from a backup',
  });
}

/**
 * The site home's one SQLite database, `<home>/site.db`: the VOB registry, the schedule store, the
 * shipping server's order attempts and delivery log index, and the daemon's state (siteSchema.ts).
 * WAL, so readers never wait; writers queue on the write lock (busy timeout) instead of failing.
 *
 * Opening creates the home and the database when missing, applies missing migrations (importing an
 * older home's files on the first), and refuses a database written by a newer msite.
 */
export class SiteDatabase {
  private constructor(
    readonly file: string,
    readonly db: Database,
  ) {}

  /**
   * Opens (creating when missing) the site database of the home `homeDir`. The caller closes it.
   *
   * @throws StorageError when the home cannot be written, the file is not a site database, or its
   * schema is newer than this msite; IoError when another process keeps it locked too long.
   */
  static open(homeDir: string, options: SiteDatabaseOptions = {}): SiteDatabase {
    const file = join(homeDir, SITE_DB_FILE);
    let db: Database | undefined;
    try {
      writingTo('create directory', homeDir, () => mkdirSync(homeDir, { recursive: true }));
      db = new BetterSqlite3(file);
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const found = db.pragma('user_version', { simple: true }) as number;
      if (found > SITE_SCHEMA_VERSION) {
        throw new StorageError(
          `cannot open the site database ${file}: its schema version ${found} is newer than this msite supports (${SITE_SCHEMA_VERSION})`,
          { data: { file, schemaVersion: found, supported: SITE_SCHEMA_VERSION }, hint: 'upgrade msite' },
        );
      }
      if (found < SITE_SCHEMA_VERSION) {
        const { importedLegacy } = applySiteMigrations(db, homeDir, Date.now());
        // Only after the commit: until then the old files are still the truth. A crash in between
        // leaves them in place, harmlessly: once the version is set nothing reads them.
        if (importedLegacy) retireLegacySiteFiles(homeDir);
      }
      return new SiteDatabase(file, db);
    } catch (err) {
      db?.close();
      throw openFailure(file, err);
    }
  }

  /**
   * Runs `fn` as one write transaction (BEGIN IMMEDIATE: the write lock is taken first, so what `fn`
   * reads stays true until it commits). Nested calls become savepoints.
   *
   * @throws IoError (transient) when another process keeps the database locked past the busy timeout.
   */
  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') throw err;
      throw new IoError(`site database busy: ${this.file} stayed locked by another process`, {
        cause: err,
        data: { file: this.file },
        hint: 'another msite command or the daemon is changing the site; try again',
      });
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
