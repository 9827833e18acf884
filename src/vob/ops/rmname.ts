import { z } from 'zod';
import { NotFoundError, StateError } from '../../core/errors.js';
import { getCheckout } from '../queries.js';
import { defineOp } from './defineOp.js';
import { sortKeys } from './mkelem.js';
import { oid } from './schemas.js';

/**
 * Removes a name from a checked-out directory's working entries, as ClearCase's `rmname`: the element
 * stays (older versions of the directory still list it), and the name is gone from the directory
 * version the checkin makes.
 */
export const rmnameOp = defineOp({
  kind: 'rmname',
  schema: z.object({ checkout: oid, name: z.string() }),
  apply(ctx, d) {
    const co = getCheckout(ctx.vob, d.checkout);
    if (!co || co.replica !== ctx.origin || co.entries === null) {
      throw new StateError(`cannot remove name "${d.name}": its directory is not checked out`, { hint: 'check out the directory first' });
    }
    const entries = JSON.parse(co.entries) as Record<string, string>;
    if (!Object.hasOwn(entries, d.name)) throw new NotFoundError('name in directory', d.name);
    delete entries[d.name];
    ctx.vob.q('UPDATE checkout SET entries = ? WHERE oid = ?').run(JSON.stringify(sortKeys(entries)), co.oid);
  },
});
