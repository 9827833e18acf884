import { mkdirSync, readdirSync, renameSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.js';
import { InvalidInputError, StateError, writingTo } from '../core/errors.js';
import type { Oid } from '../core/ids.js';
import type { ConfigSpec } from '../vob/configSpec.js';
import { dirEntries, getElement, versionId } from '../vob/queries.js';
import { lookupElement, selectVersion } from '../vob/resolvePath.js';
import type { ElementKind, ElementRow, VersionRow } from '../vob/rows.js';
import type { Vob } from '../vob/vob.js';
import type { LoadedRow, View } from './view.js';
import { keepName } from './viewCheckouts.js';
import { fileState, hashViewFile, READONLY_MODE, statOrUndefined, STREAM_FROM_BYTES, streamViewFile, writeViewFile } from './viewFiles.js';

export interface UpdateOptions {
  /** Report what update would do, changing nothing (no log either). */
  print?: boolean;
  /** Replace hijacked files, keeping each as `NAME.keep`; default leave them and report them. */
  overwrite?: boolean;
  /** Limit the update to these paths in the view (and what is below them); default the whole view. */
  paths?: readonly string[];
  /** Files written between two records in the view database (default 1000). */
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
  rule: string;
}

/**
 * Loads the view's files to match its config spec, as ClearCase's `update` of a snapshot view:
 * loads each file and directory its load rules reach, in the version the element rules select;
 * unloads what they no longer reach; leaves this view's checkouts alone. A file changed without a
 * checkout (hijacked) is never replaced unless `overwrite`, which first keeps it as `NAME.keep`; a
 * hijacked file that is no longer loaded stays as a view-private file.
 *
 * Only files whose size or mtime moved since update wrote them are read (to hash them), so an update
 * with nothing to do costs a stat per file. Each file is written to a temp file and renamed into
 * place; the view database records them a batch at a time, and a file written but not yet recorded
 * when a crash stops the update is recognised by its hash next time.
 *
 * Writes a log of what it did to `.msite/update.<time>.updt`.
 */
export async function updateView(view: View, options: UpdateOptions = {}): Promise<UpdateResult> {
  const { vob } = view;
  const spec = view.configSpec();
  const scopes = (options.paths ?? []).map((p) => view.vobPath(p));
  const inScope = (path: string) =>
    scopes.length === 0 || scopes.some((s) => s === '.' || path === s || path.startsWith(`${s}/`) || s.startsWith(`${path}/`));
  const wanted = wantedTree(vob, spec, view.loadPaths());
  const loaded = new Map((view.db.prepare('SELECT * FROM loaded').all() as LoadedRow[]).map((r) => [r.path, r]));
  const mine = new Set(view.checkouts().map((c) => c.element as string));
  const entries: UpdateEntry[] = [];
  let unchanged = 0;
  const print = options.print === true;
  const batchSize = options.batch ?? 1000;
  let pending: LoadedRow[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    view.db.transaction(() => rows.forEach((r) => view.setLoaded(r)))();
  };
  const id = (v: VersionRow) => versionId(vob, v);

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

  const toLoad: { path: string; want: Wanted; keep: boolean }[] = [];
  for (const [path, want] of wanted) {
    if (!inScope(path)) continue;
    const row = loaded.get(path);
    const sameElement = row?.element === want.element.oid;
    if (want.kind === 'directory') {
      const dir = view.filePath(path);
      if (!statOrUndefined(dir)?.isDirectory()) {
        entries.push({ action: 'mkdir', path });
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
        });
      continue;
    }
    if (mine.has(want.element.oid)) continue;
    const file = view.filePath(path);
    if (row && sameElement) {
      const state = await fileState(file, row);
      if (row.version === want.version.oid && state.state === 'same') {
        unchanged++;
        if (!print && state.stamp && (state.stamp.mtime !== row.mtime || state.stamp.size !== row.size))
          pending.push({ ...row, ...state.stamp });
        continue;
      }
      if (state.state === 'changed') {
        if (!options.overwrite) {
          entries.push({ action: 'hijacked', path, version: versionIdOf(vob, row.version) });
          continue;
        }
        toLoad.push({ path, want, keep: true });
        continue;
      }
      toLoad.push({ path, want, keep: false });
      continue;
    }
    const st = statOrUndefined(file);
    if (st) {
      // Something is there that the view did not record: a file an interrupted update wrote (its
      // bytes are the version's), or a view-private file in the way.
      if (st.isFile() && (await hashViewFile(file, st.size)) === want.version.content) {
        if (!print) pending.push(loadedRow(path, want, { size: st.size, mtime: st.mtimeMs }));
        unchanged++;
        continue;
      }
      if (!options.overwrite || !st.isFile()) {
        entries.push({ action: 'in-the-way', path, version: id(want.version) });
        continue;
      }
      toLoad.push({ path, want, keep: true });
      continue;
    }
    toLoad.push({ path, want, keep: false });
  }

  for (let i = 0; i < toLoad.length; i += batchSize) {
    const batch = toLoad.slice(i, i + batchSize);
    const small = batch.filter((b) => vob.pool.sizeOf(b.want.version.content!) < STREAM_FROM_BYTES);
    const bytes = print ? new Map<string, Buffer>() : vob.pool.getMany(small.map((b) => b.want.version.content!));
    for (const { path, want, keep } of batch) {
      const file = view.filePath(path);
      let kept: string | undefined;
      if (keep) {
        kept = keepName(file);
        if (!print) writingTo('rename', file, () => renameSync(file, kept!));
      }
      entries.push(
        kept
          ? { action: 'overwrite', path, version: id(want.version), kept: view.vobPath(kept) }
          : { action: 'load', path, version: id(want.version) },
      );
      if (print) continue;
      const sha = want.version.content!;
      const content = bytes.get(sha);
      const stamp = content ? writeViewFile(file, content, READONLY_MODE) : await streamViewFile(vob, sha, file, READONLY_MODE);
      pending.push(loadedRow(path, want, stamp));
    }
    flush();
  }
  flush();

  let log: string | undefined;
  if (!print) {
    log = join(view.adminDir, `update.${(options.now ?? new Date()).toISOString().replace(/:/g, '-')}.updt`);
    writeFileAtomic(log, updateLog(view, entries, unchanged));
  }
  return { entries, unchanged, log };
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
  };
}

function versionIdOf(vob: Vob, version: Oid): string | undefined {
  const row = vob.q('SELECT * FROM version WHERE oid = ?').get(version) as VersionRow | undefined;
  return row ? versionId(vob, row) : undefined;
}

/**
 * Every file and directory the load rules reach, by element path, parents before children, each in
 * the version the element rules select. A name no rule selects a version of is not loaded.
 */
function wantedTree(vob: Vob, spec: ConfigSpec, loads: readonly string[]): Map<string, Wanted> {
  const out = new Map<string, Wanted>();
  const add = (path: string, element: ElementRow): Wanted | undefined => {
    if (out.has(path)) return out.get(path);
    const s = selectVersion(vob, element, path, spec);
    if (!s) return undefined;
    const w: Wanted = { element, kind: element.kind, version: s.version, rule: s.rule.text };
    out.set(path, w);
    return w;
  };
  const walk = (path: string, element: ElementRow) => {
    const w = add(path, element);
    if (!w || w.kind !== 'directory') return;
    const s = selectVersion(vob, element, path, spec)!;
    const entries = s.checkout?.entries
      ? new Map(Object.entries(JSON.parse(s.checkout.entries) as Record<string, Oid>))
      : dirEntries(vob, w.version.oid);
    for (const [name, child] of entries) walk(path === '.' ? name : `${path}/${name}`, getElement(vob, child)!);
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
