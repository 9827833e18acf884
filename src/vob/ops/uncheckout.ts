import { z } from 'zod';
import { StateError } from '../../core/errors.js';
import { getCheckout } from '../queries.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

/** Cancels a checkout made at the origin replica; a directory's new names are dropped with it. */
export const uncheckoutOp = defineOp({
  kind: 'uncheckout',
  schema: z.object({ checkout: oid }),
  apply(ctx, d) {
    const co = getCheckout(ctx.vob, d.checkout);
    if (!co || co.replica !== ctx.origin) throw new StateError('the element is not checked out at this replica');
    ctx.vob.q('DELETE FROM checkout WHERE oid = ?').run(co.oid);
  },
});
