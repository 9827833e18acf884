import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { systemClock, type Clock } from '../core/clock.js';
import { StatementCache } from '../core/statementCache.js';
import { StorageError, writingTo } from '../core/errors.js';
import type { FamilyOid, ReplicaOid } from '../core/ids.js';
import { ContentPool } from './contentPool.js';
import { migrate, SCHEMA_VERSION } from './schema.js';

/** Marks a database as a VOB, so a stray SQLite file is never mistaken for one. */
const MAGIC = 'msite-vob';
export const DB_FILE = 'vob.db';
/** Meta keys fixed for the life of an open handle, so safe to cache. */
const IMMUTABLE_META = new Set(['family', 'self', 'tag', 'main_brtype', 'root', 'magic']);
export const POOL_DIR = 'pool';

export interface VobOpenOptions {
  clock?: Clock;
  /**
   * `full` (default) fsyncs every commit so it survives power loss; `normal` survives a crash of
   * the process but not of the machine. Change it only for bulk loads you can redo.
   */
  synchronous?: 'full' | 'normal';
  /**
   * Open for reading only: the database is never written, so a command that only looks cannot
   * change a VOB (or a file that is not one).
   */
  readonly?: boolean;
}

/** The 16 bytes every SQLite database file starts with. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * One VOB replica on disk: a directory with the SQLite database and the content pool. This class
 * holds the open handles and the replica's identity; every change goes through `vob/ops`.
 */
export class Vob {
  readonly db: Database;
  readonly pool: ContentPool;
  readonly clock: Clock;
  private readonly statements: StatementCache;
  private metaCache = new Map<string, string>();
  private originIdx = new Map<string, number>();
  private originOids = new Map<number, string>();

  private constructor(
    readonly dir: string,
    db: Database,
    clock: Clock,
  ) {
    this.db = db;
    this.statements = new StatementCache(db);
    this.clock = clock;
    this.pool = new ContentPool(db, join(dir, POOL_DIR));
  }

  /** Creates the storage directory and an empty database; the caller applies the first ops. */
  static createStorage(dir: string, options: VobOpenOptions = {}): Vob {
    const abs = resolve(dir);
    if (existsSync(abs) && (!statSync(abs).isDirectory() || readdirSync(abs).length > 0)) {
      throw new StorageError(`cannot create VOB at ${abs}: the path exists and is not an empty directory`, {
        data: { dir: abs },
        hint: 'choose a new storage directory',
      });
    }
    writingTo('create directory', abs, () => mkdirSync(join(abs, POOL_DIR), { recursive: true }));
    const db = writingTo('create', join(abs, DB_FILE), () => Vob.connect(abs, options, true));
    migrate(db, abs);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('magic', MAGIC);
    return new Vob(abs, db, options.clock ?? systemClock);
  }

  /**
   * Opens an existing VOB. Nothing that is not a VOB is ever written: the file must be an SQLite
   * database (checked from its first bytes, so an empty or foreign file is not turned into one) and
   * is read through a read-only connection until its magic says it is a VOB. A `readonly` open
   * then stays read-only, so a command that only looks changes nothing.
   *
   * An older schema is migrated by any open, read-only ones included (in one transaction, on a
   * connection of its own): after upgrading msite a user expects every command to work on every
   * VOB, as before, and a dashboard or a monitoring script only reads. Refusing to read until some
   * command writes would break those for no gain: the migration is the same whichever command
   * triggers it, and it is what upgrading msite asked for.
   */
  static open(dir: string, options: VobOpenOptions = {}): Vob {
    const abs = resolve(dir);
    const file = join(abs, DB_FILE);
    if (!existsSync(file)) {
      throw new StorageError(`not a VOB: ${abs}`, {
        data: { dir: abs },
        hint: `no ${DB_FILE} there; give a VOB storage directory or a registered tag`,
      });
    }
    Vob.checkIsSqlite(abs, file);
    let db: Database;
    let version: number;
    try {
      db = Vob.connect(abs, { ...options, readonly: true });
      const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
      const magic = hasMeta ? (db.prepare("SELECT value FROM meta WHERE key = 'magic'").pluck().get() as string | undefined) : undefined;
      if (magic !== MAGIC) {
        db.close();
        throw new StorageError(`not a VOB: ${abs}`, { data: { dir: abs }, hint: `${DB_FILE} there is not a VOB database` });
      }
      version = db.pragma('user_version', { simple: true }) as number;
    } catch (err) {
      if (err instanceof StorageError) throw err;
      throw new StorageError(`not a VOB: ${abs}: ${(err as Error).message}`, { data: { dir: abs }, cause: err });
    }
    if (version >= SCHEMA_VERSION) {
      try {
        migrate(db, abs); // refuses a newer schema; changes nothing at the current one
      } catch (err) {
        db.close();
        throw err;
      }
      if (options.readonly) return new Vob(abs, db, options.clock ?? systemClock);
    }
    db.close();
    db = writingTo('open', file, () => Vob.connect(abs, { ...options, readonly: false }));
    try {
      writingTo('upgrade', file, () => migrate(db, abs));
      if (options.readonly) {
        db.close();
        db = Vob.connect(abs, options);
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return new Vob(abs, db, options.clock ?? systemClock);
  }

  /** Refuses a vob.db that is not an SQLite database (empty, text, a directory) before SQLite can touch it. */
  private static checkIsSqlite(dir: string, file: string): void {
    const refuse = (why: string): never => {
      throw new StorageError(`not a VOB: ${dir}: ${file} ${why}`, { data: { dir, file }, hint: `${DB_FILE} there is not a VOB database` });
    };
    const st = statSync(file);
    if (!st.isFile()) refuse('is not a regular file');
    if (st.size === 0) refuse('is empty');
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    if (!head.equals(SQLITE_HEADER)) refuse('is not an SQLite database');
  }

  private static connect(dir: string, options: VobOpenOptions, create = false): Database {
    const db = new BetterSqlite3(join(dir, DB_FILE), { readonly: options.readonly === true, fileMustExist: !create });
    // Set when the database is created; a read-only handle may not, and need not, set it again.
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = OFF');
    // Another process (an import, the daemon) may hold the write lock for a while; wait for it
    // rather than fail. A minute covers the import of a large packet.
    db.pragma('busy_timeout = 60000');
    // Every op runs in a savepoint, and a savepoint keeps the pages it changes in a statement
    // journal: in memory that costs a copy, in a temporary file a write (measured: a quarter of a
    // bulk load's time).
    db.pragma('temp_store = MEMORY');
    // 64 MiB of page cache: large histories keep their indexes in memory.
    db.pragma('cache_size = -65536');
    return db;
  }

  /** A prepared statement, cached for the life of the handle. */
  q(sql: string): Statement {
    return this.statements.get(sql);
  }

  /**
   * Runs `fn` in one SQLite transaction, or a savepoint when nested: all of it commits, or none.
   * The outer transaction takes the write lock at once (BEGIN IMMEDIATE), so two processes writing
   * one VOB wait for each other (busy_timeout) instead of failing midway.
   */
  transaction<T>(fn: () => T): T {
    const outer = !this.db.inTransaction;
    this.q(outer ? 'BEGIN IMMEDIATE' : 'SAVEPOINT nested').run();
    try {
      const result = fn();
      this.q(outer ? 'COMMIT' : 'RELEASE nested').run();
      if (outer) this.pool.transactionEnded();
      return result;
    } catch (err) {
      // Indexes handed out inside the rolled-back work may not exist any more.
      this.originIdx.clear();
      this.originOids.clear();
      this.pool.transactionEnded();
      if (this.db.inTransaction) {
        if (outer) this.q('ROLLBACK').run();
        else {
          this.q('ROLLBACK TO nested').run();
          this.q('RELEASE nested').run();
        }
      }
      throw err;
    }
  }

  meta(key: string): string | undefined {
    if (this.metaCache.has(key)) return this.metaCache.get(key);
    const value = this.q('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
    // Only identity never changes under an open handle; other keys may be set by another process.
    if (value !== undefined && IMMUTABLE_META.has(key)) this.metaCache.set(key, value);
    return value;
  }

  setMeta(key: string, value: string): void {
    this.q('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
    // A rolled-back transaction would leave the cache wrong; drop it rather than trust it.
    this.metaCache.delete(key);
  }

  /** The oplog's small integer for an origin replica OID, assigned on first use. */
  originIndex(oid: string): number {
    let idx = this.originIdx.get(oid);
    if (idx === undefined) {
      this.q('INSERT OR IGNORE INTO replica_index (oid) VALUES (?)').run(oid);
      idx = this.q('SELECT idx FROM replica_index WHERE oid = ?').pluck().get(oid) as number;
      this.originIdx.set(oid, idx);
      this.originOids.set(idx, oid);
    }
    return idx;
  }

  /** The origin replica OID behind an oplog origin index. */
  originOid(idx: number): string {
    let oid = this.originOids.get(idx);
    if (oid === undefined) {
      oid = this.q('SELECT oid FROM replica_index WHERE idx = ?').pluck().get(idx) as string;
      this.originOids.set(idx, oid);
      this.originIdx.set(oid, idx);
    }
    return oid;
  }

  deleteMeta(key: string): void {
    this.q('DELETE FROM meta WHERE key = ?').run(key);
    this.metaCache.delete(key);
  }

  /** This replica's OID: the origin of every op made here. */
  get self(): ReplicaOid {
    return this.requireMeta('self') as ReplicaOid;
  }

  get family(): FamilyOid {
    return this.requireMeta('family') as FamilyOid;
  }

  /** The VOB tag used in messages (MultiSite names the VOB by its tag). */
  get tag(): string {
    return this.meta('tag') ?? this.dir;
  }

  private requireMeta(key: string): string {
    const v = this.meta(key);
    if (v === undefined) throw new StorageError(`VOB ${this.dir} is incomplete: no ${key} recorded`, { hint: 'recreate it' });
    return v;
  }

  /** The database's size in bytes (its pages; the WAL not counted). */
  databaseBytes(): number {
    return (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /**
   * Rewrites the database with full pages (SQLite's VACUUM) and empties the WAL that leaves. Worth
   * it after a bulk load that wrote most of the database: tables and indexes filled in key order by
   * many transactions keep pages about two thirds full (measured after a gitimport of
   * expressjs/express: 70.6 MB, 62.8 MB compacted, in 0.35 s). Takes the write lock for its
   * duration, and room for a copy of the database in the temporary directory, not in memory (the
   * handle keeps its savepoint journals in memory: temp_store is set back).
   */
  compact(): void {
    this.statements.clear();
    this.db.pragma('temp_store = FILE');
    try {
      writingTo('compact', join(this.dir, DB_FILE), () => this.db.exec('VACUUM'));
    } finally {
      this.db.pragma('temp_store = MEMORY');
    }
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}
