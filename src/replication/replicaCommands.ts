import { applyLocal } from '../vob/ops/applyOp.js';
import { replicaName, requireReplica } from '../vob/queries.js';
import type { ReplicaRow } from '../vob/rows.js';
import type { Vob } from '../vob/vob.js';
import { restoringFrom } from './restoreReplica.js';
import { setGracePeriod } from './selfHealing.js';

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

/** What `chreplica` changes: another replica's host (at its master), and this replica's grace period. */
export interface ReplicaChanges {
  /** A sibling's new host. */
  host?: { replica: string; host: string };
  /** How long an export may go unacknowledged before it counts as lost and is resent (this replica only). */
  graceMs?: number;
}

/**
 * `chreplica`: changes a replica's host (an op that replicates) and this replica's grace period for
 * lost packets (local), both or neither in one transaction.
 */
export function chreplica(vob: Vob, changes: ReplicaChanges): void {
  vob.transaction(() => {
    if (changes.host)
      applyLocal(vob, 'chreplica', { replica: requireReplica(vob, bare(changes.host.replica)).oid, host: changes.host.host });
    if (changes.graceMs !== undefined) setGracePeriod(vob, changes.graceMs);
  });
}

export function rmreplica(vob: Vob, replica: string): void {
  applyLocal(vob, 'rmreplica', { replica: requireReplica(vob, bare(replica)).oid });
}
