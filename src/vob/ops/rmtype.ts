import { z } from 'zod';
import { NotFoundError, StateError } from '../../core/errors.js';
import { describeType, requireMastership, requireUnlocked } from '../mastership.js';
import { settleNames } from '../nameConflicts.js';
import { getType } from '../queries.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

/** Instances that keep a type alive, by kind: a type in use cannot be removed without `rmall`. */
const USES: Record<string, { sql: string; what: string; removable: boolean }> = {
  brtype: { sql: 'SELECT count(*) FROM branch WHERE brtype = ?', what: 'branches', removable: false },
  eltype: { sql: 'SELECT count(*) FROM element WHERE eltype = ?', what: 'elements', removable: false },
  lbtype: { sql: 'SELECT count(*) FROM label WHERE lbtype = ?', what: 'labels', removable: true },
  attype: { sql: 'SELECT count(*) FROM attribute WHERE attype = ?', what: 'attributes', removable: true },
  hltype: { sql: 'SELECT count(*) FROM hyperlink WHERE hltype = ?', what: 'hyperlinks', removable: true },
};
const REMOVE_INSTANCES: Record<string, string> = {
  lbtype: 'DELETE FROM label WHERE lbtype = ?',
  attype: 'DELETE FROM attribute WHERE attype = ?',
  hltype: 'DELETE FROM hyperlink WHERE hltype = ?',
};

/** Removes a type object at its master; with `rmall`, its labels, attributes or hyperlinks too. */
export const rmtypeOp = defineOp({
  kind: 'rmtype',
  schema: z.object({ type: oid, rmall: z.boolean().default(false) }),
  apply(ctx, d) {
    const type = getType(ctx.vob, d.type);
    if (!type) throw new NotFoundError('type', d.type);
    requireMastership(ctx, 'rmtype', describeType(type), type.master);
    requireUnlocked(describeType(type), type.lock);
    const use = USES[type.kind]!;
    const count = ctx.vob.q(use.sql).pluck().get(type.oid) as number;
    if (count > 0 && !(d.rmall && use.removable)) {
      throw new StateError(`cannot remove ${describeType(type)}: ${count} ${use.what} use it`, {
        data: { count },
        hint: use.removable ? 'remove them first, or use --rmall' : `remove the ${use.what} first`,
      });
    }
    if (count > 0) ctx.vob.q(REMOVE_INSTANCES[type.kind]!).run(type.oid);
    ctx.vob.q('DELETE FROM attribute WHERE object = ?').run(type.oid);
    ctx.vob.q('DELETE FROM type WHERE oid = ?').run(type.oid);
    // Under the converge policy the freed name goes to the next object that wants it.
    settleNames(ctx, type.kind, [type.desired]);
  },
});
