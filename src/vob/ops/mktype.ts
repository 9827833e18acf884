import { z } from 'zod';
import { AlreadyExistsError } from '../../core/errors.js';
import { placeholderName, settleNames } from '../nameConflicts.js';
import { assertObjectName } from '../names.js';
import { getType, typeByName } from '../queries.js';
import { TYPE_KINDS, VALUE_TYPES } from '../rows.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

/** Creates a type object (brtype, lbtype, attype, hltype, eltype); its creator masters it. */
export const mktypeOp = defineOp({
  kind: 'mktype',
  schema: z.object({
    type: oid,
    kind: z.enum(TYPE_KINDS),
    name: z.string(),
    shared: z.boolean().default(false),
    comment: z.string().default(''),
    vtype: z.enum(VALUE_TYPES).nullable().default(null),
    pbranch: z.boolean().default(false),
    elkind: z.enum(['file', 'directory']).nullable().default(null),
  }),
  apply(ctx, d) {
    assertObjectName(d.name, d.kind);
    const same = getType(ctx.vob, d.type);
    if (same && ctx.imported && same.kind === d.kind && same.desired === d.name) {
      // A type whose OID is derived from its name (the predefined Merge hltype, made on demand in
      // older VOBs) may be made at two replicas: it is one object, mastered by the lesser of its
      // makers at every replica, whatever order they hear of each other in.
      if (ctx.origin < same.creator && same.master === same.creator)
        ctx.vob.q('UPDATE type SET master = ?, creator = ? WHERE oid = ?').run(ctx.origin, ctx.origin, d.type);
      return;
    }
    if (same) throw new AlreadyExistsError(d.kind, d.name, { data: { oid: d.type } });
    if (typeByName(ctx.vob, d.kind, d.name) && !ctx.imported) {
      throw new AlreadyExistsError(d.kind, d.name, { hint: `choose another name, or see lstype --kind ${d.kind}` });
    }
    ctx.vob
      .q(
        `INSERT INTO type (oid, kind, name, desired, master, creator, shared, vtype, pbranch, elkind, comment, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.type,
        d.kind,
        placeholderName(d.type),
        d.name,
        ctx.origin,
        ctx.origin,
        d.shared ? 1 : 0,
        d.vtype,
        d.pbranch ? 1 : 0,
        d.elkind,
        d.comment,
        ctx.at,
      );
    settleNames(ctx, d.kind, [d.name]);
  },
});
