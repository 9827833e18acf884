import { InvalidInputError, StateError } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import { getBranch, getVersion, versionByNumber, versionId } from '../vob/queries.js';
import type { VersionRow } from '../vob/rows.js';
import { unifiedDiff } from './unifiedDiff.js';
import type { View } from './view.js';
import { readViewContent } from './viewFiles.js';

/**
 * The view's file against its predecessor, as a unified diff (empty when equal), as ClearCase's
 * `diff -pred`: a checked-out or hijacked file against the version it was loaded or checked out
 * from; a file as loaded against the version before that one (on its branch, or the version the
 * branch was made at). Binary content (a NUL byte) is only said to differ.
 */
export function diffPred(view: View, path: string): { diff: string; predecessor: string; path: string } {
  const loc = view.locate(path);
  if (loc.kind !== 'file') throw new InvalidInputError(`"${loc.path}" is a directory`, { hint: 'diff --pred compares files' });
  const { vob } = view;
  const loaded = view.loaded(loc.path);
  const base = getVersion(vob, loaded?.version ?? loc.version ?? '');
  if (!base) throw new StateError(`"${loc.path}" is not loaded in this view`, { hint: 'run msite update' });
  let file: Buffer;
  try {
    file = readViewContent(loc.file);
  } catch {
    throw new StateError(`"${loc.path}" is missing from the view`, { hint: 'run msite update to load it again' });
  }
  const changed = loc.checkedOut || sha256Hex(file) !== base.content;
  const pred = changed ? base : predecessorOf(view, base);
  if (!pred) throw new StateError(`"${loc.path}@@${versionId(vob, base)}" has no predecessor`);
  const old = vob.pool.get(pred.content!);
  const label = `${loc.path}@@${versionId(vob, pred)}`;
  const newLabel = changed ? loc.path : `${loc.path}@@${versionId(vob, base)}`;
  const newer = changed ? file : vob.pool.get(base.content!);
  if (old.includes(0) || newer.includes(0)) {
    return { diff: old.equals(newer) ? '' : `Binary files ${label} and ${newLabel} differ\n`, predecessor: label, path: loc.path };
  }
  return { diff: unifiedDiff(old.toString('utf8'), newer.toString('utf8'), label, newLabel), predecessor: label, path: loc.path };
}

function predecessorOf(view: View, version: VersionRow): VersionRow | undefined {
  const { vob } = view;
  if (version.number > 0) return versionByNumber(vob, version.branch, version.number - 1);
  const branch = getBranch(vob, version.branch)!;
  return branch.parent_version ? getVersion(vob, branch.parent_version) : undefined;
}
