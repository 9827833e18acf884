import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import { requireMastership } from '../mastership.js';
import { getReplica } from '../queries.js';
import { defineOp } from './defineOp.js';
import { replicaOid } from './schemas.js';

/** Changes a replica object's host (after moving a replica), at the replica object's master. */
export const chreplicaOp = defineOp({
  kind: 'chreplica',
  schema: z.object({ replica: replicaOid, host: z.string().min(1) }),
  apply(ctx, d) {
    const replica = getReplica(ctx.vob, d.replica);
    if (!replica) throw new NotFoundError('replica', d.replica);
    requireMastership(ctx, 'chreplica', `replica "${replica.name}"`, replica.master);
    ctx.vob.q('UPDATE replica SET host = ? WHERE oid = ?').run(d.host, replica.oid);
  },
});
