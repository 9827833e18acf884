import { branchMaster, branchPath, elementPath, replicaName, requireReplica } from '../vob/queries.js';
import type { BranchRow, TypeRow } from '../vob/rows.js';
import type { Vob } from '../vob/vob.js';

export interface MasterListing {
  kind: string;
  object: string;
  oid: string;
  master: string;
}

/**
 * Mastered objects and their masters: replicas, types, and branches with explicit mastership
 * (branches with default mastership follow their branch type, which is listed).
 */
export function lsmaster(vob: Vob, replica?: string): MasterListing[] {
  const only = replica ? requireReplica(vob, replica.replace(/^replica:/, '').replace(/@.*$/, '')).oid : undefined;
  const out: MasterListing[] = [];
  for (const r of vob.q('SELECT oid, name, master FROM replica WHERE removed = 0 ORDER BY name').all() as {
    oid: string;
    name: string;
    master: string;
  }[]) {
    out.push({ kind: 'replica', object: `replica:${r.name}`, oid: r.oid, master: replicaName(vob, r.master) });
  }
  for (const t of vob.q('SELECT * FROM type ORDER BY kind, name').all() as TypeRow[]) {
    out.push({ kind: t.kind, object: `${t.kind}:${t.name}`, oid: t.oid, master: replicaName(vob, t.master) });
  }
  for (const b of vob.q('SELECT * FROM branch WHERE master IS NOT NULL').all() as BranchRow[]) {
    out.push({
      kind: 'branch',
      object: `${elementPath(vob, b.element)}@@${branchPath(vob, b)}`,
      oid: b.oid,
      master: replicaName(vob, branchMaster(vob, b)),
    });
  }
  return only ? out.filter((o) => o.master === replicaName(vob, only)) : out;
}

export interface ConflictListing {
  kind: string;
  oid: string;
  originalName: string;
  localName: string;
  creator: string;
  at: string;
}

/** Name conflicts met on import, oldest first: what each object was called, and what it is called here. */
export function lsconflict(vob: Vob): ConflictListing[] {
  const rows = vob.q('SELECT * FROM conflict ORDER BY seq').all() as {
    kind: string;
    oid: string;
    original_name: string;
    local_name: string;
    creator: string;
    at: number;
  }[];
  return rows.map((r) => ({
    kind: r.kind,
    oid: r.oid,
    originalName: r.original_name,
    localName: r.local_name,
    creator: replicaName(vob, r.creator),
    at: new Date(r.at).toISOString(),
  }));
}
