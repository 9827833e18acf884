import { z } from 'zod';
import { AlreadyExistsError, InvalidInputError, NotFoundError, StateError } from '../../core/errors.js';
import { describeBranch, requireMastership, requireUnlocked } from '../mastership.js';
import { assertEntryName } from '../names.js';
import { branchMaster, getBranch, getElement, getType, getVersion } from '../queries.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

/**
 * Adds the next version of a directory branch with the entries given, without a checkout: what a
 * bulk import of existing history (gitimport) writes wherever a commit adds, removes or renames
 * names. The op states the whole entry list, as a directory checkin records it, so the version is
 * what the history says whatever its predecessor held. It asks what checkout + checkin would: the
 * branch's mastership, an unlocked branch type and no reserved checkout.
 */
export const mkdirversionOp = defineOp({
  kind: 'mkdirversion',
  schema: z.object({
    branch: oid,
    version: oid,
    number: z.number().int().positive(),
    /** [name, element] pairs, in name order. */
    entries: z.array(z.tuple([z.string(), oid])),
    comment: z.string().default(''),
    author: z.string().nullable().default(null),
    /** When the history says it was made (ms since the epoch); null: now. */
    time: z.number().int().nullable().default(null),
  }),
  apply(ctx, d) {
    const { vob } = ctx;
    const branch = getBranch(vob, d.branch);
    if (!branch) throw new NotFoundError('branch', d.branch);
    const element = getElement(vob, branch.element)!;
    if (element.kind !== 'directory') throw new InvalidInputError('a file version has content: use mkversion');
    const brtype = getType(vob, branch.brtype)!;
    requireUnlocked(`brtype "${brtype.name}"`, brtype.lock);
    requireMastership(ctx, 'checkin', () => describeBranch(vob, branch), branchMaster(vob, branch));
    if (vob.q('SELECT 1 FROM checkout WHERE branch = ? AND reserved = 1').get(branch.oid)) {
      throw new StateError(`${describeBranch(vob, branch)} has a reserved checkout`, { hint: 'check it in or uncheckout it first' });
    }
    if (d.number !== branch.last_number + 1) {
      throw new StateError(`version number ${d.number} does not follow ${branch.last_number} on ${describeBranch(vob, branch)}`);
    }
    if (getVersion(vob, d.version)) throw new AlreadyExistsError('version', d.version);
    const names = new Set<string>();
    for (const [name, el] of d.entries) {
      assertEntryName(name);
      if (names.has(name)) throw new InvalidInputError(`name "${name}" is twice in one directory version`);
      names.add(name);
      if (!getElement(vob, el)) throw new NotFoundError('element', el);
    }
    vob
      .q('INSERT INTO version (oid, branch, number, content, creator, comment, created_at, author) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)')
      .run(d.version, branch.oid, d.number, ctx.origin, d.comment, d.time ?? ctx.at, d.author);
    const insert = vob.q('INSERT INTO dirent (version, name, element) VALUES (?, ?, ?)');
    for (const [name, el] of d.entries) insert.run(d.version, name, el);
    vob.q('UPDATE branch SET last_number = ? WHERE oid = ?').run(d.number, branch.oid);
  },
});
