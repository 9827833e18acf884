import type { Oid } from '../core/ids.js';
import { applyLocal } from '../vob/ops/applyOp.js';
import { dirEntries, getCheckout, getVersion } from '../vob/queries.js';
import type { VersionRow } from '../vob/rows.js';
import type { Located, View } from './view.js';

/** What merging a directory version did to the names of the directory merged to. */
export interface DirectoryMergeNames {
  /** Names entered from the version merged (new there, or renamed to). */
  added: string[];
  /** Names removed because the version merged removed them. */
  removed: string[];
  /** Names both sides changed differently since the base: left as the target has them, for a person to settle (mv, rmname). */
  conflicts: string[];
}

/**
 * Three-way merge of a directory version's names into `target` (a directory of the view): each
 * name the merged version added, removed or bound to another element since `base` is changed the
 * same way in the target, where the target still has it as the base did; where the target changed
 * the name too, differently, it is a conflict and left alone. A rename is a removal and an addition.
 * Changes go through the rmname and ln ops on the target's checkout, in one transaction; with
 * `print` (or no checkout) nothing is changed and the names say what would be.
 */
export function mergeDirectory(
  view: View,
  target: Located,
  base: VersionRow,
  source: VersionRow,
  options: { print?: boolean } = {},
): DirectoryMergeNames {
  const { vob } = view;
  const checkout = target.checkout ? getCheckout(vob, target.checkout) : undefined;
  const ours: Record<string, Oid> = checkout?.entries
    ? (JSON.parse(checkout.entries) as Record<string, Oid>)
    : Object.fromEntries(dirEntries(vob, getVersion(vob, target.version!)!.oid));
  const was = dirEntries(vob, base.oid);
  const theirs = dirEntries(vob, source.oid);
  const names: DirectoryMergeNames = { added: [], removed: [], conflicts: [] };
  const changes: { name: string; element: Oid | undefined }[] = [];
  for (const name of [...new Set([...was.keys(), ...theirs.keys()])].sort()) {
    const b = was.get(name);
    const t = theirs.get(name);
    const o = Object.hasOwn(ours, name) ? ours[name] : undefined;
    if (b === t || o === t) continue;
    if (o !== b) {
      names.conflicts.push(name);
      continue;
    }
    changes.push({ name, element: t });
    if (o !== undefined) names.removed.push(name);
    if (t !== undefined) names.added.push(name);
  }
  if (options.print || !checkout) return names;
  vob.transaction(() => {
    for (const { name, element } of changes) {
      if (Object.hasOwn(ours, name)) applyLocal(vob, 'rmname', { checkout: checkout.oid, name });
      if (element !== undefined) applyLocal(vob, 'ln', { checkout: checkout.oid, name, element });
    }
  });
  return names;
}
