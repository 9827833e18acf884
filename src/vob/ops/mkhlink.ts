import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import { describeType, masteredObject, requireInstanceMastership, requireUnlocked } from '../mastership.js';
import { getType } from '../queries.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

/** Creates a hyperlink of type `hltype` from one object to another. */
export const mkhlinkOp = defineOp({
  kind: 'mkhlink',
  schema: z.object({ hyperlink: oid, hltype: oid, from: oid, to: oid }),
  apply(ctx, d) {
    const { vob } = ctx;
    const type = getType(vob, d.hltype);
    if (!type || type.kind !== 'hltype') throw new NotFoundError('hltype', d.hltype);
    requireUnlocked(describeType(type), type.lock);
    masteredObject(vob, d.from);
    const to = masteredObject(vob, d.to);
    // A hyperlink annotates both its ends: for a shared type, mastering either will do. A merge arrow
    // is made where the merge's target branch is mastered, from a version mastered anywhere.
    if (!type.shared || to.master !== ctx.origin) requireInstanceMastership(ctx, 'mkhlink', type, d.from);
    vob.q('INSERT INTO hyperlink (oid, hltype, from_obj, to_obj) VALUES (?, ?, ?, ?)').run(d.hyperlink, type.oid, d.from, d.to);
  },
});
