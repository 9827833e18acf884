import { dirname } from 'node:path';
import { chmodSync, copyFileSync, mkdirSync, lstatSync, symlinkSync, type Stats } from 'node:fs';
import { MastershipError, StateError, writingTo } from '../core/errors.js';
import type { Oid } from '../core/ids.js';
import { checkin, checkout, uncheckout } from '../vob/commands/checkouts.js';
import type { StagedBlob } from '../vob/contentPool.js';
import type { VersionMode } from '../vob/ops/schemas.js';
import { recordMergeArrow } from '../vob/mergeArrows.js';
import { branchPath, checkoutsOfElement, getBranch, getCheckout, getVersion, latestVersion, versionByNumber } from '../vob/queries.js';
import type { View } from './view.js';
import { updateView } from './updateView.js';
import {
  fileModeFor,
  fileState,
  keepName,
  loadVersionFile,
  readLinkBytes,
  stageViewFile,
  stampOf,
  statOrUndefined,
  versionModeOf,
} from './viewFiles.js';

export interface ViewCheckoutOptions {
  /** Default true. */
  reserved?: boolean;
  /** An unreserved checkout of a branch another replica masters (checkin will need mastership). */
  nmaster?: boolean;
  comment?: string;
}

/**
 * Checks out the element at `path` in the view: the branch its config spec selects (a `-mkbranch`
 * rule makes the branch first), and makes the file writable. When the view holds an older version
 * than the branch's latest (not updated since), the latest is loaded first; a hijacked file's bytes
 * are kept as the checkout's, as ClearCase offers.
 *
 * @throws MastershipError naming reqmaster when another replica masters the branch.
 */
export async function checkoutInView(
  view: View,
  path: string,
  options: ViewCheckoutOptions = {},
): Promise<{ path: string; branch: string; version: string; keptHijack: boolean }> {
  const spec = view.configSpec();
  const loc = view.locate(path);
  if (loc.checkedOut) throw new StateError(`"${loc.path}" is already checked out in this view`, { hint: 'check it in or uncheckout it' });
  const { vob } = view;
  let branch: string;
  try {
    ({ branch } = checkout(vob, view.vobPath(path), {
      reserved: options.reserved,
      nmaster: options.nmaster,
      comment: options.comment,
      config: spec,
    }));
  } catch (err) {
    if (err instanceof MastershipError) throw withReqmasterHint(err, loc.path, options);
    throw err;
  }
  const co = checkoutsOfElement(vob, loc.element, vob.self)[0]!;
  view.adoptCheckout(loc.element, co.oid, loc.path);
  const from = latestVersion(vob, getBranch(vob, co.branch)!);
  let keptHijack = false;
  if (loc.kind === 'file') {
    const loaded = view.loaded(loc.path);
    const state = loaded ? await fileState(loc.file, loaded) : { state: 'missing' as const };
    keptHijack = state.state === 'changed';
    if (state.state === 'missing' || (state.state === 'same' && (loaded?.version !== from.oid || (loaded.mode ?? null) !== from.mode))) {
      mkdirSync(dirname(loc.file), { recursive: true });
      await loadVersionFile(vob, from, loc.file, true);
    } else {
      makeWritable(loc.file);
    }
    const st = lstatSync(loc.file);
    view.setLoaded({
      path: loc.path,
      element: loc.element,
      kind: 'file',
      version: from.oid,
      rule: 'CHECKEDOUT',
      ...stamp(st),
      sha: keptHijack ? null : from.content,
      mode: keptHijack ? versionModeOf(st) : from.mode,
    });
  } else {
    const loaded = view.loaded(loc.path);
    if (loaded) view.setLoaded({ ...loaded, rule: 'CHECKEDOUT' });
  }
  return { path: loc.path, branch, version: `${branch}/${from.number}`, keptHijack };
}

function stamp(st: Stats): { size: number; mtime: number } {
  return stampOf(st);
}

/** Gives a file its owner's write bit (execute bits kept); a symbolic link is left alone, chmod would follow it. */
function makeWritable(file: string): void {
  const st = lstatSync(file);
  if (st.isFile()) writingTo('change the mode of', file, () => chmodSync(file, (st.mode & 0o7777) | 0o200));
}

/** Makes a checked-in file read-only as update loads it (execute bits as its mode says); a symbolic link is left alone. */
function makeReadOnly(file: string, mode: VersionMode): void {
  if (lstatSync(file).isFile()) writingTo('change the mode of', file, () => chmodSync(file, fileModeFor(mode, false)));
}

function withReqmasterHint(err: MastershipError, path: string, options: ViewCheckoutOptions): MastershipError {
  const data = err.data as { operation: string; replica: string; vob: string; object: string; master: string };
  const object = data.object.replace(/^branch "(.*)"$/, '$1');
  return new MastershipError(data, {
    hint:
      `request mastership with msite reqmaster ${object}` +
      (options.nmaster ? '' : `, or check out with --unreserved --nmaster (msite checkout --unreserved --nmaster ${path})`),
  });
}

export interface ViewCheckinOptions {
  comment?: string;
  /** Check in even when the file is identical to its predecessor. */
  identical?: boolean;
}

/**
 * Checks in the view's checkout of `path` with the view's file as the new version, and, in the same
 * VOB transaction, one merge arrow from each version merged into the checkout (View.addPendingMerge)
 * to the new version. The file becomes read-only again. The file's mode is recorded as gitimport
 * records a git mode: a file with an execute bit as `executable`, a symbolic link as `symlink` with
 * its target as content (not followed), so an update elsewhere loads it back the same.
 *
 * @throws StateError when not checked out in this view, or (without `identical`) unchanged.
 */
export async function checkinInView(
  view: View,
  path: string,
  options: ViewCheckinOptions = {},
): Promise<{ path: string; version: string; oid: Oid; mergeArrows: number }> {
  const loc = view.locate(path);
  if (!loc.checkout)
    throw new StateError(`"${loc.path}" is not checked out in this view`, { hint: `check it out first (msite checkout ${loc.path})` });
  const { vob } = view;
  const co = getCheckout(vob, loc.checkout)!;
  const branch = getBranch(vob, co.branch)!;
  const predecessor = latestVersion(vob, branch);
  const pending = view.pendingMerges(loc.element);
  let staged: StagedBlob | undefined;
  let mode: VersionMode = null;
  if (loc.kind === 'file') {
    const st = statOrUndefined(loc.file);
    if (!st) throw new StateError(`cannot check in "${loc.path}": the file is gone from the view`, { hint: 'restore it, or uncheckout' });
    if (!st.isFile() && !st.isSymbolicLink())
      throw new StateError(`cannot check in "${loc.path}": it is not a file or a symbolic link in the view`, {
        hint: 'put the file back, or uncheckout',
      });
    ({ staged, mode } = await stageViewFile(vob, loc.file, st));
    if (staged.sha === predecessor.content && mode === predecessor.mode && !options.identical && pending.length === 0) {
      staged.discard();
      throw new StateError(
        `cannot check in "${loc.path}": it is identical to its predecessor ${branchPath(vob, branch)}/${predecessor.number}`,
        {
          hint: 'use --identical to check it in anyway, or uncheckout it',
        },
      );
    }
  }
  try {
    const result = vob.transaction(() => {
      const r = checkin(vob, loc.path, {
        content: staged,
        mode: loc.kind === 'file' ? mode : undefined,
        comment: options.comment,
        config: view.configSpec(),
      });
      const made = versionByNumber(vob, branch.oid, getBranch(vob, branch.oid)!.last_number)!;
      for (const from of pending) recordMergeArrow(vob, from, made.oid);
      return { ...r, oid: made.oid, content: made.content };
    });
    view.dropCheckout(loc.element);
    if (loc.kind === 'file') {
      makeReadOnly(loc.file, mode);
      view.setLoaded({
        path: loc.path,
        element: loc.element,
        kind: 'file',
        version: result.oid,
        rule: ruleAfter(view, loc.file),
        ...stamp(lstatSync(loc.file)),
        sha: result.content,
        mode,
      });
    } else {
      const loaded = view.loaded(loc.path);
      if (loaded) view.setLoaded({ ...loaded, version: result.oid, rule: ruleAfter(view, loc.file) });
    }
    return { path: result.path, version: result.version, oid: result.oid, mergeArrows: pending.length };
  } finally {
    staged?.discard();
  }
}

function ruleAfter(view: View, file: string): string | null {
  return view.locate(file).rule ?? null;
}

/**
 * Cancels the view's checkout of `path`: the file goes back to the version the config spec selects
 * (read-only); with `keep`, the checked-out file is first copied to `NAME.keep` (`NAME.keep.1`, ...
 * when taken). Pending merges are forgotten.
 */
export async function uncheckoutInView(
  view: View,
  path: string,
  options: { keep?: boolean } = {},
): Promise<{ path: string; kept: string | undefined; version: string | undefined }> {
  const loc = view.locate(path);
  if (!loc.checkout) throw new StateError(`"${loc.path}" is not checked out in this view`);
  const { vob } = view;
  let kept: string | undefined;
  const st = loc.kind === 'file' ? statOrUndefined(loc.file) : undefined;
  if (options.keep && st) {
    const keep = keepName(loc.file);
    kept = keep;
    // A symbolic link is kept as a link to the same target, not as a copy of what it points to.
    writingTo('write', keep, () => (st.isSymbolicLink() ? symlinkSync(readLinkBytes(loc.file), keep) : copyFileSync(loc.file, keep)));
  }
  uncheckout(vob, loc.path, { config: view.configSpec() });
  view.dropCheckout(loc.element);
  const now = view.locate(loc.file);
  const version = now.version ? getVersion(vob, now.version) : undefined;
  if (loc.kind === 'file' && version) {
    const written = await loadVersionFile(vob, version, loc.file, false);
    view.setLoaded({
      path: loc.path,
      element: loc.element,
      kind: 'file',
      version: version.oid,
      rule: now.rule ?? null,
      ...written,
      sha: version.content,
      mode: version.mode,
    });
  } else if (loc.kind === 'directory' && version) {
    // The names the checkout added, removed or moved go back as the directory's version has them.
    await updateView(view, { paths: [loc.file] });
  }
  return { path: loc.path, kept, version: version ? `${branchPath(vob, getBranch(vob, version.branch)!)}/${version.number}` : undefined };
}
