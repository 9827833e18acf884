import { MastershipError, NotFoundError, StateError } from '../core/errors.js';
import type { ReplicaOid } from '../core/ids.js';
import type { OpContext } from './ops/defineOp.js';
import { branchMaster, branchPath, elementPath, getBranch, getElement, getReplica, getType, getVersion, replicaName } from './queries.js';
import type { BranchRow, LockState, TypeRow } from './rows.js';
import type { Vob } from './vob.js';

/**
 * Refuses `operation` unless the op's origin replica masters the object, in MultiSite's words:
 * the operation, this replica, the VOB, the object and its master.
 */
export function requireMastership(
  ctx: Pick<OpContext, 'vob' | 'origin'>,
  operation: string,
  object: string | (() => string),
  master: ReplicaOid,
): void {
  if (ctx.origin === master) return;
  throw new MastershipError({
    operation,
    replica: replicaName(ctx.vob, ctx.origin),
    vob: ctx.vob.tag,
    // Descriptions of branches walk the namespace: build them only for the refusal.
    object: typeof object === 'function' ? object() : object,
    master: replicaName(ctx.vob, master),
  });
}

export function describeType(type: TypeRow): string {
  return `${type.kind} "${type.name}"`;
}

export function describeBranch(vob: Vob, branch: BranchRow): string {
  return `branch "${elementPath(vob, branch.element)}@@${branchPath(vob, branch)}"`;
}

/** Refuses changes to a locked or obsolete object. */
export function requireUnlocked(object: string, lock: LockState): void {
  if (lock) {
    throw new StateError(`${object} is ${lock}`, { data: { object, lock }, hint: 'unlock it first' });
  }
}

export interface MasteredObject {
  kind: 'type' | 'replica' | 'element' | 'branch';
  oid: string;
  master: ReplicaOid;
  description: string;
}

/**
 * The object that holds mastership for `oid`: types, replicas, elements and branches master
 * themselves; a version is mastered through its branch. Used by chmaster and by shared-type checks.
 */
export function masteredObject(vob: Vob, oid: string): MasteredObject {
  const type = getType(vob, oid);
  if (type) return { kind: 'type', oid, master: type.master, description: describeType(type) };
  const replica = getReplica(vob, oid);
  if (replica) return { kind: 'replica', oid, master: replica.master, description: `replica "${replica.name}"` };
  // Element and branch descriptions walk the namespace, so they are computed only when read.
  const element = getElement(vob, oid);
  if (element) {
    return {
      kind: 'element',
      oid,
      master: element.master,
      get description() {
        return `element "${elementPath(vob, element.oid)}"`;
      },
    };
  }
  const version = getVersion(vob, oid);
  const branch = getBranch(vob, version ? version.branch : oid);
  if (branch)
    return {
      kind: 'branch',
      oid: branch.oid,
      master: branchMaster(vob, branch),
      get description() {
        return describeBranch(vob, branch);
      },
    };
  throw new NotFoundError('object', oid);
}

/**
 * Mastership for instances of a type (labels, attributes, hyperlinks): an unshared type needs the
 * type's mastership; a shared type needs the annotated object's.
 */
export function requireInstanceMastership(ctx: OpContext, operation: string, type: TypeRow, annotated: string): void {
  if (!type.shared) {
    requireMastership(ctx, operation, describeType(type), type.master);
    return;
  }
  const target = masteredObject(ctx.vob, annotated);
  requireMastership(ctx, operation, () => target.description, target.master);
}
