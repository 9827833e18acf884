import { z } from 'zod';
import { NotFoundError, StateError } from '../../core/errors.js';
import { requireMastership } from '../mastership.js';
import { getReplica } from '../queries.js';
import type { Vob } from '../vob.js';
import { defineOp } from './defineOp.js';
import { replicaOid } from './schemas.js';

/** How many objects a replica masters (other than itself); a replica that masters anything cannot be removed. */
export function masteredCount(vob: Vob, replica: string): number {
  const count = (sql: string) => vob.q(sql).pluck().get({ replica }) as number;
  return (
    count('SELECT count(*) FROM type WHERE master = $replica') +
    count('SELECT count(*) FROM replica WHERE master = $replica AND oid <> $replica AND removed = 0') +
    count('SELECT count(*) FROM element WHERE master = $replica') +
    count('SELECT count(*) FROM branch WHERE master = $replica')
  );
}

/**
 * Removes a sibling replica, at the master of its replica object. Refused while the replica still
 * masters anything (move it first with chmaster --all --obsolete-replica), and a replica cannot
 * remove itself. The object is kept, marked removed, so epoch rows keep a name.
 */
export const rmreplicaOp = defineOp({
  kind: 'rmreplica',
  schema: z.object({ replica: replicaOid }),
  apply(ctx, d) {
    const { vob } = ctx;
    const replica = getReplica(vob, d.replica);
    if (!replica || replica.removed) throw new NotFoundError('replica', d.replica);
    requireMastership(ctx, 'rmreplica', `replica "${replica.name}"`, replica.master);
    if (replica.oid === ctx.origin || replica.oid === vob.self) throw new StateError(`replica "${replica.name}" cannot remove itself`);
    const count = masteredCount(vob, replica.oid);
    if (count > 0) {
      throw new StateError(`cannot remove replica "${replica.name}": it still masters ${count} object${count === 1 ? '' : 's'}`, {
        hint: `move them with chmaster --all --obsolete-replica ${replica.name} NEW-MASTER`,
      });
    }
    vob.q('UPDATE replica SET removed = 1 WHERE oid = ?').run(replica.oid);
  },
});
