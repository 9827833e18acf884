import { writeFileAtomic } from '../core/atomicFile.js';
import { InvalidInputError, StateError } from '../core/errors.js';
import type { Oid } from '../core/ids.js';
import { resolvePath } from '../vob/resolvePath.js';
import { getVersion, versionId } from '../vob/queries.js';
import type { VersionRow } from '../vob/rows.js';
import type { Located, View } from './view.js';
import { readViewContent, statOrUndefined, WRITABLE_MODE, writeViewSymlink } from './viewFiles.js';
import { alreadyMerged, mergeAncestor } from './mergeAncestor.js';
import { mergeDirectory, type DirectoryMergeNames } from './mergeDirectory.js';
import { updateView } from './updateView.js';
import { conflictBlocksIn, mergeContents, type ConflictBlock, type MergeChoice } from './mergeContents.js';

export interface MergeOptions {
  /** Show the result, write nothing and record no merge. */
  print?: boolean;
  /** Where both sides changed the same lines, or for a binary file, take this side instead of writing conflict blocks. */
  choose?: MergeChoice;
  /** ClearCase's `-ndata`: leave the file as it is and only record the merge (its arrow). */
  ndata?: boolean;
}

/** What merging one version did. */
export interface ContributorReport {
  /** The version merged, `/main/blr/2`. */
  version: string;
  /** The common ancestor used as base, `/main/1`; absent when the version was merged already. */
  base?: string;
  /**
   * `merged` (three-way), `trivial` (the target had not changed since the base: the version taken
   * whole), `chosen` (binary: the side chosen), `unchanged` (the version brought nothing new),
   * `ndata` (only the arrow), `already-merged` (an ancestor of the target: nothing to do, no arrow).
   */
  how: 'merged' | 'trivial' | 'chosen' | 'unchanged' | 'ndata' | 'already-merged';
}

export interface MergeReport {
  /** The element path of the file merged to. */
  path: string;
  /** The file merged to, in the view. */
  file: string;
  /** The version the target stands on: what the checkout was made from (or, printing, what the view selects). */
  target: string;
  contributors: ContributorReport[];
  /** Conflict blocks left in the result, by 1-based line numbers of their markers. */
  conflicts: ConflictBlock[];
  /** Whether the file was written (false with --print or when nothing changed it). */
  written: boolean;
  /** For a directory: the names the merge entered, removed, or left in conflict. */
  names?: DirectoryMergeNames;
  /** The merged bytes of a file, with --print. */
  result?: Buffer;
}

function checkedOutBytes(target: Located): Buffer {
  if (!statOrUndefined(target.file)) {
    throw new StateError(`cannot merge to "${target.path}": the checked-out file is gone from the view`, {
      hint: 'restore it, or uncheckout',
    });
  }
  return readViewContent(target.file);
}

/** Writes a merge's result over the checked-out file: a symbolic link's new target, else the bytes with the file's own permission bits. */
function writeMerged(file: string, bytes: Buffer): void {
  const st = statOrUndefined(file);
  if (st?.isSymbolicLink()) writeViewSymlink(file, bytes);
  else writeFileAtomic(file, bytes, { mode: st ? st.mode & 0o7777 : WRITABLE_MODE });
}

/** Resolves a VERSION argument: a version-extended path in the view, or `/main/blr/LATEST` of the target's element. */
function resolveContributor(view: View, target: Located, text: string): VersionRow {
  const extended = text.includes('@@')
    ? view.vobPath(text)
    : text.startsWith('/') || text.startsWith('.../')
      ? `${target.path}@@${text}`
      : undefined;
  if (!extended) {
    throw new InvalidInputError(`bad version "${text}"`, { hint: 'name it as PATH@@/main/BRANCH/N, PATH@@LABEL or /main/BRANCH/LATEST' });
  }
  const r = resolvePath(view.vob, extended, view.configSpec());
  if (r.element.oid !== target.element) {
    throw new InvalidInputError(`cannot merge ${text} to "${target.path}": it is a version of another element ("${r.path}")`);
  }
  if (!r.version) throw new InvalidInputError(`"${text}" names no version`, { hint: 'name one with /N or /LATEST' });
  return r.version;
}

/**
 * Merges `versions` (in order) into the checked-out file `file` of `view`, as `cleartool merge -to`:
 * each one three-way against its closest common ancestor with what the file already holds (the
 * checkout's predecessor and the versions already merged into it, merge arrows followed). Changes
 * that do not overlap are merged automatically; overlapping ones become conflict blocks in the file
 * (MergeReport.conflicts says where) unless `choose` names a side. Each version merged is recorded
 * as a pending merge of the checkout, which its checkin turns into a merge arrow; a version already
 * merged is left out. With `print`, the file must only be in the view: nothing is written or recorded.
 * A directory's names are merged by mergeDirectory, and the view then updated to match them.
 *
 * @throws StateError when the file is not checked out in this view (without `print`);
 *   MergeBinaryError for binary files without `choose` or `ndata`.
 */
export async function mergeVersions(
  view: View,
  file: string,
  versions: readonly string[],
  options: MergeOptions = {},
): Promise<MergeReport> {
  if (versions.length === 0) throw new InvalidInputError('name the versions to merge from', { hint: 'msite merge --to FILE VERSION...' });
  const target = view.locate(file);
  if (!target.checkedOut && !options.print) {
    throw new StateError(`cannot merge to "${target.path}": it is not checked out in this view`, {
      hint: `check it out first (msite checkout ${target.path}), or see the result with --print`,
    });
  }
  if (!target.version) throw new StateError(`no version of "${target.path}" is selected in this view`);
  const { vob } = view;
  const sources = versions.map((v) => resolveContributor(view, target, v));
  const heads: Oid[] = [target.version, ...view.pendingMerges(target.element)];
  const directory = target.kind === 'directory';
  // A checkout's file holds the work in progress; otherwise the version the view selects is what is merged to.
  let ours: Buffer = directory
    ? Buffer.alloc(0)
    : target.checkedOut
      ? checkedOutBytes(target)
      : vob.pool.get(getVersion(vob, target.version)!.content!);
  const names: DirectoryMergeNames = { added: [], removed: [], conflicts: [] };
  const original = ours;
  let conflicted = false;
  const contributors: ContributorReport[] = [];
  const recorded: Oid[] = [];
  const targetName = versionId(vob, getVersion(vob, target.version)!);
  for (const source of sources) {
    const name = versionId(vob, source);
    if (alreadyMerged(vob, source.oid, heads)) {
      contributors.push({ version: name, how: 'already-merged' });
      continue;
    }
    const base = mergeAncestor(vob, heads, source.oid);
    const report: ContributorReport = { version: name, base: versionId(vob, base), how: 'ndata' };
    if (directory && !options.ndata) {
      const merged = mergeDirectory(view, target, base, source, { print: options.print });
      for (const k of ['added', 'removed', 'conflicts'] as const) names[k].push(...merged[k]);
      report.how = merged.added.length + merged.removed.length + merged.conflicts.length ? 'merged' : 'unchanged';
    } else if (!options.ndata) {
      const merged = mergeContents(
        target.path,
        vob.pool.get(base.content!),
        { label: `${target.path} (${target.checkedOut ? 'checked out from ' : ''}${targetName})`, bytes: ours },
        { label: `${target.path}@@${name}`, bytes: vob.pool.get(source.content!) },
        { choose: options.choose },
      );
      ours = merged.bytes;
      conflicted ||= merged.conflicts.length > 0;
      report.how = merged.how === 'none' ? 'unchanged' : merged.how;
    }
    contributors.push(report);
    heads.push(source.oid);
    recorded.push(source.oid);
  }
  // A later version's merge moves an earlier one's blocks, or takes them as text: find them in the end result.
  const conflicts = conflicted ? conflictBlocksIn(ours) : [];
  const changed = !ours.equals(original);
  const report = { path: target.path, file: target.file, target: targetName, contributors, conflicts, ...(directory ? { names } : {}) };
  if (options.print) return { ...report, written: false, ...(directory ? {} : { result: ours }) };
  if (changed) writeMerged(target.file, ours);
  for (const from of recorded) view.addPendingMerge(target.element, from);
  // The names a directory merge entered or removed: their files come and go in the view now.
  const renamed = names.added.length + names.removed.length > 0;
  if (renamed) await updateView(view, { paths: [target.file] });
  return { ...report, written: changed || renamed };
}
