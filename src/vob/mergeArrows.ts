import { newOid, type Oid } from '../core/ids.js';
import { applyLocal } from './ops/applyOp.js';
import { typeByName } from './queries.js';
import type { Vob } from './vob.js';

/** The hyperlink type of merge arrows, predefined in every VOB as in ClearCase. */
export const MERGE_HLTYPE = 'Merge';

/**
 * Records a merge arrow: a `Merge` hyperlink from `from` (the version merged) to `to` (the version
 * the merge made), through the mkhlink op, inside the caller's transaction. Creates the Merge hltype
 * when this VOB has none (older VOBs).
 */
export function recordMergeArrow(vob: Vob, from: Oid, to: Oid): string {
  return vob.transaction(() => {
    let type = typeByName(vob, 'hltype', MERGE_HLTYPE);
    if (!type) {
      // Shared, so the arrow needs mastership of the version it starts from, not of the type.
      applyLocal(vob, 'mktype', { type: newOid(), kind: 'hltype', name: MERGE_HLTYPE, shared: true, comment: 'merge arrows' });
      type = typeByName(vob, 'hltype', MERGE_HLTYPE)!;
    }
    const hyperlink = newOid();
    applyLocal(vob, 'mkhlink', { hyperlink, hltype: type.oid, from, to });
    return hyperlink;
  });
}

/** Versions merged into `to`: the sources of the merge arrows ending at it. */
export function mergeSourcesOf(vob: Vob, to: Oid): Oid[] {
  return vob
    .q('SELECT h.from_obj FROM hyperlink h JOIN type t ON t.oid = h.hltype WHERE h.to_obj = ? AND t.name = ?')
    .pluck()
    .all(to, MERGE_HLTYPE) as Oid[];
}

/** Versions `from` was merged into: the targets of the merge arrows starting at it. */
export function mergeTargetsOf(vob: Vob, from: Oid): Oid[] {
  return vob
    .q('SELECT h.to_obj FROM hyperlink h JOIN type t ON t.oid = h.hltype WHERE h.from_obj = ? AND t.name = ?')
    .pluck()
    .all(from, MERGE_HLTYPE) as Oid[];
}
