import { z } from 'zod';
import { AlreadyExistsError, InvalidInputError } from '../../core/errors.js';
import { describeType, requireMastership, requireUnlocked } from '../mastership.js';
import { claimName } from '../nameConflicts.js';
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
      let name = d.name;
      if (other && other.oid !== type.oid) {
        if (!ctx.imported) throw new AlreadyExistsError(type.kind, d.name);
        name = claimName(ctx, { kind: type.kind, oid: type.oid, name: d.name, creator: type.creator, createdAt: type.created_at });
      }
      ctx.vob.q('UPDATE type SET name = ? WHERE oid = ?').run(name, type.oid);
      return;
    }
    const replica = getReplica(ctx.vob, d.object);
    if (replica) {
      assertObjectName(d.name, 'replica');
      requireMastership(ctx, 'rename', `replica "${replica.name}"`, replica.master);
      const other = replicaByName(ctx.vob, d.name);
      let name = d.name;
      if (other && other.oid !== replica.oid) {
        if (!ctx.imported) throw new AlreadyExistsError('replica', d.name);
        name = claimName(ctx, { kind: 'replica', oid: replica.oid, name: d.name, creator: replica.creator, createdAt: replica.created_at });
      }
      ctx.vob.q('UPDATE replica SET name = ? WHERE oid = ?').run(name, replica.oid);
      return;
    }
    throw new InvalidInputError(`cannot rename ${d.object}: only type and replica objects can be renamed`);
  },
});
