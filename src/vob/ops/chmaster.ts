import { z } from 'zod';
import { InvalidInputError, NotFoundError, StateError } from '../../core/errors.js';
import { masteredObject, requireMastership } from '../mastership.js';
import { getBranch, getReplica } from '../queries.js';
import { defineOp } from './defineOp.js';
import { oid, replicaOid } from './schemas.js';

const TABLE = { type: 'type', replica: 'replica', element: 'element', branch: 'branch' } as const;

/**
 * Gives mastership of an object to another replica; runs at the current master, which loses it at
 * once (the new master gains it when it imports this op). `master: null` returns a branch to
 * default mastership (it follows its branch type). A branch with a reserved checkout stays put.
 */
export const chmasterOp = defineOp({
  kind: 'chmaster',
  schema: z.object({ object: oid, master: replicaOid.nullable(), obsoleteReplica: replicaOid.optional() }),
  apply(ctx, d) {
    const { vob } = ctx;
    const target = masteredObject(vob, d.object);
    if (target.oid !== d.object) throw new InvalidInputError('chmaster takes a branch, not a version');
    if (d.obsoleteReplica) {
      // Taking over from a retired or dead replica: the new master itself runs it, for objects the
      // obsolete replica masters (chmaster --all --obsolete-replica).
      if (target.master !== d.obsoleteReplica) requireMastership(ctx, 'chmaster', () => target.description, target.master);
      if (d.master !== ctx.origin || d.obsoleteReplica === ctx.origin) {
        throw new InvalidInputError('chmaster --all --obsolete-replica runs at the new master, for objects of another replica');
      }
    } else {
      requireMastership(ctx, 'chmaster', () => target.description, target.master);
    }
    if (d.master === null) {
      if (target.kind !== 'branch') throw new InvalidInputError('only a branch can return to default mastership');
    } else if (!getReplica(vob, d.master)) {
      throw new NotFoundError('replica', d.master);
    }
    if (target.kind === 'branch') {
      const reserved = vob.q('SELECT 1 FROM checkout WHERE branch = ? AND reserved = 1').get(d.object);
      if (reserved) throw new StateError(`cannot change mastership of ${target.description}: it has a reserved checkout`);
      if (!getBranch(vob, d.object)) throw new NotFoundError('branch', d.object);
    }
    vob.q(`UPDATE ${TABLE[target.kind]} SET master = ? WHERE oid = ?`).run(d.master, d.object);
  },
});
