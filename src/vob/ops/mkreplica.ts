import { z } from 'zod';
import { AlreadyExistsError } from '../../core/errors.js';
import { placeholderName, settleNames } from '../nameConflicts.js';
import { assertObjectName } from '../names.js';
import { getReplica, replicaByName } from '../queries.js';
import { defineOp } from './defineOp.js';
import { replicaOid } from './schemas.js';

/** Creates a replica object; its creator masters it. */
export const mkreplicaOp = defineOp({
  kind: 'mkreplica',
  schema: z.object({
    replica: replicaOid,
    name: z.string(),
    host: z.string().min(1),
    publicKey: z.string().nullable().default(null),
    comment: z.string().default(''),
  }),
  apply(ctx, d) {
    assertObjectName(d.name, 'replica');
    if (getReplica(ctx.vob, d.replica)) throw new AlreadyExistsError('replica', d.name, { data: { oid: d.replica } });
    if (replicaByName(ctx.vob, d.name) && !ctx.imported) {
      throw new AlreadyExistsError('replica', d.name, { hint: `Replica ${d.name} already exists` });
    }
    ctx.vob
      .q(
        'INSERT INTO replica (oid, name, desired, host, master, creator, public_key, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(d.replica, placeholderName(d.replica), d.name, d.host, ctx.origin, ctx.origin, d.publicKey, d.comment, ctx.at);
    settleNames(ctx, 'replica', [d.name]);
  },
});
