import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { AlreadyExistsError, InvalidInputError, NotFoundError, StateError, UsageError } from '../core/errors.js';
import { processAlive } from '../core/processAlive.js';
import { hasLegacySiteFiles } from './legacySiteFiles.js';
import { SITE_DB_FILE, SiteDatabase, type SiteDatabaseOptions } from './siteDatabase.js';

/** `ready`: usable. `creating`: its tag is claimed and its storage is being made. */
export type VobState = 'creating' | 'ready';

export interface VobRegistration {
  tag: string;
  /** The storage directory, absolute. */
  path: string;
  state: VobState;
  /** When it was registered (ms since the epoch); for VOBs imported from an older home, when imported. */
  created: number;
}

interface VobRow {
  tag: string;
  path: string;
  state: VobState;
  created: number;
  claimed_by: number | null;
}

function registration(row: VobRow): VobRegistration {
  return { tag: row.tag, path: row.path, state: row.state, created: row.created };
}

/**
 * A site home: the directory holding one site's database (site.db: the VOB registry, the schedule,
 * shipping and daemon state), and its shipping.conf, bays, logs and keys.
 *
 * Locating a home opens nothing. The registry methods open the database for the call, or use the one
 * `database()` opened; `close()` closes that one.
 */
export class SiteHome {
  private opened: SiteDatabase | undefined;

  private constructor(readonly dir: string) {}

  /** The site database file. */
  get databaseFile(): string {
    return join(this.dir, SITE_DB_FILE);
  }

  /** shipping.conf; it need not exist (every setting then has its default). */
  get shippingConfFile(): string {
    return join(this.dir, 'shipping.conf');
  }

  /** Logs: the daemon's, sync_logs, undelivered notifications. */
  get logDir(): string {
    return join(this.dir, 'log');
  }

  /** Where the running daemon says where it listens (see daemonFile.ts). */
  get daemonFile(): string {
    return join(this.dir, 'daemon.json');
  }

  /**
   * `home` (`--home DIR`), else `MSITE_HOME` of the caller's `env`, else `~/.msite`; a relative path is
   * taken from `cwd`. The directory is made when first written.
   */
  static locate(home: string | undefined, env: NodeJS.ProcessEnv, cwd: string): SiteHome {
    const dir = home ?? env.MSITE_HOME ?? join(homedir(), '.msite');
    return new SiteHome(resolve(cwd, dir));
  }

  /**
   * The site database, opened (created, migrated) on first use and kept open until `close()`. For
   * one operation, the registry methods below need no call to this.
   */
  database(options: SiteDatabaseOptions = {}): SiteDatabase {
    this.opened ??= SiteDatabase.open(this.dir, options);
    return this.opened;
  }

  /** Closes the database `database()` opened, if any. */
  close(): void {
    this.opened?.close();
    this.opened = undefined;
  }

  /** Runs `fn` with the site database: the one `database()` opened, else one opened for this call. */
  withDatabase<T>(fn: (site: SiteDatabase) => T): T {
    if (this.opened) return fn(this.opened);
    const site = SiteDatabase.open(this.dir);
    try {
      return fn(site);
    } finally {
      site.close();
    }
  }

  /** Registered VOBs ready for use, in registration order. */
  registry(): VobRegistration[] {
    return this.registrations().filter((r) => r.state === 'ready');
  }

  /**
   * Every registration, in registration order, those still being created included. A home with no
   * database yet has none (and none is created to say so).
   */
  registrations(): VobRegistration[] {
    if (!this.opened && !existsSync(this.databaseFile) && !hasLegacySiteFiles(this.dir)) return [];
    return this.withDatabase((site) => (site.db.prepare('SELECT * FROM vob ORDER BY rowid').all() as VobRow[]).map(registration));
  }

  /**
   * Registers a complete VOB storage under `tag`, in one statement: of two processes registering one
   * tag, exactly one succeeds.
   *
   * @throws InvalidInputError for a malformed tag; AlreadyExistsError when the tag is taken.
   */
  register(tag: string, path: string): void {
    this.claimTag(tag, path);
    this.markReady(tag, path);
  }

  /**
   * Claims `tag` for a VOB whose storage `path` this process is about to create: the tag is then
   * listed as being created and no other process can take it (nor register the same storage). A
   * claim left by a process that has died is taken over.
   *
   * @throws InvalidInputError for a malformed tag; AlreadyExistsError when the tag is registered or
   * claimed by a live process, or another VOB is being created in that storage directory.
   */
  claimTag(tag: string, path: string): void {
    if (!/^[^\s@]+$/.test(tag)) throw new InvalidInputError(`invalid VOB tag "${tag}": a tag has no spaces and no "@"`);
    const abs = resolve(path);
    this.withDatabase((site) =>
      site.transaction(() => {
        const held = site.db.prepare('SELECT * FROM vob WHERE tag = ?').get(tag) as VobRow | undefined;
        if (held && !(held.state === 'creating' && held.claimed_by !== null && !processAlive(held.claimed_by))) {
          throw new AlreadyExistsError('VOB tag', tag, {
            hint: held.state === 'creating' ? `another process is creating it (process ${held.claimed_by})` : 'choose another tag',
          });
        }
        // Two creations in one directory would remove each other's storage when one fails. (A
        // complete VOB's directory is refused by the creation itself: it is not empty.)
        const other = site.db.prepare("SELECT tag FROM vob WHERE path = ? AND tag <> ? AND state = 'creating'").pluck().get(abs, tag) as
          string | undefined;
        if (other !== undefined) {
          throw new AlreadyExistsError('VOB storage', abs, { data: { tag: other }, hint: `VOB "${other}" is being created there` });
        }
        site.db.prepare('DELETE FROM vob WHERE tag = ?').run(tag);
        site.db
          .prepare("INSERT INTO vob (tag, path, state, created, claimed_by) VALUES (?, ?, 'creating', ?, ?)")
          .run(tag, abs, Date.now(), process.pid);
      }),
    );
  }

  /**
   * Marks the tag this process claimed as ready, at `path` (the storage as created).
   *
   * @throws StateError when this process holds no claim on the tag.
   */
  markReady(tag: string, path: string): void {
    this.withDatabase((site) => {
      const changed = site.db
        .prepare("UPDATE vob SET state = 'ready', path = ?, claimed_by = NULL WHERE tag = ? AND state = 'creating' AND claimed_by = ?")
        .run(resolve(path), tag, process.pid).changes;
      if (changed !== 1) throw new StateError(`VOB tag "${tag}" is not being created by this process`);
    });
  }

  /** Drops this process's claim on `tag` (its creation failed); a tag it does not claim is left alone. */
  releaseClaim(tag: string): void {
    this.withDatabase((site) =>
      site.db.prepare("DELETE FROM vob WHERE tag = ? AND state = 'creating' AND claimed_by = ?").run(tag, process.pid),
    );
  }

  /** @throws NotFoundError when the tag is not registered. */
  unregister(tag: string): void {
    this.withDatabase((site) => {
      if (site.db.prepare('DELETE FROM vob WHERE tag = ?').run(tag).changes === 0) throw new NotFoundError('VOB tag', tag);
    });
  }

  /**
   * The storage directory a `--vob` value names: a registered tag, else a directory path (relative to
   * `cwd`). With no value: the only registered VOB.
   */
  resolveVob(wanted: string | undefined, cwd: string): string {
    const all = this.registrations();
    const entries = all.filter((e) => e.state === 'ready');
    if (wanted === undefined || wanted === '') {
      if (entries.length === 1) return entries[0]!.path;
      throw new UsageError(
        entries.length === 0 ? `no VOB given and none is registered in ${this.dir}` : 'no VOB given and several are registered',
        {
          hint: 'name one with --vob TAG|DIR or $MSITE_VOB',
        },
      );
    }
    const byTag = all.find((e) => e.tag === wanted);
    if (byTag?.state === 'ready') return byTag.path;
    if (byTag) throw new StateError(`VOB "${wanted}" is being created`, { hint: 'wait for its mkvob or mkreplica to finish' });
    const path = resolve(cwd, wanted);
    if (isAbsolute(wanted) || wanted.startsWith('.') || existsSync(path)) return path;
    throw new NotFoundError('VOB tag', wanted, { hint: `see msite lsvob --home ${this.dir}` });
  }
}
