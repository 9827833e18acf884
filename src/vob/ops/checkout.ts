import { z } from 'zod';
import { AlreadyExistsError, NotFoundError, StateError } from '../../core/errors.js';
import { describeBranch, describeType, requireMastership, requireUnlocked } from '../mastership.js';
import { branchMaster, dirEntries, elementPath, getBranch, getElement, getType, latestVersion, replicaName } from '../queries.js';
import type { CheckoutRow } from '../rows.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

/**
 * Checks out a branch at the origin replica. Reserved checkouts need the branch's mastership and
 * exclude other reserved checkouts; `nmaster` unreserved checkouts are allowed anywhere (checkin
 * still needs mastership). One checkout per element per replica, as one per element per view.
 */
export const checkoutOp = defineOp({
  kind: 'checkout',
  schema: z.object({
    checkout: oid,
    branch: oid,
    reserved: z.boolean(),
    nmaster: z.boolean().default(false),
    comment: z.string().default(''),
  }),
  apply(ctx, d) {
    const { vob } = ctx;
    const branch = getBranch(vob, d.branch);
    if (!branch) throw new NotFoundError('branch', d.branch);
    const element = getElement(vob, branch.element)!;
    const brtype = getType(vob, branch.brtype)!;
    requireUnlocked(describeType(brtype), brtype.lock);
    if (d.reserved || !d.nmaster) requireMastership(ctx, 'checkout', () => describeBranch(vob, branch), branchMaster(vob, branch));
    const mine = vob
      .q('SELECT c.oid FROM checkout c JOIN branch b ON b.oid = c.branch WHERE b.element = ? AND c.replica = ?')
      .get(element.oid, ctx.origin);
    if (mine) {
      throw new AlreadyExistsError('checkout', elementPath(vob, element.oid), {
        hint: 'it is already checked out at this replica; check it in or uncheckout first',
      });
    }
    if (d.reserved) {
      const other = vob.q('SELECT * FROM checkout WHERE branch = ? AND reserved = 1').get(branch.oid) as CheckoutRow | undefined;
      if (other) {
        throw new StateError(
          `${describeBranch(vob, branch)} already has a reserved checkout at replica "${replicaName(vob, other.replica)}"`,
          {
            hint: 'check out unreserved',
          },
        );
      }
    }
    const entries =
      element.kind === 'directory' ? JSON.stringify(Object.fromEntries(dirEntries(vob, latestVersion(vob, branch).oid))) : null;
    vob
      .q('INSERT INTO checkout (oid, branch, replica, reserved, nmaster, entries, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(d.checkout, branch.oid, ctx.origin, d.reserved ? 1 : 0, d.nmaster ? 1 : 0, entries, d.comment, ctx.at);
  },
});
