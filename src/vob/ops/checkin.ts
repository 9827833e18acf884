import { z } from 'zod';
import { AlreadyExistsError, InvalidInputError, StateError } from '../../core/errors.js';
import { describeBranch, requireMastership } from '../mastership.js';
import { branchMaster, getBranch, getCheckout, getElement, getVersion } from '../queries.js';
import { defineOp } from './defineOp.js';
import { oid, sha256 } from './schemas.js';

/**
 * Checks in a checkout as the branch's next version. A file version names its content by SHA-256
 * (the bytes are in the pool before the op applies); a directory version takes the checkout's
 * working entries. `number` is what the origin assigned; mastership of the branch makes every
 * replica agree on it, and a mismatch means the op arrived out of order.
 */
export const checkinOp = defineOp({
  kind: 'checkin',
  schema: z.object({
    checkout: oid,
    version: oid,
    number: z.number().int().positive(),
    content: sha256.nullable(),
    comment: z.string().default(''),
    /**
     * The new file version's mode, when it differs from the version checked out (a view's checkin of
     * a file whose execute bit changed, or that became a symlink). Absent: the mode is kept, as
     * every checkin made before modes were recorded; so such ops replay as they did.
     */
    mode: z.enum(['executable', 'symlink']).nullable().optional(),
  }),
  content: (d) => d.content,
  apply(ctx, d) {
    const { vob } = ctx;
    const co = getCheckout(vob, d.checkout);
    if (!co || co.replica !== ctx.origin) {
      throw new StateError('the element is not checked out at this replica', { hint: 'check it out first' });
    }
    const branch = getBranch(vob, co.branch)!;
    const element = getElement(vob, branch.element)!;
    requireMastership(ctx, 'checkin', () => describeBranch(vob, branch), branchMaster(vob, branch));
    if (getVersion(vob, d.version)) throw new AlreadyExistsError('version', d.version);
    if (d.number !== branch.last_number + 1) {
      throw new StateError(`version number ${d.number} does not follow ${branch.last_number} on ${describeBranch(vob, branch)}`);
    }
    if (element.kind === 'file') {
      if (d.content === null) throw new InvalidInputError('a file version needs content');
      if (!vob.pool.contains(d.content)) throw new StateError(`content ${d.content} is not in the pool`);
    } else if (d.content !== null || (d.mode ?? null) !== null) {
      throw new InvalidInputError('a directory version has entries, not content or a mode');
    }
    // Unless the op says otherwise, a file keeps its mode (executable, symlink) from the version it was checked out from.
    const mode =
      element.kind !== 'file'
        ? null
        : d.mode !== undefined
          ? d.mode
          : (vob.q('SELECT mode FROM version WHERE branch = ? AND number = ?').pluck().get(branch.oid, branch.last_number) ?? null);
    vob
      .q('INSERT INTO version (oid, branch, number, content, creator, comment, created_at, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(d.version, branch.oid, d.number, d.content, ctx.origin, d.comment, ctx.at, mode);
    if (element.kind === 'directory') {
      const insert = vob.q('INSERT INTO dirent (version, name, element) VALUES (?, ?, ?)');
      for (const [name, el] of Object.entries(JSON.parse(co.entries ?? '{}') as Record<string, string>)) insert.run(d.version, name, el);
    }
    vob.q('UPDATE branch SET last_number = ? WHERE oid = ?').run(d.number, branch.oid);
    vob.q('DELETE FROM checkout WHERE oid = ?').run(co.oid);
  },
});
