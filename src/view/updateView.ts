import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleTempFiles } from '../core/atomicFile.js';
import { InvalidInputError, StateError, writingTo } from '../core/errors.js';
import type { Oid } from '../core/ids.js';
import type { ConfigSpec } from '../vob/configSpec.js';
import { branchPath, dirEntries, getBranch, getElement, getType } from '../vob/queries.js';
import { BulkSelection } from '../vob/bulkSelection.js';
import { lookupElement } from '../vob/resolvePath.js';
import type { VersionMode } from '../vob/ops/schemas.js';
import type { BranchRow, ElementKind, ElementRow, VersionRow } from '../vob/rows.js';
import type { Vob } from '../vob/vob.js';
import type { LoadedRow, View } from './view.js';
import {
  fileModeFor,
  fileState,
  hashViewEntry,
  isLoadedKind,
  keepName,
  stampOf,
  statOrUndefined,
  STREAM_FROM_BYTES,
  streamViewFile,
  writeNewViewFile,
  writeNewViewSymlink,
  writeViewFile,
  writeViewSymlink,
  WRITABLE_MODE,
} from './viewFiles.js';

export interface UpdateOptions {
  /** Report what update would do, changing nothing (no log either). */
  print?: boolean;
  /** Replace hijacked files, keeping each as `NAME.keep`; default leave them and report them. */
  overwrite?: boolean;
  /** Limit the update to these paths in the view (and what is below them); default the whole view. */
  paths?: readonly string[];
  /** Files read from the pool, written, then recorded in the view database at a time (default 5000). */
  batch?: number;
  /** When the update runs, for the log's name (default now). */
  now?: Date;
}

/** One line of an update's report and log. */
export interface UpdateEntry {
  action: 'load' | 'unload' | 'hijacked' | 'overwrite' | 'mkdir' | 'rmdir' | 'in-the-way';
  path: string;
  /** The version loaded (`/main/3`), or for a hijacked file the version it was loaded from. */
  version?: string;
  /** For `overwrite` and an overwritten `in-the-way`: where the file was kept. */
  kept?: string;
}

export interface UpdateResult {
  entries: UpdateEntry[];
  /** Loaded files and directories that were already as the config spec selects. */
  unchanged: number;
  /** The update log written (absent with `print`). */
  log: string | undefined;
}

interface Wanted {
  element: ElementRow;
  kind: ElementKind;
  version: VersionRow;
  branch: BranchRow;
  rule: string;
  /** A directory checked out in this view: its working entries (JSON). */
  entries: string | undefined;
}

/**
 * Loads the view's files to match its config spec, as ClearCase's `update` of a snapshot view:
 * loads each file and directory its load rules reach, in the version the element rules select;
 * unloads what they no longer reach; leaves this view's checkouts alone. A file changed without a
 * checkout (hijacked) is never replaced unless `overwrite`, which first keeps it as `NAME.keep`; a
 * hijacked file that is no longer loaded stays as a view-private file.
 *
 * Only files whose size or mtime moved since update wrote them are read (to hash them), so an update
 * with nothing to do costs a stat per file. A file where nothing was is created in place; one that
 * replaces another is written to a temp file and renamed over it. The view database records them a
 * batch at a time; what a crash leaves, and how the next update repairs it, is told at WRITING_KEY.
 *
 * A version's mode decides how it is written: an executable with its execute bits, a symlink as a
 * symbolic link to its content (made under a temp name and renamed into place, never followed,
 * wherever it points). A version whose mode differs from the file's is loaded again.
 *
 * Writes a log of what it did to `.msite/update.<time>.updt`.
 */
export async function updateView(view: View, options: UpdateOptions = {}): Promise<UpdateResult> {
  const { vob } = view;
  const spec = view.configSpec();
  const scopes = (options.paths ?? []).map((p) => view.vobPath(p));
  const inScope = (path: string) =>
    scopes.length === 0 || scopes.some((s) => s === '.' || path === s || path.startsWith(`${s}/`) || s.startsWith(`${path}/`));
  const print = options.print === true;
  // What the last update that left the view exactly as its spec selects saw: the VOB's last oplog
  // entry (every change to a VOB appends one, imports included), the spec's rules as parsed
  // (included files' too) and its load rules. The same now means the same files are wanted.
  // The leading mark changes when what update writes changes (`modes`: executables and symlinks), so
  // a view left clean by an older msite is looked at once in full.
  const fingerprint = JSON.stringify([
    'modes',
    vob.q('SELECT max(seq) FROM oplog').pluck().get(),
    spec.rules.map((r) => r.text),
    view.loadPaths(),
  ]);
  if (scopes.length === 0 && view.meta(CLEAN_KEY) === fingerprint) {
    const same = await unchangedFiles(view);
    if (same !== undefined) {
      if (!print && same.restamped.length > 0) view.db.transaction(() => same.restamped.forEach((r) => view.setLoaded(r)))();
      return { entries: [], unchanged: same.count, log: print ? undefined : writeLog(view, [], same.count, options.now) };
    }
  }
  const loadedRows = view.q('SELECT * FROM loaded').all() as LoadedRow[];
  const wanted = wantedTree(vob, spec, view.loadPaths());
  const loaded = new Map(loadedRows.map((r) => [r.path, r]));
  const mine = new Set(view.checkouts().map((c) => c.element as string));
  const entries: UpdateEntry[] = [];
  let unchanged = 0;
  const batchSize = options.batch ?? 5000;
  let pending: LoadedRow[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    view.db.transaction(() => view.recordLoaded(rows))();
  };
  // Files an update before this one wrote in place and may not have finished (it stopped first).
  const writing = new Set(JSON.parse(view.meta(WRITING_KEY) ?? '[]') as string[]);
  // Most versions are on an element's main branch, whose path is its type's name alone: named once per type.
  const typeNames = new Map<string, string>();
  const id = (v: VersionRow, branch?: BranchRow) => {
    if (branch?.parent_version === null) {
      let name = typeNames.get(branch.brtype);
      if (name === undefined) {
        name = getType(vob, branch.brtype)?.name ?? branch.brtype;
        typeNames.set(branch.brtype, name);
      }
      return `/${name}/${v.number}`;
    }
    return `${branchPath(vob, branch ?? getBranch(vob, v.branch)!)}/${v.number}`;
  };

  // Unload first: what no rule reaches any more (a name that now holds another element is reloaded below).
  const gone = [...loaded.values()].filter((r) => inScope(r.path) && wanted.get(r.path)?.element.oid !== r.element);
  for (const row of gone.filter((r) => r.kind === 'file')) {
    if (mine.has(row.element)) continue;
    const file = view.filePath(row.path);
    const state = await fileState(file, row);
    if (state.state === 'changed') {
      entries.push({ action: 'hijacked', path: row.path, version: versionIdOf(vob, row.version) });
    } else {
      entries.push({ action: 'unload', path: row.path });
      if (!print && state.state === 'same') writingTo('remove', file, () => unlinkSync(file));
    }
    if (!print) view.dropLoaded(row.path);
  }
  for (const row of gone.filter((r) => r.kind === 'directory').sort((a, b) => b.path.length - a.path.length)) {
    if (row.path === '.') continue;
    const dir = view.filePath(row.path);
    entries.push({ action: 'rmdir', path: row.path });
    if (print) continue;
    // A directory holding view-private files stays, as those files do.
    if (statOrUndefined(dir)?.isDirectory() && readdirSync(dir).length === 0) writingTo('remove', dir, () => rmdirSync(dir));
    view.dropLoaded(row.path);
  }

  // `fresh`: nothing is at the path (no row, nothing seen there, or a directory this update made), so
  // the file is created in place rather than under a temp name renamed over.
  const toLoad: { path: string; want: Wanted; keep: boolean; fresh: boolean }[] = [];
  const made = new Set<string>();
  for (const [path, want] of wanted) {
    if (!inScope(path)) continue;
    const row = loaded.get(path);
    const sameElement = row?.element === want.element.oid;
    if (want.kind === 'directory') {
      const dir = view.filePath(path);
      const exists = statOrUndefined(dir)?.isDirectory() === true;
      // Temp files an interrupted update left (its process gone) would show as view-private.
      if (exists && !print) removeStaleTempFiles(dir);
      if (!exists) {
        entries.push({ action: 'mkdir', path });
        made.add(path);
        if (!print) writingTo('create directory', dir, () => mkdirSync(dir, { recursive: true }));
      } else if (sameElement && row.version === want.version.oid) {
        unchanged++;
        continue;
      }
      if (!print)
        pending.push({
          path,
          element: want.element.oid,
          kind: 'directory',
          version: want.version.oid,
          rule: want.rule,
          size: null,
          mtime: null,
          sha: null,
          mode: null,
        });
      continue;
    }
    if (mine.has(want.element.oid)) continue;
    const file = view.filePath(path);
    if (row && sameElement) {
      const state = await fileState(file, row);
      if (row.version === want.version.oid && (row.mode ?? null) === want.version.mode && state.state === 'same') {
        unchanged++;
        if (!print && state.stamp && (state.stamp.mtime !== row.mtime || state.stamp.size !== row.size))
          pending.push({ ...row, ...state.stamp });
        continue;
      }
      // A file an update was writing when it stopped is loaded again, not taken as hijacked.
      if (state.state === 'changed' && !writing.has(path)) {
        if (!options.overwrite) {
          entries.push({ action: 'hijacked', path, version: versionIdOf(vob, row.version) });
          continue;
        }
        toLoad.push({ path, want, keep: true, fresh: false });
        continue;
      }
      toLoad.push({ path, want, keep: false, fresh: false });
      continue;
    }
    // Nothing can be in a directory this update made.
    const st = made.has(parentOf(path)) ? undefined : statOrUndefined(file);
    if (st) {
      // Something is there that the view did not record: a file an interrupted update wrote (its
      // bytes are the version's), or a view-private file in the way.
      if (isLoadedKind(st, want.version.mode) && (await hashViewEntry(file, st)) === want.version.content) {
        if (!print) {
          // A file another writer left with these bytes is made read-only (or executable) as a loaded one.
          if (st.isFile()) writingTo('change the mode of', file, () => chmodSync(file, fileModeFor(want.version.mode, false)));
          pending.push(loadedRow(path, want, stampOf(st)));
        }
        unchanged++;
        continue;
      }
      const entry = st.isFile() || st.isSymbolicLink();
      // Bytes an interrupted update began to write here, not yet all of them: replaced, not kept.
      if (entry && writing.has(path)) {
        toLoad.push({ path, want, keep: false, fresh: false });
        continue;
      }
      if (!options.overwrite || !entry) {
        entries.push({ action: 'in-the-way', path, version: id(want.version, want.branch) });
        continue;
      }
      toLoad.push({ path, want, keep: true, fresh: false });
      continue;
    }
    toLoad.push({ path, want, keep: false, fresh: true });
  }

  // Files created in place are named first, durably, in the view database (see WRITING_KEY); the
  // clean mark goes at once, so the next update looks at every file if this one stops.
  if (!print) {
    const fresh = toLoad.filter((t) => t.fresh).map((t) => t.path);
    if (fresh.length > 0) {
      for (const p of fresh) writing.add(p);
      view.db.pragma('synchronous = FULL');
      try {
        view.db.transaction(() => {
          view.setMeta(CLEAN_KEY, undefined);
          view.setMeta(WRITING_KEY, JSON.stringify([...writing]));
        })();
      } finally {
        view.db.pragma('synchronous = NORMAL');
      }
    }
  }

  for (let i = 0; i < toLoad.length; i += batchSize) {
    const batch = toLoad.slice(i, i + batchSize);
    // Sizes of all, bytes of those small enough to hold: larger ones are streamed into the view.
    const { sizes, bytes } = print
      ? { sizes: new Map<string, number>(), bytes: new Map<string, Buffer>() }
      : vob.pool.sizesAndSmall(
          batch.map((b) => b.want.version.content!),
          STREAM_FROM_BYTES,
        );
    for (const { path, want, keep, fresh } of batch) {
      const file = view.filePath(path);
      let kept: string | undefined;
      if (keep) {
        kept = keepName(file);
        if (!print) writingTo('rename', file, () => renameSync(file, kept!));
      }
      entries.push(
        kept
          ? { action: 'overwrite', path, version: id(want.version, want.branch), kept: view.vobPath(kept) }
          : { action: 'load', path, version: id(want.version, want.branch) },
      );
      if (print) continue;
      const sha = want.version.content!;
      // Small blobs sizesAndSmall left out (in files of the pool) are read whole; get names a missing or damaged one.
      const content = bytes.get(sha) ?? ((sizes.get(sha) ?? 0) < STREAM_FROM_BYTES ? vob.pool.get(sha) : undefined);
      const mode = fileModeFor(want.version.mode, false);
      const stamp =
        want.version.mode === 'symlink'
          ? fresh
            ? writeNewViewSymlink(file, content ?? vob.pool.get(sha))
            : writeViewSymlink(file, content ?? vob.pool.get(sha))
          : content
            ? fresh
              ? writeNewViewFile(file, content, mode)
              : writeViewFile(file, content, mode)
            : await streamViewFile(vob, sha, file, mode);
      if (!stamp) {
        // Something came to be at the path since it was looked at: left alone, as anything in the way.
        entries[entries.length - 1] = { action: 'in-the-way', path, version: id(want.version, want.branch) };
        continue;
      }
      pending.push(loadedRow(path, want, stamp));
    }
    // The last batch is recorded with the update's end, in one transaction.
    if (i + batchSize < toLoad.length) flush();
  }

  if (!print) {
    const settled = scopes.length === 0 && !entries.some((e) => e.action === 'hijacked' || e.action === 'in-the-way');
    // What this update looked at is recorded now; only marks of paths outside its scope remain.
    const left = [...writing].filter((p) => !inScope(p));
    view.db.transaction(() => {
      view.recordLoaded(pending);
      view.setMeta(CLEAN_KEY, settled ? fingerprint : undefined);
      view.setMeta(WRITING_KEY, left.length > 0 ? JSON.stringify(left) : undefined);
    })();
    pending = [];
  }
  return { entries, unchanged, log: print ? undefined : writeLog(view, entries, unchanged, options.now) };
}

/** View meta key: the fingerprint of the VOB and spec the view was last left exactly matching. */
const CLEAN_KEY = 'clean_at';

/**
 * View meta key: the paths (JSON) an update is creating in place, set durably (one fsync) before the
 * first is written and removed in the transaction that records the last, when the update ends.
 *
 * A view's files are a copy of versions the VOB keeps, so they are written as git's checkout writes
 * a work tree: a new file is created in place (open, write, close), an existing one replaced through
 * a temp file renamed over it, and none is fsynced. What a crash can leave, and how the next update
 * repairs it:
 * - update stopped (killed, an error): files it wrote that are not recorded yet, the last maybe short.
 *   Each is hashed: the version's bytes are recorded as loaded; other bytes at a marked path are
 *   written again (not taken for a view-private file in the way, nor for a hijack). Temp files of
 *   replaced files are removed (removeStaleTempFiles).
 * - the machine stopped: as above while the mark is there; file bytes the kernel had not written back
 *   may also be lost from files whose rows were recorded after. Once the mark is gone too, such a
 *   file shows as hijacked, and `update -overwrite` loads it again (keeping the short one as .keep).
 * A user's edit to a marked file before the next update is replaced, as the half-written file it was.
 */
const WRITING_KEY = 'writing';

/**
 * With nothing changed in the VOB or the spec since an update left the view matching it, only the
 * files can have changed: the loaded rows whose stamps moved but whose bytes did not (to record their
 * new stamps), or undefined when any file or directory is changed or gone (a full update then looks).
 */
async function unchangedFiles(view: View): Promise<{ count: number; restamped: LoadedRow[] } | undefined> {
  // Rows as arrays of the columns needed: a view of many files reads them all on every update.
  const rows = view.q('SELECT path, kind, element, size, mtime, mode FROM loaded').raw().all() as [
    string,
    ElementKind,
    string,
    number,
    number,
    VersionMode,
  ][];
  const restamped: LoadedRow[] = [];
  const mine = new Set(view.checkouts().map((c) => c.element as string));
  const root = view.root;
  for (const [path, kind, element, size, mtime, mode] of rows) {
    if (mine.has(element)) continue;
    // Element paths are normalized, so the file's path is the root and the path joined by hand.
    const file = path === '.' ? root : `${root}/${path}`;
    // The stamp alone settles almost every file, so the look-up stays synchronous until one needs hashing.
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (kind === 'directory') {
      if (!st?.isDirectory()) return undefined;
      continue;
    }
    if (!st || !isLoadedKind(st, mode)) return undefined;
    if (st.size === size && st.mtimeMs === mtime) continue;
    const row = view.loaded(path)!;
    const state = await fileState(file, row);
    if (state.state !== 'same') return undefined;
    restamped.push({ ...row, ...state.stamp });
  }
  return { count: rows.length, restamped };
}

function writeLog(view: View, entries: readonly UpdateEntry[], unchanged: number, now: Date | undefined): string {
  const log = join(view.adminDir, `update.${(now ?? new Date()).toISOString().replace(/:/g, '-')}.updt`);
  // Whole or not at all, as the view's files, and as they are, not fsynced (that took two fsyncs an
  // update): a log a crash of the machine loses leaves the view's state as it was.
  writeViewFile(log, Buffer.from(updateLog(view, entries, unchanged)), WRITABLE_MODE);
  return log;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '.' : path.slice(0, slash);
}

function loadedRow(path: string, want: Wanted, stamp: { size: number; mtime: number }): LoadedRow {
  return {
    path,
    element: want.element.oid,
    kind: 'file',
    version: want.version.oid,
    rule: want.rule,
    size: stamp.size,
    mtime: stamp.mtime,
    sha: want.version.content,
    mode: want.version.mode ?? null,
  };
}

function versionIdOf(vob: Vob, version: Oid): string | undefined {
  const row = vob.q('SELECT * FROM version WHERE oid = ?').get(version) as VersionRow | undefined;
  return row ? `${branchPath(vob, getBranch(vob, row.branch)!)}/${row.number}` : undefined;
}

/**
 * Every file and directory the load rules reach, by element path, parents before children, each in
 * the version the element rules select. A name no rule selects a version of is not loaded.
 */
function wantedTree(vob: Vob, spec: ConfigSpec, loads: readonly string[]): Map<string, Wanted> {
  const out = new Map<string, Wanted>();
  const bulk = new BulkSelection(vob, spec);
  const add = (path: string, element: ElementRow): Wanted | undefined => {
    const seen = out.get(path);
    if (seen) return seen;
    const s = bulk.select(element, path);
    if (!s) return undefined;
    const w: Wanted = {
      element,
      kind: element.kind,
      version: s.version,
      branch: s.branch,
      rule: s.rule.text,
      entries: s.checkout?.entries ?? undefined,
    };
    out.set(path, w);
    return w;
  };
  const walk = (path: string, element: ElementRow) => {
    const w = add(path, element);
    if (!w || w.kind !== 'directory') return;
    const entries = w.entries ? new Map(Object.entries(JSON.parse(w.entries) as Record<string, Oid>)) : dirEntries(vob, w.version.oid);
    for (const [name, child] of entries) walk(path === '.' ? name : `${path}/${name}`, bulk.element(child) ?? getElement(vob, child)!);
  };
  for (const load of loads) {
    let element: ElementRow;
    try {
      element = lookupElement(vob, load, spec);
    } catch (err) {
      throw new InvalidInputError(`load rule "${load}": ${(err as Error).message}`, {
        cause: err,
        hint: 'fix the load rule with msite setcs or edcs',
      });
    }
    // The directories above a load rule's path are loaded too (without their other entries).
    const parts = load === '.' ? [] : load.split('/');
    for (let i = 0; i < parts.length; i++) {
      const up = i === 0 ? '.' : parts.slice(0, i).join('/');
      if (!add(up, lookupElement(vob, up, spec)))
        throw new StateError(`load rule "${load}": the config spec selects no version of "${up}"`);
    }
    walk(load, element);
  }
  return out;
}

/** The update log's text, as ClearCase words its lines. */
function updateLog(view: View, entries: readonly UpdateEntry[], unchanged: number): string {
  const lines = [`Update of view "${view.tag}" (${view.root}) on VOB ${view.vobTag}`, ''];
  for (const e of entries) lines.push(describeEntry(e));
  lines.push('', `${entries.filter((e) => e.action === 'load' || e.action === 'overwrite').length} loaded, ${unchanged} unchanged.`, '');
  return lines.join('\n');
}

/** One entry as a line of the log and of `update`'s output. */
export function describeEntry(e: UpdateEntry): string {
  switch (e.action) {
    case 'load':
      return `Loading "${e.path}" (${e.version}).`;
    case 'unload':
      return `Unloaded "${e.path}".`;
    case 'mkdir':
      return `Making dir "${e.path}".`;
    case 'rmdir':
      return `Unloaded directory "${e.path}".`;
    case 'hijacked':
      return `Keeping hijacked object "${e.path}" - base "${e.version ?? '?'}".`;
    case 'overwrite':
      return `Hijacked "${e.path}" kept as "${e.kept}"; loading "${e.path}" (${e.version}).`;
    case 'in-the-way':
      return `Not loading "${e.path}" (${e.version}): a view-private object is in the way.`;
  }
}
