import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import { InvalidInputError, NotFoundError, StateError } from '../core/errors.js';
import { StatementCache } from '../core/statementCache.js';
import type { Oid } from '../core/ids.js';
import { DEFAULT_CONFIG_SPEC_TEXT, parseConfigSpec, type ConfigSpec } from '../vob/configSpec.js';
import { resolvePath, splitExtendedName, type Resolved } from '../vob/resolvePath.js';
import type { VersionMode } from '../vob/ops/schemas.js';
import type { ElementKind } from '../vob/rows.js';
import { Vob } from '../vob/vob.js';
import { NotAViewError } from './notAViewError.js';
import { openViewDatabase, VIEW_ADMIN_DIR, VIEW_DB_FILE } from './viewDatabase.js';
import { statOrUndefined } from './viewFiles.js';

/**
 * The config spec a new snapshot view gets: what is checked out in it, else the latest on main, and
 * the whole VOB loaded. As in ClearCase, a view loads nothing without a load rule; `load /` is what
 * most users want first.
 */
export const DEFAULT_VIEW_CONFIG_SPEC = `${DEFAULT_CONFIG_SPEC_TEXT}load /\n`;

/** What a path in a view is: its element and the version the view selects (see View.locate). */
export interface Located {
  vob: Vob;
  element: Oid;
  kind: ElementKind;
  /** The version the view selects; for a checkout, the version it was checked out from. */
  version: Oid | undefined;
  /** Whether the element is checked out in this view. */
  checkedOut: boolean;
  /** This view's checkout of the element, when checked out. */
  checkout: Oid | undefined;
  /** Absolute path of the file or directory in the view. */
  file: string;
  /** The element path from the VOB root (`.` for the root). */
  path: string;
  /** The config spec rule that selected the version, as written (`element * /main/LATEST`). */
  rule: string | undefined;
  /** The full resolution, for callers that need rows rather than OIDs. */
  resolved: Resolved;
}

/** One file or directory update loaded into the view (a row of `loaded`). */
export interface LoadedRow {
  path: string;
  element: Oid;
  kind: ElementKind;
  version: Oid;
  rule: string | null;
  size: number | null;
  mtime: number | null;
  sha: string | null;
  /** How the file was written: null for a plain file, `executable`, or `symlink` (sha is its target's). Null for a directory. */
  mode: VersionMode;
}

export interface OpenViewOptions {
  /** Open the VOB for reading only (listings). Default false. */
  readonly?: boolean;
}

/**
 * A snapshot view: a directory tree loaded from one VOB by a config spec, with its state in the
 * admin directory `.msite/` at its root (viewDatabase.ts). Open one with `openView(anyPathInIt)`;
 * paths given to its methods are file system paths (absolute, or relative to the process's working
 * directory: pass absolute ones), mapped to element paths from the view's root, which is the VOB's
 * root directory.
 *
 * The view holds its VOB open; `close()` closes both.
 */
export class View {
  private ownCheckouts: Set<string>;
  private readonly statements: StatementCache;
  private spec: ConfigSpec | undefined;

  private constructor(
    /** The view's root directory, absolute. */
    readonly root: string,
    readonly db: Database,
    readonly vob: Vob,
  ) {
    this.statements = new StatementCache(db);
    this.ownCheckouts = new Set(db.prepare('SELECT checkout FROM view_checkout').pluck().all() as string[]);
  }

  /**
   * Makes a new snapshot view in `dir` (absent or empty) on the VOB in `vobDir`, with `configSpec`
   * (default DEFAULT_VIEW_CONFIG_SPEC) and nothing loaded yet: `updateView` loads it. The caller
   * registers the tag.
   */
  static create(dir: string, options: { tag: string; vobDir: string; configSpec?: string }): View {
    const root = resolve(dir);
    if (existsSync(root) && !statSync(root).isDirectory()) {
      throw new InvalidInputError(`cannot make a view at ${root}: it exists and is not a directory`);
    }
    if (existsSync(join(root, VIEW_ADMIN_DIR))) throw new StateError(`${root} is a view already`, { hint: 'see msite lsview' });
    const vob = Vob.open(options.vobDir);
    try {
      const text = options.configSpec ?? DEFAULT_VIEW_CONFIG_SPEC;
      parseConfigSpec(text, 'config spec');
      const db = openViewDatabase(join(root, VIEW_ADMIN_DIR), true);
      const set = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        set.run('tag', options.tag);
        set.run('vob', vob.dir);
        set.run('vob_tag', vob.tag);
        set.run('family', vob.family);
        set.run('replica', vob.self);
        set.run('config_spec', text);
        set.run('config_base', root);
      })();
      return new View(root, db, vob);
    } catch (err) {
      vob.close();
      throw err;
    }
  }

  /** Opens the view whose root is `root` (a directory holding `.msite/view.db`). */
  static openAt(root: string, options: OpenViewOptions = {}): View {
    const db = openViewDatabase(join(root, VIEW_ADMIN_DIR), false);
    try {
      const meta = (key: string) => db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
      const tag = meta('tag') ?? root;
      const vobDir = meta('vob')!;
      let vob: Vob;
      try {
        vob = Vob.open(vobDir, { readonly: options.readonly });
      } catch (err) {
        throw new StateError(`view "${tag}": its VOB ${meta('vob_tag') ?? ''} is gone from ${vobDir}`, {
          cause: err,
          data: { view: tag, vob: vobDir },
          hint: `remove the view with msite rmview ${tag}`,
        });
      }
      if (vob.family !== meta('family') || vob.self !== meta('replica')) {
        vob.close();
        throw new StateError(`view "${tag}": ${vobDir} is no longer the replica the view was made on`, {
          data: { view: tag, vob: vobDir },
          hint: `remove the view with msite rmview ${tag}`,
        });
      }
      return new View(root, db, vob);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  get tag(): string {
    return this.meta('tag') ?? this.root;
  }

  /** The VOB tag the view was made on (its VOB's tag at the time). */
  get vobTag(): string {
    return this.meta('vob_tag') ?? this.vob.tag;
  }

  /** The admin directory: the view database and the update logs. */
  get adminDir(): string {
    return join(this.root, VIEW_ADMIN_DIR);
  }

  meta(key: string): string | undefined {
    return this.q('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
  }

  /** Sets (or, with undefined, removes) one of the view's meta values. */
  setMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.q('DELETE FROM meta WHERE key = ?').run(key);
    else this.q('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** The config spec's text as set (include lines as written). */
  configSpecText(): string {
    return this.meta('config_spec') ?? DEFAULT_VIEW_CONFIG_SPEC;
  }

  /**
   * The view's config spec, parsed (includes read again, relative to the directory of the file it
   * was set from), with CHECKEDOUT meaning this view's checkouts.
   */
  configSpec(): ConfigSpec {
    if (!this.spec) {
      const parsed = parseConfigSpec(this.configSpecText(), this.meta('config_source') ?? `config spec of view "${this.tag}"`, {
        baseDir: this.meta('config_base') ?? this.root,
      });
      this.spec = { ...parsed, ownsCheckout: (co) => this.ownCheckouts.has(co) };
    }
    return this.spec;
  }

  /**
   * Sets the config spec: parses `text` first (includes relative to `baseDir`), so a spec with any
   * bad line is refused whole and the view keeps its old one. `updateView` applies it to the files.
   */
  setConfigSpec(text: string, source: string, baseDir: string): ConfigSpec {
    parseConfigSpec(text, source, { baseDir });
    const set = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.db.transaction(() => {
      set.run('config_spec', text);
      set.run('config_base', baseDir);
      set.run('config_source', source);
    })();
    this.spec = undefined;
    return this.configSpec();
  }

  /**
   * The load rules as element paths from the VOB root: a leading `/`, or the VOB's tag, dropped
   * (`load /`, `load /src`, `load src` and `load /vobs/dev/src` on /vobs/dev all name the same).
   */
  loadPaths(): string[] {
    const tag = this.vobTag.replace(/^\/+|\/+$/g, '');
    return this.configSpec().loads.map((l) => {
      let p = l.path.replace(/^\/+|\/+$/g, '');
      if (tag && (p === tag || p.startsWith(`${tag}/`))) p = p.slice(tag.length + 1);
      return splitExtendedName(p === '' ? '.' : p).path;
    });
  }

  /**
   * The element path from the view's root for a file system path in the view (`.` for the root).
   * A version-extended suffix (`a.c@@/main/2`) is kept.
   *
   * @throws NotAViewError for a path outside the view.
   */
  vobPath(fsPath: string): string {
    const at = fsPath.indexOf('@@');
    const plain = at < 0 ? fsPath : fsPath.slice(0, at);
    const rel = relative(this.root, resolve(plain));
    if (rel.startsWith('..') || resolve(plain) !== join(this.root, rel)) throw new NotAViewError(fsPath, { data: { view: this.tag } });
    const path = rel === '' ? '.' : rel.split(sep).join('/');
    if (path === VIEW_ADMIN_DIR || path.startsWith(`${VIEW_ADMIN_DIR}/`)) {
      throw new InvalidInputError(`${fsPath} is the view's admin directory, not an element`);
    }
    return at < 0 ? path : `${path}${fsPath.slice(at)}`;
  }

  /** The file system path in the view of an element path. */
  filePath(vobPath: string): string {
    // Element paths are normalized (no `.`, `..` or empty parts): joined by hand, as path.join's
    // normalizing costs more than the rest of a no-change update's work per file.
    return vobPath === '.' ? this.root : `${this.root}${sep}${sep === '/' ? vobPath : vobPath.split('/').join(sep)}`;
  }

  /**
   * What `path` (in the view) is: its element, the version the view's config spec selects (for a
   * checkout, the version checked out), whether this view has it checked out, and the rule.
   *
   * @throws NotFoundError for a view-private file or a name the config spec does not show.
   */
  locate(path: string): Located {
    const vobPath = this.vobPath(path);
    let r: Resolved;
    try {
      r = resolvePath(this.vob, vobPath, this.configSpec());
    } catch (err) {
      // lstat, so a view-private symbolic link is named as one even when its target is missing.
      if (err instanceof NotFoundError && statOrUndefined(this.filePath(splitExtendedName(vobPath).path))) {
        throw new NotFoundError('element', vobPath, { hint: 'it is a view-private file; make it an element with msite mkelem' });
      }
      throw err;
    }
    const checkout = r.checkout && this.ownCheckouts.has(r.checkout.oid) ? r.checkout : undefined;
    return {
      vob: this.vob,
      element: r.element.oid,
      kind: r.element.kind,
      version: r.version?.oid,
      checkedOut: checkout !== undefined,
      checkout: checkout?.oid,
      file: this.filePath(r.path),
      path: r.path,
      rule: r.rule?.text,
      resolved: r,
    };
  }

  /** What update loaded at an element path, if anything. */
  loaded(vobPath: string): LoadedRow | undefined {
    return this.q('SELECT * FROM loaded WHERE path = ?').get(vobPath) as LoadedRow | undefined;
  }

  /** Records what the view now holds at an element path (after a load, checkin or uncheckout). */
  setLoaded(row: LoadedRow): void {
    this.q(UPSERT_LOADED_ONE).run(row.path, row.element, row.kind, row.version, row.rule, row.size, row.mtime, row.sha, row.mode ?? null);
  }

  /**
   * setLoaded for many rows (in the caller's transaction): LOADED_ROWS_PER_STATEMENT rows bound by
   * position at a time. Measured on a fresh view of 10,000 files: a named-parameter statement per row
   * took about 50 ms, this about 13.
   */
  recordLoaded(rows: readonly LoadedRow[]): void {
    const n = LOADED_ROWS_PER_STATEMENT;
    let i = 0;
    if (rows.length >= n) {
      const many = this.q(UPSERT_LOADED_MANY);
      const params: unknown[] = new Array<unknown>(n * 9);
      for (; i + n <= rows.length; i += n) {
        let k = 0;
        for (let j = i; j < i + n; j++) {
          const r = rows[j]!;
          params[k++] = r.path;
          params[k++] = r.element;
          params[k++] = r.kind;
          params[k++] = r.version;
          params[k++] = r.rule;
          params[k++] = r.size;
          params[k++] = r.mtime;
          params[k++] = r.sha;
          params[k++] = r.mode ?? null;
        }
        many.run(params);
      }
    }
    for (; i < rows.length; i++) this.setLoaded(rows[i]!);
  }

  /** Forgets what the view held at an element path (unloaded, removed). */
  dropLoaded(vobPath: string): void {
    this.q('DELETE FROM loaded WHERE path = ?').run(vobPath);
  }

  /** A prepared statement on the view database, kept for the life of the handle (update runs some per file). */
  q(sql: string): Statement {
    return this.statements.get(sql);
  }

  /** This view's checkout of `element`, if it has one. */
  checkoutOf(element: Oid): { checkout: Oid; path: string } | undefined {
    return this.q('SELECT checkout, path FROM view_checkout WHERE element = ?').get(element) as { checkout: Oid; path: string } | undefined;
  }

  /** This view's checkouts, by element path. */
  checkouts(): { element: Oid; checkout: Oid; path: string }[] {
    return this.db.prepare('SELECT element, checkout, path FROM view_checkout ORDER BY path').all() as {
      element: Oid;
      checkout: Oid;
      path: string;
    }[];
  }

  /** Records that this view made `checkout` (of `element`, at `vobPath`): CHECKEDOUT now selects it here. */
  adoptCheckout(element: Oid, checkout: Oid, vobPath: string): void {
    this.db.prepare('INSERT OR REPLACE INTO view_checkout (element, checkout, path) VALUES (?, ?, ?)').run(element, checkout, vobPath);
    this.ownCheckouts.add(checkout);
  }

  /** Forgets this view's checkout of `element` (checked in or cancelled), with its pending merges. */
  dropCheckout(element: Oid): void {
    const co = this.checkoutOf(element);
    if (!co) return;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM pending_merge WHERE checkout = ?').run(co.checkout);
      this.db.prepare('DELETE FROM view_checkout WHERE element = ?').run(element);
    })();
    this.ownCheckouts.delete(co.checkout);
  }

  /**
   * Records that `fromVersion` was merged into this view's checkout of `element`: the checkin of
   * that checkout draws a merge arrow from it to the new version; an uncheckout forgets it.
   *
   * @throws StateError when the element is not checked out in this view.
   */
  addPendingMerge(element: Oid, fromVersion: Oid): void {
    const co = this.checkoutOf(element);
    if (!co) throw new StateError(`element ${element} is not checked out in view "${this.tag}"`, { hint: 'check it out first' });
    this.db
      .prepare('INSERT OR IGNORE INTO pending_merge (checkout, element, from_version) VALUES (?, ?, ?)')
      .run(co.checkout, element, fromVersion);
  }

  /** Versions merged into this view's checkout of `element` and not yet checked in (none when not checked out). */
  pendingMerges(element: Oid): Oid[] {
    const co = this.checkoutOf(element);
    if (!co) return [];
    return this.db.prepare('SELECT from_version FROM pending_merge WHERE checkout = ? ORDER BY rowid').pluck().all(co.checkout) as Oid[];
  }

  close(): void {
    this.statements.clear();
    this.vob.close();
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens the view `path` is in: the nearest directory at or above it holding `.msite/view.db`. The
 * path need not exist (a file about to be made), but the view must.
 *
 * @throws NotAViewError when no view holds the path; StateError when the view's VOB is gone.
 */
export function openView(path: string, options: OpenViewOptions = {}): View {
  const root = findViewRoot(path);
  if (root === undefined) {
    throw new NotAViewError(path, existsSync(path) ? {} : { hint: `${path} does not exist; see msite lsview for the views of this site` });
  }
  return View.openAt(root, options);
}

/** The root of the view holding `path`, or undefined. */
export function findViewRoot(path: string): string | undefined {
  let dir = resolve(path.includes('@@') ? path.slice(0, path.indexOf('@@')) : path);
  for (;;) {
    if (existsSync(join(dir, VIEW_ADMIN_DIR, VIEW_DB_FILE))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Runs `fn` with the view `path` is in, closing it when `fn` returns or its promise settles. */
export function withView<T>(path: string, options: OpenViewOptions, fn: (view: View) => T): T {
  const view = openView(path, options);
  let result: T;
  try {
    result = fn(view);
  } catch (err) {
    view.close();
    throw err;
  }
  if (result instanceof Promise) {
    return result.finally(() => view.close()) as T;
  }
  view.close();
  return result;
}

/** Rows of `loaded` one statement of recordLoaded writes: 900 parameters, well under SQLite's 32,766. */
const LOADED_ROWS_PER_STATEMENT = 100;

/** An upsert of `rows` rows into `loaded`, nine parameters a row in the table's column order. */
function upsertLoaded(rows: number): string {
  const values = new Array<string>(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
  return `INSERT INTO loaded (path, element, kind, version, rule, size, mtime, sha, mode) VALUES ${values}
    ON CONFLICT (path) DO UPDATE SET element = excluded.element, kind = excluded.kind, version = excluded.version,
      rule = excluded.rule, size = excluded.size, mtime = excluded.mtime, sha = excluded.sha, mode = excluded.mode`;
}

const UPSERT_LOADED_ONE = upsertLoaded(1);
const UPSERT_LOADED_MANY = upsertLoaded(LOADED_ROWS_PER_STATEMENT);
