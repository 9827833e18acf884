import { z } from 'zod';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../../core/errors.js';
import { describeType, requireMastership, requireUnlocked } from '../mastership.js';
import { elementPath, getBranch, getType, getVersion } from '../queries.js';
import type { BranchRow } from '../rows.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

/**
 * Creates a branch of type `brtype` at version `from`, with a version 0 identical to `from`.
 * Needs the branch type's mastership. An ordinary branch type allows one branch per element;
 * a `pbranch` type one per parent branch.
 */
export const mkbranchOp = defineOp({
  kind: 'mkbranch',
  schema: z.object({ branch: oid, brtype: oid, from: oid, version: oid, comment: z.string().default('') }),
  apply(ctx, d) {
    const { vob } = ctx;
    const brtype = getType(vob, d.brtype);
    if (!brtype || brtype.kind !== 'brtype') throw new NotFoundError('brtype', d.brtype);
    const from = getVersion(vob, d.from);
    if (!from) throw new NotFoundError('version', d.from);
    requireMastership(ctx, 'mkbranch', describeType(brtype), brtype.master);
    requireUnlocked(describeType(brtype), brtype.lock);
    if (getBranch(vob, d.branch)) throw new AlreadyExistsError('branch', d.branch);
    const parent = getBranch(vob, from.branch)!;
    if (brtype.oid === vob.meta('main_brtype')) throw new InvalidInputError('cannot make a "main" branch: every element has one');
    const existing = vob.q('SELECT * FROM branch WHERE element = ? AND brtype = ?').all(parent.element, brtype.oid) as BranchRow[];
    const clash = brtype.pbranch
      ? existing.find((b) => b.parent_version && getVersion(vob, b.parent_version)!.branch === parent.oid)
      : existing[0];
    if (clash) {
      throw new AlreadyExistsError(`branch of type "${brtype.name}" on element`, elementPath(vob, parent.element), {
        hint: brtype.pbranch
          ? undefined
          : 'an element has at most one branch of an ordinary branch type; use mkbrtype --pbranch for one per branch',
      });
    }
    vob
      .q('INSERT INTO branch (oid, element, brtype, parent_version, master, last_number, created_at) VALUES (?, ?, ?, ?, NULL, 0, ?)')
      .run(d.branch, parent.element, brtype.oid, from.oid, ctx.at);
    vob
      .q('INSERT INTO version (oid, branch, number, content, creator, comment, created_at, mode) VALUES (?, ?, 0, ?, ?, ?, ?, ?)')
      .run(d.version, d.branch, from.content, ctx.origin, d.comment, ctx.at, from.mode);
    vob.q('INSERT INTO dirent (version, name, element) SELECT ?, name, element FROM dirent WHERE version = ?').run(d.version, from.oid);
  },
});
