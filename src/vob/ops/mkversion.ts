import { z } from 'zod';
import { AlreadyExistsError, InvalidInputError, NotFoundError, StateError } from '../../core/errors.js';
import type { ReplicaOid } from '../../core/ids.js';
import { describeBranch, requireMastership, requireUnlocked } from '../mastership.js';
import type { BranchRow, LockState } from '../rows.js';
import type { Vob } from '../vob.js';
import { defineOp } from './defineOp.js';
import { oid, sha256, versionMode } from './schemas.js';

const schema = z.object({
  branch: oid,
  version: oid,
  number: z.number().int().positive(),
  content: sha256,
  comment: z.string().default(''),
  /** How the version is to be loaded: as a plain file (null), executable, or a symbolic link whose target is its content. */
  mode: versionMode,
  /** Who wrote it, when that is not this replica's user: the author an imported history names. */
  author: z.string().nullable().default(null),
  /** When it was written (ms since the epoch), when that is not now: an imported history's dates. */
  time: z.number().int().nullable().default(null),
});
type MkversionData = z.infer<typeof schema>;

/** What a new version of a branch is checked against: the branch, with its element's kind and its type. */
interface BranchState extends BranchRow {
  element_kind: string;
  brtype_master: ReplicaOid;
  brtype_lock: LockState;
  brtype_name: string;
  /** A reserved checkout of the branch exists (at its master, the only place one can be). */
  reserved: 0 | 1;
}

// One row for all of it: this op is the bulk path, and every look-up saved is paid per version.
const BRANCH_STATE = `SELECT b.*, e.kind AS element_kind, t.master AS brtype_master, t.lock AS brtype_lock, t.name AS brtype_name,
  EXISTS (SELECT 1 FROM checkout c WHERE c.branch = b.oid AND c.reserved = 1) AS reserved
  FROM branch b JOIN element e ON e.oid = b.element JOIN type t ON t.oid = b.brtype WHERE b.oid = ?`;

function branchState(vob: Vob, branch: string): BranchState {
  const row = vob.q(BRANCH_STATE).get(branch) as BranchState | undefined;
  if (!row) throw new NotFoundError('branch', branch);
  return row;
}

/** Refuses `d` on branch `b` as it stands, in the words checkout and checkin use. */
function check(vob: Vob, origin: ReplicaOid, b: BranchState, d: MkversionData): void {
  if (b.element_kind !== 'file') throw new InvalidInputError('a directory version has entries: check the directory out and in');
  requireUnlocked(`brtype "${b.brtype_name}"`, b.brtype_lock);
  requireMastership({ vob, origin }, 'checkin', () => describeBranch(vob, b), b.master ?? b.brtype_master);
  if (b.reserved) throw new StateError(`${describeBranch(vob, b)} has a reserved checkout`, { hint: 'check it in or uncheckout it first' });
  if (d.number !== b.last_number + 1) {
    throw new StateError(`version number ${d.number} does not follow ${b.last_number} on ${describeBranch(vob, b)}`);
  }
  if (!vob.pool.contains(d.content)) throw new StateError(`content ${d.content} is not in the pool`);
}

function insertVersion(vob: Vob, origin: ReplicaOid, at: number, d: MkversionData): void {
  try {
    vob
      .q(
        'INSERT INTO version (oid, branch, number, content, creator, comment, created_at, mode, author) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(d.version, d.branch, d.number, d.content, origin, d.comment, d.time ?? at, d.mode, d.author);
  } catch (err) {
    // The primary key checks the OID is new, rather than a look-up per version first.
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AlreadyExistsError('version', d.version);
    throw err;
  }
}

function setLastNumber(vob: Vob, branch: string, number: number): void {
  vob.q('UPDATE branch SET last_number = ? WHERE oid = ?').run(number, branch);
}

/**
 * Adds the next version of a file branch in one step, without a checkout: what a bulk import of
 * existing history (MultiSite sites know it as clearfsimport) does for every file version. It asks
 * what checkout + checkin would together: the branch's mastership, an unlocked branch type, and no
 * reserved checkout standing in its way. One op instead of two, so an imported history costs half
 * the oplog and half the replication of checkout/checkin pairs.
 */
export const mkversionOp = defineOp({
  kind: 'mkversion',
  schema,
  content: (d) => d.content,
  contentGroupFirst: true,
  apply(ctx, d) {
    check(ctx.vob, ctx.origin, branchState(ctx.vob, d.branch), d);
    insertVersion(ctx.vob, ctx.origin, ctx.at, d);
    setLastNumber(ctx.vob, d.branch, d.number);
  },
  // Each branch is read once and its number kept here between the run's versions; the same checks
  // in the same order as apply, so the run is refused exactly when one of its ops would be.
  applyRun(ctx, items) {
    const { vob } = ctx;
    const branches = new Map<string, BranchState>();
    for (const { origin, data } of items) {
      let b = branches.get(data.branch);
      if (!b) branches.set(data.branch, (b = branchState(vob, data.branch)));
      check(vob, origin, b, data);
      b.last_number = data.number;
    }
    for (const { origin, at, data } of items) insertVersion(vob, origin, at, data);
    for (const b of branches.values()) setLastNumber(vob, b.oid, b.last_number);
  },
});
