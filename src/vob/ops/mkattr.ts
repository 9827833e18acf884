import { z } from 'zod';
import { InvalidInputError, NotFoundError, StateError } from '../../core/errors.js';
import { describeType, masteredObject, requireInstanceMastership, requireUnlocked } from '../mastership.js';
import { getType } from '../queries.js';
import type { TypeRow, ValueType } from '../rows.js';
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
  // A history import sets one attribute on every version it makes (the commit it came from): each
  // type is read once, and a version is found by one look-up instead of masteredObject's walk
  // through every kind of object. Anything apply would refuse throws, and the run then goes op by op.
  applyRun(ctx, items) {
    const { vob } = ctx;
    const types = new Map<string, TypeRow>();
    const isVersion = vob.q('SELECT 1 FROM version WHERE oid = ?').pluck();
    const existing = vob.q('SELECT 1 FROM attribute WHERE object = ? AND attype = ?').pluck();
    const set = new Set<string>();
    for (const { origin, at, data: d } of items) {
      let type = types.get(d.attype);
      if (!type) {
        type = getType(vob, d.attype);
        if (!type || type.kind !== 'attype') throw new NotFoundError('attype', d.attype);
        types.set(d.attype, type);
      }
      requireUnlocked(describeType(type), type.lock);
      if (!isVersion.get(d.object)) masteredObject(vob, d.object);
      requireInstanceMastership({ vob, origin, at, imported: ctx.imported }, 'mkattr', type, d.object);
      checkAttributeValue(type.vtype, d.value);
      const key = `${d.object} ${type.oid}`;
      if (!d.replace && (set.has(key) || existing.get(d.object, type.oid)))
        throw new StateError('an attribute of the run would be refused');
      set.add(key);
      vob.q('DELETE FROM attribute WHERE object = ? AND attype = ?').run(d.object, type.oid);
      vob.q('INSERT INTO attribute (oid, attype, object, value) VALUES (?, ?, ?, ?)').run(d.attribute, type.oid, d.object, d.value);
    }
  },
});
