import { z } from 'zod';
import { NotFoundError, StateError } from '../../core/errors.js';
import { describeType, requireInstanceMastership, requireUnlocked } from '../mastership.js';
import { elementPath, getBranch, getType, getVersion, versionId } from '../queries.js';
import type { Oid } from '../../core/ids.js';
import type { TypeRow, VersionRow } from '../rows.js';
import type { OpContext } from './defineOp.js';
import { defineOp } from './defineOp.js';
import { oid } from './schemas.js';

function labelTarget(ctx: OpContext, lbtypeOid: string, versionOid: string): { type: TypeRow; version: VersionRow; element: Oid } {
  const type = getType(ctx.vob, lbtypeOid);
  if (!type || type.kind !== 'lbtype') throw new NotFoundError('lbtype', lbtypeOid);
  const version = getVersion(ctx.vob, versionOid);
  if (!version) throw new NotFoundError('version', versionOid);
  return { type, version, element: getBranch(ctx.vob, version.branch)!.element };
}

/** Attaches a label to a version; a label type labels at most one version per element. */
export const mklabelOp = defineOp({
  kind: 'mklabel',
  schema: z.object({ lbtype: oid, version: oid, replace: z.boolean().default(false) }),
  apply(ctx, d) {
    const { vob } = ctx;
    const { type, version, element } = labelTarget(ctx, d.lbtype, d.version);
    requireUnlocked(describeType(type), type.lock);
    requireInstanceMastership(ctx, 'mklabel', type, version.oid);
    const current = vob.q('SELECT version FROM label WHERE lbtype = ? AND element = ?').pluck().get(type.oid, element) as
      string | undefined;
    if (current === version.oid) {
      throw new StateError(`label "${type.name}" is already on "${elementPath(vob, element)}@@${versionId(vob, version)}"`);
    }
    if (current !== undefined && !d.replace) {
      throw new StateError(
        `label "${type.name}" is already on "${elementPath(vob, element)}@@${versionId(vob, getVersion(vob, current)!)}"`,
        {
          hint: 'use --replace to move it',
        },
      );
    }
    vob.q('INSERT OR REPLACE INTO label (lbtype, element, version) VALUES (?, ?, ?)').run(type.oid, element, version.oid);
  },
  // A history import labels every version of a tree, for each tag: tens of thousands of labels of a
  // few types. Each type is read once; each version and its element in one look-up. Anything
  // apply would refuse throws, and the run is then applied op by op for apply's own refusal.
  applyRun(ctx, items) {
    const { vob } = ctx;
    const types = new Map<string, TypeRow>();
    const target = vob.q('SELECT b.element FROM version v JOIN branch b ON b.oid = v.branch WHERE v.oid = ?').pluck();
    const current = vob.q('SELECT version FROM label WHERE lbtype = ? AND element = ?').pluck();
    const labeled = new Map<string, string>();
    const refuse = (): never => {
      throw new StateError('a label of the run would be refused');
    };
    const rows: [string, string, string][] = [];
    for (const { origin, at, data: d } of items) {
      let type = types.get(d.lbtype);
      if (!type) {
        type = getType(vob, d.lbtype);
        if (!type || type.kind !== 'lbtype') return refuse();
        types.set(d.lbtype, type);
      }
      requireUnlocked(describeType(type), type.lock);
      requireInstanceMastership({ vob, origin, at, imported: ctx.imported }, 'mklabel', type, d.version);
      const element = target.get(d.version) as string | undefined;
      if (element === undefined) return refuse();
      const key = `${type.oid} ${element}`;
      const was = labeled.has(key) ? labeled.get(key) : (current.get(type.oid, element) as string | undefined);
      if (was === d.version || (was !== undefined && !d.replace)) return refuse();
      labeled.set(key, d.version);
      rows.push([type.oid, element, d.version]);
    }
    const insert = vob.q('INSERT OR REPLACE INTO label (lbtype, element, version) VALUES (?, ?, ?)');
    for (const row of rows) insert.run(...row);
  },
});

/** Removes a label from a version. */
export const rmlabelOp = defineOp({
  kind: 'rmlabel',
  schema: z.object({ lbtype: oid, version: oid }),
  apply(ctx, d) {
    const { vob } = ctx;
    const { type, version, element } = labelTarget(ctx, d.lbtype, d.version);
    requireUnlocked(describeType(type), type.lock);
    requireInstanceMastership(ctx, 'rmlabel', type, version.oid);
    const res = vob.q('DELETE FROM label WHERE lbtype = ? AND element = ? AND version = ?').run(type.oid, element, version.oid);
    if (res.changes === 0) {
      throw new StateError(`label "${type.name}" is not on "${elementPath(vob, element)}@@${versionId(vob, version)}"`);
    }
  },
});
