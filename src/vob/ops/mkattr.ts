import { z } from 'zod';
import { InvalidInputError, NotFoundError, StateError } from '../../core/errors.js';
import { describeType, masteredObject, requireInstanceMastership, requireUnlocked } from '../mastership.js';
import { getType } from '../queries.js';
import type { ValueType } from '../rows.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

/** Checks an attribute value against its type's value type; the rule is quoted on refusal. */
export function checkAttributeValue(vtype: ValueType | null, value: string): void {
  const ok =
    vtype === null ||
    vtype === 'string' ||
    (vtype === 'integer' && /^-?\d+$/.test(value)) ||
    (vtype === 'real' && value.trim() !== '' && Number.isFinite(Number(value))) ||
    (vtype === 'time' && !Number.isNaN(Date.parse(value)));
  if (!ok) throw new InvalidInputError(`attribute value "${value}" is not of value type ${vtype}`, { data: { vtype, value } });
}

/** Attaches (or with `replace`, changes) an attribute on a type, replica, element, branch or version. */
export const mkattrOp = defineOp({
  kind: 'mkattr',
  schema: z.object({ attribute: oid, attype: oid, object: oid, value: z.string(), replace: z.boolean().default(false) }),
  apply(ctx, d) {
    const { vob } = ctx;
    const type = getType(vob, d.attype);
    if (!type || type.kind !== 'attype') throw new NotFoundError('attype', d.attype);
    requireUnlocked(describeType(type), type.lock);
    masteredObject(vob, d.object); // the object must exist
    requireInstanceMastership(ctx, 'mkattr', type, d.object);
    checkAttributeValue(type.vtype, d.value);
    const existing = vob.q('SELECT oid FROM attribute WHERE object = ? AND attype = ?').pluck().get(d.object, type.oid);
    if (existing && !d.replace) {
      throw new StateError(`the object already has an attribute of type "${type.name}"`, { hint: 'use --replace to change its value' });
    }
    vob.q('DELETE FROM attribute WHERE object = ? AND attype = ?').run(d.object, type.oid);
    vob.q('INSERT INTO attribute (oid, attype, object, value) VALUES (?, ?, ?, ?)').run(d.attribute, type.oid, d.object, d.value);
  },
});
