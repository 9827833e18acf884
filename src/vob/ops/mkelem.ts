import { z } from 'zod';
import { AlreadyExistsError, InvalidInputError, StateError } from '../../core/errors.js';
import { assertEntryName } from '../names.js';
import { getCheckout, rootElement } from '../queries.js';
import { defineOp } from './defineOp.js';
import { newElementBranchType } from './newElementBranchType.js';
import { oid } from './schemas.js';

/** Content of every file's version 0. */
export const EMPTY_SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Creates an element with its main branch and empty version 0, and enters its name in the parent
 * directory's checkout (the name becomes part of the namespace when the parent is checked in). The
 * root directory is the one element without a parent.
 *
 * `masterBranch` makes the creating replica master of the new main branch (MultiSite's
 * `mkelem -master`); otherwise the branch follows the main branch type's master.
 */
export const mkelemOp = defineOp({
  kind: 'mkelem',
  schema: z.object({
    element: oid,
    kind: z.enum(['file', 'directory']),
    eltype: oid,
    branch: oid,
    version: oid,
    parentCheckout: oid.nullable(),
    name: z.string(),
    masterBranch: z.boolean().default(false),
    comment: z.string().default(''),
  }),
  apply(ctx, d) {
    const { vob } = ctx;
    const mainType = newElementBranchType(vob, d);

    if (d.parentCheckout === null) {
      if (rootElement(vob)) throw new AlreadyExistsError('root directory', '.');
      if (d.kind !== 'directory') throw new InvalidInputError('the root element must be a directory');
      vob.setMeta('root', d.element);
    } else {
      assertEntryName(d.name);
      const co = getCheckout(vob, d.parentCheckout);
      if (!co || co.replica !== ctx.origin || co.entries === null) {
        throw new StateError(`cannot create element "${d.name}": its parent directory is not checked out`, {
          hint: 'check out the directory first, or use --auto',
        });
      }
      const entries = JSON.parse(co.entries) as Record<string, string>;
      if (Object.hasOwn(entries, d.name)) throw new AlreadyExistsError('name in directory', d.name);
      entries[d.name] = d.element;
      vob.q('UPDATE checkout SET entries = ? WHERE oid = ?').run(JSON.stringify(sortKeys(entries)), co.oid);
    }

    vob
      .q('INSERT INTO element (oid, kind, eltype, master, comment, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(d.element, d.kind, d.eltype, ctx.origin, d.comment, ctx.at);
    vob
      .q('INSERT INTO branch (oid, element, brtype, parent_version, master, last_number, created_at) VALUES (?, ?, ?, NULL, ?, 0, ?)')
      .run(d.branch, d.element, mainType, d.masterBranch ? ctx.origin : null, ctx.at);
    let content: string | null = null;
    if (d.kind === 'file') {
      content = vob.pool.put(new Uint8Array());
    }
    vob
      .q('INSERT INTO version (oid, branch, number, content, creator, comment, created_at) VALUES (?, ?, 0, ?, ?, ?, ?)')
      .run(d.version, d.branch, content, ctx.origin, d.comment, ctx.at);
  },
});

/** Directory entries are kept in name order so every replica stores identical JSON. */
export function sortKeys(entries: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
