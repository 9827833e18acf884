import { z } from 'zod';
import { AlreadyExistsError, InvalidInputError, NotFoundError, StateError } from '../../core/errors.js';
import { describeBranch, requireMastership, requireUnlocked } from '../mastership.js';
import type { BranchRow, LockState } from '../rows.js';
import { defineOp } from './defineOp.js';
import { oid, sha256 } from './schemas.js';

/**
 * Adds the next version of a file branch in one step, without a checkout: what a bulk import of
 * existing history (MultiSite sites know it as clearfsimport) does for every file version. It asks
 * what checkout + checkin would together: the branch's mastership, an unlocked branch type, and no
 * reserved checkout standing in its way. One op instead of two, so an imported history costs half
 * the oplog and half the replication of checkout/checkin pairs.
 */
export const mkversionOp = defineOp({
  kind: 'mkversion',
  schema: z.object({
    branch: oid,
    version: oid,
    number: z.number().int().positive(),
    content: sha256,
    comment: z.string().default(''),
  }),
  content: (d) => d.content,
  apply(ctx, d) {
    const { vob } = ctx;
    // One row for the branch, its element's kind and its type's master and lock: this op is the
    // bulk path, and every lookup saved is paid per version.
    const row = vob
      .q(
        `SELECT b.*, e.kind AS element_kind, t.master AS brtype_master, t.lock AS brtype_lock, t.name AS brtype_name
         FROM branch b JOIN element e ON e.oid = b.element JOIN type t ON t.oid = b.brtype WHERE b.oid = ?`,
      )
      .get(d.branch) as (BranchRow & { element_kind: string; brtype_master: string; brtype_lock: LockState; brtype_name: string }) | undefined;
    if (!row) throw new NotFoundError('branch', d.branch);
    const branch: BranchRow = {
      oid: row.oid,
      element: row.element,
      brtype: row.brtype,
      parent_version: row.parent_version,
      master: row.master,
      last_number: row.last_number,
      created_at: row.created_at,
    };
    if (row.element_kind !== 'file') throw new InvalidInputError('a directory version has entries: check the directory out and in');
    requireUnlocked(`brtype "${row.brtype_name}"`, row.brtype_lock);
    requireMastership(ctx, 'checkin', () => describeBranch(vob, branch), (branch.master ?? row.brtype_master) as never);
    if (vob.q('SELECT 1 FROM checkout WHERE branch = ? AND reserved = 1').get(branch.oid)) {
      throw new StateError(`${describeBranch(vob, branch)} has a reserved checkout`, { hint: 'check it in or uncheckout it first' });
    }
    if (d.number !== branch.last_number + 1) {
      throw new StateError(`version number ${d.number} does not follow ${branch.last_number} on ${describeBranch(vob, branch)}`);
    }
    if (!vob.pool.contains(d.content)) throw new StateError(`content ${d.content} is not in the pool`);
    try {
      vob
        .q('INSERT INTO version (oid, branch, number, content, creator, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(d.version, branch.oid, d.number, d.content, ctx.origin, d.comment, ctx.at);
    } catch (err) {
      // The primary key checks the OID is new, rather than a lookup per version first.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AlreadyExistsError('version', d.version);
      throw err;
    }
    vob.q('UPDATE branch SET last_number = ? WHERE oid = ?').run(d.number, branch.oid);
  },
});
