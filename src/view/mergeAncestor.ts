import { InvalidInputError } from '../core/errors.js';
import type { Oid } from '../core/ids.js';
import { mergeHltype } from '../vob/mergeArrows.js';
import { getBranch, getVersion } from '../vob/queries.js';
import type { BranchRow, VersionRow } from '../vob/rows.js';
import type { Vob } from '../vob/vob.js';

/**
 * The version graph of one element: each version's parents are its predecessor on its branch (a
 * branch's version 0: the version the branch grew from) and the sources of the merge arrows that end
 * at it. Read whole, in three queries, since an element's versions number in the hundreds at most.
 */
class VersionGraph {
  readonly versions = new Map<Oid, VersionRow>();
  private readonly parents = new Map<Oid, Oid[]>();

  constructor(vob: Vob, element: Oid) {
    const branches = vob.q('SELECT * FROM branch WHERE element = ?').all(element) as BranchRow[];
    const byBranchNumber = new Map<string, Oid>();
    const rows = vob.q('SELECT v.* FROM version v JOIN branch b ON b.oid = v.branch WHERE b.element = ?').all(element) as VersionRow[];
    for (const v of rows) {
      this.versions.set(v.oid, v);
      byBranchNumber.set(`${v.branch}/${v.number}`, v.oid);
    }
    const parentVersion = new Map(branches.map((b) => [b.oid, b.parent_version]));
    for (const v of rows) {
      const pred = v.number > 0 ? byBranchNumber.get(`${v.branch}/${v.number - 1}`) : parentVersion.get(v.branch);
      this.parents.set(v.oid, pred ? [pred] : []);
    }
    const hltype = mergeHltype(vob);
    const arrows = !hltype
      ? []
      : (vob
          .q(
            `SELECT h.from_obj, h.to_obj FROM hyperlink h JOIN version v ON v.oid = h.to_obj JOIN branch b ON b.oid = v.branch
         WHERE b.element = ? AND h.hltype = ?`,
          )
          .all(element, hltype) as { from_obj: Oid; to_obj: Oid }[]);
    // Arrows from another element's versions are not this element's history.
    for (const a of arrows) if (this.versions.has(a.from_obj)) this.parents.get(a.to_obj)!.push(a.from_obj);
  }

  parentsOf(v: Oid): readonly Oid[] {
    return this.parents.get(v) ?? [];
  }

  /** `heads` and everything they descend from. */
  ancestors(heads: readonly Oid[]): Set<Oid> {
    const seen = new Set<Oid>();
    const stack = [...heads];
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      stack.push(...this.parentsOf(v));
    }
    return seen;
  }
}

function elementOf(vob: Vob, version: Oid): Oid {
  const v = getVersion(vob, version);
  if (!v) throw new InvalidInputError(`not a version: ${version}`);
  return getBranch(vob, v.branch)!.element;
}

function graphOf(vob: Vob, ours: readonly Oid[], theirs: Oid): VersionGraph {
  const element = elementOf(vob, theirs);
  for (const o of ours) {
    if (elementOf(vob, o) !== element)
      throw new InvalidInputError('a merge is between versions of one element', { hint: 'name versions of the element merged to' });
  }
  return new VersionGraph(vob, element);
}

/**
 * The base of a three-way merge of `theirs` into a version descended from all of `ours` (a checkout's
 * predecessor, and the versions already merged into the checkout): their closest common ancestor in
 * the version tree with merge arrows followed, as ClearCase finds it, so after a merge from a branch
 * the next merge from it starts at the version merged. Of several closest ones (criss-cross merges)
 * the newest is taken. There is always one: every version descends from the element's /main/0.
 */
export function mergeAncestor(vob: Vob, ours: readonly Oid[], theirs: Oid): VersionRow {
  const graph = graphOf(vob, ours, theirs);
  const mine = graph.ancestors(ours);
  const common = [...graph.ancestors([theirs])].filter((v) => mine.has(v));
  // An ancestor of a common ancestor is common too, and is reached as some common one's parent.
  const notClosest = new Set(common.flatMap((v) => graph.parentsOf(v)));
  const closest = common.filter((v) => !notClosest.has(v)).map((v) => graph.versions.get(v)!);
  closest.sort((a, b) => b.created_at - a.created_at || (a.oid < b.oid ? 1 : -1));
  return closest[0]!;
}

/**
 * Whether `from` is already in a version descended from all of `into`: it is one of them or an
 * ancestor of one, by the version tree and merge arrows. Then a merge from it has nothing to bring.
 */
export function alreadyMerged(vob: Vob, from: Oid, into: readonly Oid[]): boolean {
  return graphOf(vob, into, from).ancestors(into).has(from);
}
