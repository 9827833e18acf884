import type { ConfigSpec } from '../configSpec.js';
import { masteredObject } from '../mastership.js';
import { mergeArrowsOf } from '../mergeArrows.js';
import {
  branchMaster,
  branchPath,
  branchesOf,
  elementPath,
  getBranch,
  getElement,
  getReplica,
  getType,
  getVersion,
  labelsOfVersion,
  replicaName,
  versionId,
} from '../queries.js';
import { resolveObject } from '../selectors.js';
import type { Vob } from '../vob.js';

/** Everything msite knows of one object, for `describe`; `oid` always, `master` for mastered objects. */
export type Description = Record<string, unknown> & { kind: string; oid: string };

function attributesOf(vob: Vob, oid: string): Record<string, string> {
  const rows = vob
    .q('SELECT t.name, a.value FROM attribute a JOIN type t ON t.oid = a.attype WHERE a.object = ? ORDER BY t.name')
    .all(oid) as {
    name: string;
    value: string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.name, r.value]));
}

function hyperlinksOf(vob: Vob, oid: string): { type: string; from: string; to: string; oid: string }[] {
  const rows = vob
    .q('SELECT h.oid, t.name, h.from_obj, h.to_obj FROM hyperlink h JOIN type t ON t.oid = h.hltype WHERE h.from_obj = ? OR h.to_obj = ?')
    .all(oid, oid) as { oid: string; name: string; from_obj: string; to_obj: string }[];
  const label = (o: string) => {
    try {
      return masteredObject(vob, o).description;
    } catch {
      return o;
    }
  };
  return rows.map((r) => ({ oid: r.oid, type: r.name, from: label(r.from_obj), to: label(r.to_obj) }));
}

export function describe(vob: Vob, selector: string, config?: ConfigSpec): Description {
  const obj = resolveObject(vob, selector, config);
  const common = { attributes: attributesOf(vob, obj.oid), hyperlinks: hyperlinksOf(vob, obj.oid) };
  switch (obj.kind) {
    case 'replica': {
      const r = getReplica(vob, obj.oid)!;
      return {
        kind: 'replica',
        oid: r.oid,
        name: r.name,
        host: r.host,
        master: replicaName(vob, r.master),
        self: r.oid === vob.self,
        locked: r.lock,
        publicKey: r.public_key,
        comment: r.comment,
        created: new Date(r.created_at).toISOString(),
        ...common,
      };
    }
    case 'element': {
      const e = getElement(vob, obj.oid)!;
      return {
        kind: 'element',
        oid: e.oid,
        path: elementPath(vob, e.oid),
        elementKind: e.kind,
        eltype: getType(vob, e.eltype)?.name ?? e.eltype,
        master: replicaName(vob, e.master),
        branches: branchesOf(vob, e.oid).map((b) => branchPath(vob, b)),
        created: new Date(e.created_at).toISOString(),
        ...common,
      };
    }
    case 'branch': {
      const b = getBranch(vob, obj.oid)!;
      return {
        kind: 'branch',
        oid: b.oid,
        path: `${elementPath(vob, b.element)}@@${branchPath(vob, b)}`,
        brtype: getType(vob, b.brtype)?.name,
        master: replicaName(vob, branchMaster(vob, b)),
        mastership: b.master ? 'explicit' : 'default',
        latest: b.last_number,
        created: new Date(b.created_at).toISOString(),
        ...common,
      };
    }
    case 'version': {
      const v = getVersion(vob, obj.oid)!;
      const b = getBranch(vob, v.branch)!;
      return {
        kind: 'version',
        oid: v.oid,
        version: `${elementPath(vob, b.element)}@@${versionId(vob, v)}`,
        element: b.element,
        branch: branchPath(vob, b),
        number: v.number,
        master: replicaName(vob, branchMaster(vob, b)),
        creator: replicaName(vob, v.creator),
        content: v.content,
        labels: labelsOfVersion(vob, v.oid),
        merges: mergeArrowsOf(vob, v.oid),
        comment: v.comment,
        created: new Date(v.created_at).toISOString(),
        // What an imported history says besides the bytes: its author, and how the file is loaded.
        ...(v.author !== null ? { author: v.author } : {}),
        ...(v.mode !== null ? { mode: v.mode } : {}),
        ...common,
      };
    }
    default: {
      const t = getType(vob, obj.oid)!;
      return {
        kind: t.kind,
        oid: t.oid,
        name: t.name,
        master: replicaName(vob, t.master),
        creator: replicaName(vob, t.creator),
        shared: t.shared === 1,
        locked: t.lock,
        ...(t.kind === 'attype' ? { vtype: t.vtype } : {}),
        ...(t.kind === 'brtype' ? { pbranch: t.pbranch === 1 } : {}),
        ...(t.kind === 'eltype' ? { elementKind: t.elkind } : {}),
        comment: t.comment,
        created: new Date(t.created_at).toISOString(),
        ...common,
      };
    }
  }
}
