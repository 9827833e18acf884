import { z } from 'zod';
import { InvalidInputError, StateError } from '../../core/errors.js';
import { describeType, requireMastership } from '../mastership.js';
import { getReplica, getType } from '../queries.js';
import type { ReplicaOid } from '../../core/ids.js';
import type { LockState } from '../rows.js';
import type { OpContext } from './defineOp.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

interface Lockable {
  table: 'type' | 'replica';
  description: string;
  master: ReplicaOid;
  lock: LockState;
}

function lockable(ctx: OpContext, object: string): Lockable {
  const type = getType(ctx.vob, object);
  if (type) return { table: 'type', description: describeType(type), master: type.master, lock: type.lock };
  const replica = getReplica(ctx.vob, object);
  if (replica) return { table: 'replica', description: `replica "${replica.name}"`, master: replica.master, lock: replica.lock };
  throw new InvalidInputError(`cannot lock ${object}: only type and replica objects can be locked`);
}

/**
 * Locks a type or replica object. As in MultiSite, only the obsolete state travels: an imported
 * plain lock is recorded in the oplog but leaves the object unlocked here.
 */
export const lockOp = defineOp({
  kind: 'lock',
  schema: z.object({ object: oid, obsolete: z.boolean().default(false) }),
  apply(ctx, d) {
    const target = lockable(ctx, d.object);
    requireMastership(ctx, 'lock', target.description, target.master);
    const state: LockState = d.obsolete ? 'obsolete' : 'locked';
    if (!ctx.imported && target.lock === state) throw new StateError(`${target.description} is already ${state}`);
    if (ctx.imported && !d.obsolete) return;
    ctx.vob.q(`UPDATE ${target.table} SET lock = ? WHERE oid = ?`).run(state, d.object);
  },
});

/** Unlocks a type or replica object; imported, it lifts only the obsolete state. */
export const unlockOp = defineOp({
  kind: 'unlock',
  schema: z.object({ object: oid }),
  apply(ctx, d) {
    const target = lockable(ctx, d.object);
    requireMastership(ctx, 'unlock', target.description, target.master);
    if (!ctx.imported && !target.lock) throw new StateError(`${target.description} is not locked`);
    if (ctx.imported && target.lock !== 'obsolete') return;
    ctx.vob.q(`UPDATE ${target.table} SET lock = NULL WHERE oid = ?`).run(d.object);
  },
});
