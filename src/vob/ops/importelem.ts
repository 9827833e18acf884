import { z } from 'zod';
import { defineOp } from './defineOp.js';
import { newElementBranchType } from './newElementBranchType.js';
import { EMPTY_SHA } from './mkelem.js';
import { oid } from './schemas.js';

/**
 * Creates an element with its main branch and version 0 (empty for a file, without entries for a
 * directory) and no name yet: a bulk import of existing history (gitimport) names it in the
 * directory version it writes next (mkdirversion), so it needs no checkout of that directory.
 * Until then the element is in no directory version, as an element whose name was removed.
 */
export const importelemOp = defineOp({
  kind: 'importelem',
  schema: z.object({
    element: oid,
    kind: z.enum(['file', 'directory']),
    eltype: oid,
    branch: oid,
    version: oid,
    comment: z.string().default(''),
    /** When the history says it was made (ms since the epoch); null: now. */
    time: z.number().int().nullable().default(null),
  }),
  apply(ctx, d) {
    const { vob } = ctx;
    const mainType = newElementBranchType(vob, d);
    const at = d.time ?? ctx.at;
    vob
      .q('INSERT INTO element (oid, kind, eltype, master, comment, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(d.element, d.kind, d.eltype, ctx.origin, d.comment, at);
    vob
      .q('INSERT INTO branch (oid, element, brtype, parent_version, master, last_number, created_at) VALUES (?, ?, ?, NULL, NULL, 0, ?)')
      .run(d.branch, d.element, mainType, at);
    let content: string | null = null;
    if (d.kind === 'file') {
      vob.pool.putWithHash(EMPTY_SHA, new Uint8Array());
      content = EMPTY_SHA;
    }
    vob
      .q('INSERT INTO version (oid, branch, number, content, creator, comment, created_at) VALUES (?, ?, 0, ?, ?, ?, ?)')
      .run(d.version, d.branch, content, ctx.origin, d.comment, at);
  },
});
