import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidInputError, StateError, writingTo } from '../core/errors.js';
import { mkelem } from '../vob/commands/elements.js';
import { mv, rmname } from '../vob/commands/namespace.js';
import type { ConfigSpec } from '../vob/configSpec.js';
import type { StagedBlob } from '../vob/contentPool.js';
import type { VersionMode } from '../vob/ops/schemas.js';
import { getElement, getVersion, latestVersion, mainBranch, versionId } from '../vob/queries.js';
import { resolveParent } from '../vob/resolvePath.js';
import type { LoadedRow, View } from './view.js';
import { fileModeFor, READONLY_MODE, stageViewFile, stampOf, statOrUndefined, writeViewFile } from './viewFiles.js';

export interface ViewMkelemOptions {
  kind: 'file' | 'directory';
  comment?: string;
  /** Check the parent directory out and back in around the creation. */
  auto?: boolean;
  master?: boolean;
  eltype?: string;
}

/**
 * The view's config spec for a VOB command that checks a directory out and in within itself (mkelem
 * --auto): CHECKEDOUT must see that checkout, which the view has not adopted.
 */
function unfiltered(view: View): ConfigSpec {
  const { ownsCheckout: _, ...spec } = view.configSpec();
  return spec;
}

/**
 * Makes a view-private file or directory an element (`mkelem`, `mkdir` in a view); a name with
 * nothing there yet gets an empty file or directory. A file's bytes become version /main/1 and the
 * file is left read-only as loaded, as outside views mkelem leaves the element checked in. A file
 * with an execute bit becomes an `executable` version and a symbolic link a `symlink` version (its
 * target the content, not followed), as gitimport records them. The parent directory must be
 * checked out in this view, or `auto` checks it out and in around it.
 */
export async function mkelemInView(view: View, path: string, options: ViewMkelemOptions): Promise<{ path: string; version: string }> {
  const vobPath = view.vobPath(path);
  const { vob } = view;
  const { parent } = resolveParent(vob, vobPath, view.configSpec());
  if (!options.auto && !view.checkoutOf(parent.element.oid)) {
    throw new StateError(`cannot create "${vobPath}": directory "${parent.path}" is not checked out in this view`, {
      hint: `check it out first (msite checkout ${parent.path}) or use --auto`,
    });
  }
  const file = view.filePath(vobPath);
  const st = statOrUndefined(file);
  if (st && (options.kind === 'directory') !== st.isDirectory()) {
    throw new InvalidInputError(`cannot make "${vobPath}" a ${options.kind} element: it is a ${st.isDirectory() ? 'directory' : 'file'}`);
  }
  if (st && options.kind === 'file' && !st.isFile() && !st.isSymbolicLink())
    throw new InvalidInputError(`cannot make "${vobPath}" a file element: it is neither a file nor a symbolic link`);
  let content: StagedBlob | undefined;
  let mode: VersionMode = null;
  if (options.kind === 'file' && st) ({ staged: content, mode } = await stageViewFile(vob, file, st));
  try {
    const made = mkelem(vob, vobPath, { ...options, content, mode, config: unfiltered(view) });
    const element = getElement(vob, made.element)!;
    const version = made.version ? getVersion(vob, made.version)! : latestVersion(vob, mainBranch(vob, element.oid));
    let row: LoadedRow;
    if (options.kind === 'directory') {
      if (!st) writingTo('create directory', file, () => mkdirSync(file, { recursive: true }));
      row = {
        path: made.path,
        element: element.oid,
        kind: 'directory',
        version: version.oid,
        rule: null,
        size: null,
        mtime: null,
        sha: null,
        mode: null,
      };
    } else {
      // A symbolic link keeps its own bits: chmod would follow it.
      if (st?.isFile()) writingTo('change the mode of', file, () => chmodSync(file, fileModeFor(mode, false)));
      const stamp = st ? stampOf(lstatSync(file)) : writeViewFile(file, new Uint8Array(), READONLY_MODE);
      row = { path: made.path, element: element.oid, kind: 'file', version: version.oid, rule: null, ...stamp, sha: version.content, mode };
    }
    row.rule = view.locate(file).rule ?? null;
    view.setLoaded(row);
    if (options.auto) refreshDirectory(view, parent.path);
    return { path: made.path, version: versionId(vob, version) };
  } finally {
    content?.discard();
  }
}

/** After a directory's checkin through --auto: the view records the new directory version it shows. */
function refreshDirectory(view: View, vobPath: string): void {
  const row = view.loaded(vobPath);
  if (!row) return;
  const loc = view.locate(view.filePath(vobPath));
  if (loc.version) view.setLoaded({ ...row, version: loc.version, rule: loc.rule ?? null });
}

/**
 * Removes a name from its directory (checked out in this view), as ClearCase's `rmname`, and its
 * loaded files from the view; view-private files below a removed directory stay where they are.
 */
export function rmnameInView(view: View, path: string): { path: string } {
  const loc = view.locate(path);
  if (loc.checkedOut)
    throw new StateError(`cannot remove "${loc.path}": it is checked out in this view`, { hint: 'check it in or uncheckout it first' });
  requireParentCheckedOut(view, loc.path);
  const r = rmname(view.vob, loc.path, { config: view.configSpec() });
  const rows = loadedAt(view, loc.path);
  for (const row of rows.filter((x) => x.kind === 'file')) {
    const file = view.filePath(row.path);
    if (statOrUndefined(file)) writingTo('remove', file, () => unlinkSync(file));
  }
  for (const row of rows.filter((x) => x.kind === 'directory').sort((a, b) => b.path.length - a.path.length)) {
    const dir = view.filePath(row.path);
    if (statOrUndefined(dir)?.isDirectory() && readdirSync(dir).length === 0) writingTo('remove', dir, () => rmdirSync(dir));
  }
  view.db.transaction(() => rows.forEach((row) => view.dropLoaded(row.path)))();
  return r;
}

/** Moves an element to a new name (both directories checked out in this view), its files with it. */
export function mvInView(view: View, from: string, to: string): { from: string; to: string } {
  const loc = view.locate(from);
  const target = view.vobPath(to);
  requireParentCheckedOut(view, loc.path);
  requireParentCheckedOut(view, target);
  if (statOrUndefined(view.filePath(target))) throw new InvalidInputError(`cannot move to "${target}": something is there in the view`);
  const r = mv(view.vob, loc.path, target, { config: view.configSpec() });
  const source = view.filePath(loc.path);
  if (statOrUndefined(source)) {
    writingTo('create directory', dirname(view.filePath(target)), () => mkdirSync(dirname(view.filePath(target)), { recursive: true }));
    writingTo('rename', source, () => renameSync(source, view.filePath(target)));
  }
  const rows = loadedAt(view, loc.path);
  view.db.transaction(() => {
    for (const row of rows) {
      view.dropLoaded(row.path);
      view.setLoaded({ ...row, path: target + row.path.slice(loc.path.length) });
    }
  })();
  for (const c of view.checkouts()) {
    if (c.path === loc.path || c.path.startsWith(`${loc.path}/`))
      view.adoptCheckout(c.element, c.checkout, target + c.path.slice(loc.path.length));
  }
  return r;
}

function requireParentCheckedOut(view: View, vobPath: string): void {
  const { parent } = resolveParent(view.vob, vobPath, view.configSpec());
  if (!view.checkoutOf(parent.element.oid)) {
    throw new StateError(`directory "${parent.path}" is not checked out in this view`, {
      hint: `check it out first (msite checkout ${parent.path})`,
    });
  }
}

function loadedAt(view: View, vobPath: string): LoadedRow[] {
  return view.db
    .prepare("SELECT * FROM loaded WHERE path = ? OR path BETWEEN ? || '/' AND ? || '0'")
    .all(vobPath, vobPath, vobPath) as LoadedRow[];
}
