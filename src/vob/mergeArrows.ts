import { v5 as uuidv5 } from 'uuid';
import { newOid, type Oid } from '../core/ids.js';
import { applyLocal } from './ops/applyOp.js';
import { elementPath, getBranch, getType, getVersion, typeByName, versionId } from './queries.js';
import type { Vob } from './vob.js';

/** The hyperlink type of merge arrows, predefined in every VOB as in ClearCase. */
export const MERGE_HLTYPE = 'Merge';

/** Namespace of the name-based UUIDs of predefined types (any fixed UUID does; never change it). */
const PREDEFINED_NAMESPACE = '6f1c2d0e-8a4b-4c55-9e21-3b7d5f0a9c11';

/**
 * The OID of a family's `Merge` hltype, the same at every replica of the family. A VOB made before
 * `Merge` was predefined gets it on demand, and two replicas may do so before they hear of each
 * other: with one OID they make the same object, which mktype's import then takes as one type
 * instead of renaming the second as a name clash.
 */
export function mergeHltypeOid(vob: Vob): Oid {
  return uuidv5(`hltype:${MERGE_HLTYPE}`, uuidv5(vob.family, PREDEFINED_NAMESPACE)) as Oid;
}

/** The mktype op data of the predefined `Merge` hltype: shared, so a merge arrow needs mastership of one of its ends, not of the type. */
export function mergeHltypeOp(vob: Vob) {
  return {
    type: mergeHltypeOid(vob),
    kind: 'hltype' as const,
    name: MERGE_HLTYPE,
    shared: true,
    comment: 'predefined hyperlink type',
  };
}

/**
 * The OID of this VOB's Merge hltype: the predefined one, else an hltype named Merge that someone made
 * before Merge was predefined (it is the type such a VOB's merge arrows would use); undefined when
 * the VOB has neither.
 */
export function mergeHltype(vob: Vob): Oid | undefined {
  const oid = mergeHltypeOid(vob);
  return getType(vob, oid) ? oid : typeByName(vob, 'hltype', MERGE_HLTYPE)?.oid;
}

/** The Merge hltype's OID, creating the type first in a VOB made before it was predefined. */
function ensureMergeHltype(vob: Vob): Oid {
  const existing = mergeHltype(vob);
  if (existing) return existing;
  applyLocal(vob, 'mktype', mergeHltypeOp(vob));
  return mergeHltypeOid(vob);
}

/**
 * Records a merge arrow: a `Merge` hyperlink from `from` (the version merged) to `to` (the version the
 * merge made), through the mkhlink op, inside the caller's transaction. Creates the Merge hltype when
 * this VOB has none (older VOBs). Returns the hyperlink's OID.
 */
export function recordMergeArrow(vob: Vob, from: Oid, to: Oid): string {
  return vob.transaction(() => {
    const hltype = ensureMergeHltype(vob);
    const hyperlink = newOid();
    applyLocal(vob, 'mkhlink', { hyperlink, hltype, from, to });
    return hyperlink;
  });
}

/** Versions merged into `to`: the sources of the merge arrows ending at it, oldest arrow first. */
export function mergeSourcesOf(vob: Vob, to: Oid): Oid[] {
  const hltype = mergeHltype(vob);
  if (!hltype) return [];
  return vob.q('SELECT from_obj FROM hyperlink WHERE to_obj = ? AND hltype = ? ORDER BY oid').pluck().all(to, hltype) as Oid[];
}

/** Versions `from` was merged into: the targets of the merge arrows leaving it, oldest arrow first. */
export function mergeTargetsOf(vob: Vob, from: Oid): Oid[] {
  const hltype = mergeHltype(vob);
  if (!hltype) return [];
  return vob.q('SELECT to_obj FROM hyperlink WHERE from_obj = ? AND hltype = ? ORDER BY oid').pluck().all(from, hltype) as Oid[];
}

/** A version's merge arrows by the versions at their other ends, as version-extended names. */
export interface MergeArrows {
  /** Versions merged into this one (`<- merged from`). */
  from: string[];
  /** Versions this one was merged into (`-> merged to`). */
  to: string[];
}

/** The merge arrows of a version, for describe and lsvtree. */
export function mergeArrowsOf(vob: Vob, version: Oid): MergeArrows {
  const name = (oid: Oid) => {
    const v = getVersion(vob, oid);
    return v ? `${elementPath(vob, getBranch(vob, v.branch)!.element)}@@${versionId(vob, v)}` : oid;
  };
  return { from: mergeSourcesOf(vob, version).map(name), to: mergeTargetsOf(vob, version).map(name) };
}

/** The text lines of a version's merge arrows, ClearCase's arrows in words: `-> merged to X`, `<- merged from Y`. */
export function mergeArrowLines(arrows: MergeArrows): string[] {
  return [...arrows.from.map((v) => `<- merged from ${v}`), ...arrows.to.map((v) => `-> merged to ${v}`)];
}
