import { StateError } from '../core/errors.js';
import { replicaName } from '../vob/queries.js';
import type { Vob } from '../vob/vob.js';

/** Siblings a restored replica still waits on, by OID; empty when it is not being restored. */
export function restoringFrom(vob: Vob): string[] {
  const v = vob.meta('restoring');
  return v ? (JSON.parse(v) as string[]) : [];
}

/**
 * `restorereplica`: after this replica was restored from a backup, starts a new recovery
 * incarnation and asks every sibling to resend what it lacks (its own ops since the backup
 * included). Until every sibling has answered, only imports may change the VOB (local changes would
 * reuse oplog ids the siblings already hold). Packets from before the restore are refused by the
 * siblings from then on. `override` finishes the restore without waiting for the rest.
 */
export function restorereplica(vob: Vob, options: { override?: boolean } = {}): { incarnation: number; waitingFor: string[] } {
  return vob.transaction(() => {
    if (options.override) {
      if (!vob.meta('restoring')) throw new StateError(`replica ${vob.tag} is not being restored`);
      vob.deleteMeta('restoring');
      return { incarnation: Number(vob.meta('incarnation')), waitingFor: [] };
    }
    const siblings = vob.q('SELECT oid FROM replica WHERE removed = 0 AND oid <> ? ORDER BY name').pluck().all(vob.self) as string[];
    if (siblings.length === 0) throw new StateError('this VOB has no sibling replicas to restore from');
    const incarnation = Math.max(vob.clock.now(), Number(vob.meta('incarnation') ?? '0') + 1);
    vob.setMeta('incarnation', String(incarnation));
    vob.setMeta('restoring', JSON.stringify(siblings));
    return { incarnation, waitingFor: siblings.map((s) => replicaName(vob, s)) };
  });
}

/** Records a sibling's answer to the restore request; the last answer completes the restore. */
export function acknowledgeRestore(vob: Vob, sibling: string, incarnation: number): void {
  if (incarnation !== Number(vob.meta('incarnation'))) return;
  const waiting = restoringFrom(vob).filter((s) => s !== sibling);
  if (waiting.length) vob.setMeta('restoring', JSON.stringify(waiting));
  else vob.deleteMeta('restoring');
}
