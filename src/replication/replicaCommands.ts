import { applyLocal } from '../vob/ops/applyOp.js';
import { replicaName, requireReplica } from '../vob/queries.js';
import type { ReplicaRow } from '../vob/rows.js';
import type { Vob } from '../vob/vob.js';
import { restoringFrom } from './restoreReplica.js';

export interface ReplicaListing {
  oid: string;
  name: string;
  host: string;
  master: string;
  self: boolean;
  removed: boolean;
  publicKey: string | null;
  /** This replica only, after restorereplica: the siblings it still waits for. */
  restoringFrom?: string[];
}

function bare(selector: string): string {
  return selector.replace(/^replica:/, '').replace(/@.*$/, '');
}

/** Every replica object this replica knows, its own included, oldest first. */
export function lsreplica(vob: Vob): ReplicaListing[] {
  const rows = vob.q('SELECT * FROM replica ORDER BY created_at, oid').all() as ReplicaRow[];
  return rows.map((r) => ({
    oid: r.oid,
    name: r.name,
    host: r.host,
    master: replicaName(vob, r.master),
    self: r.oid === vob.self,
    removed: r.removed === 1,
    publicKey: r.public_key,
    ...(r.oid === vob.self && restoringFrom(vob).length ? { restoringFrom: restoringFrom(vob).map((o) => replicaName(vob, o)) } : {}),
  }));
}

export function chreplica(vob: Vob, replica: string, host: string): void {
  applyLocal(vob, 'chreplica', { replica: requireReplica(vob, bare(replica)).oid, host });
}

export function rmreplica(vob: Vob, replica: string): void {
  applyLocal(vob, 'rmreplica', { replica: requireReplica(vob, bare(replica)).oid });
}
