import { z } from 'zod';
import { AlreadyExistsError, NotFoundError, StateError } from '../../core/errors.js';
import { assertEntryName } from '../names.js';
import { getCheckout, getElement } from '../queries.js';
import { defineOp } from './defineOp.js';
import { sortKeys } from './mkelem.js';
import { oid } from './schemas.js';

/**
 * Enters an existing element under a name in a checked-out directory, as ClearCase's `ln` of an
 * element: with rmname, what `mv` is made of.
 */
export const lnOp = defineOp({
  kind: 'ln',
  schema: z.object({ checkout: oid, name: z.string(), element: oid }),
  apply(ctx, d) {
    assertEntryName(d.name);
    const co = getCheckout(ctx.vob, d.checkout);
    if (!co || co.replica !== ctx.origin || co.entries === null) {
      throw new StateError(`cannot enter name "${d.name}": its directory is not checked out`, { hint: 'check out the directory first' });
    }
    if (!getElement(ctx.vob, d.element)) throw new NotFoundError('element', d.element);
    const entries = JSON.parse(co.entries) as Record<string, string>;
    if (Object.hasOwn(entries, d.name)) throw new AlreadyExistsError('name in directory', d.name);
    entries[d.name] = d.element;
    ctx.vob.q('UPDATE checkout SET entries = ? WHERE oid = ?').run(JSON.stringify(sortKeys(entries)), co.oid);
  },
});
