import { z } from 'zod';
import { AlreadyExistsError, InvalidInputError } from '../../core/errors.js';
import { describeType, requireMastership, requireUnlocked } from '../mastership.js';
import { placeholderName, settleNames } from '../nameConflicts.js';
import { assertObjectName } from '../names.js';
import { getReplica, getType, replicaByName, typeByName } from '../queries.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

/** Renames a type or replica object, by OID, at its master. */
export const renameOp = defineOp({
  kind: 'rename',
  schema: z.object({ object: oid, name: z.string() }),
  apply(ctx, d) {
    const type = getType(ctx.vob, d.object);
    if (type) {
      assertObjectName(d.name, type.kind);
      requireMastership(ctx, 'rename', describeType(type), type.master);
      requireUnlocked(describeType(type), type.lock);
      const other = typeByName(ctx.vob, type.kind, d.name);
      if (other && other.oid !== type.oid && !ctx.imported) throw new AlreadyExistsError(type.kind, d.name);
      ctx.vob.q('UPDATE type SET name = ?, desired = ? WHERE oid = ?').run(placeholderName(type.oid), d.name, type.oid);
      settleNames(ctx, type.kind, [d.name, type.desired]);
      return;
    }
    const replica = getReplica(ctx.vob, d.object);
    if (replica) {
      assertObjectName(d.name, 'replica');
      requireMastership(ctx, 'rename', `replica "${replica.name}"`, replica.master);
      const other = replicaByName(ctx.vob, d.name);
      if (other && other.oid !== replica.oid && !ctx.imported) throw new AlreadyExistsError('replica', d.name);
      ctx.vob.q('UPDATE replica SET name = ?, desired = ? WHERE oid = ?').run(placeholderName(replica.oid), d.name, replica.oid);
      settleNames(ctx, 'replica', [d.name, replica.desired]);
      return;
    }
    throw new InvalidInputError(`cannot rename ${d.object}: only type and replica objects can be renamed`);
  },
});
