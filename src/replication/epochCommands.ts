import { InvalidInputError, NotFoundError } from '../core/errors.js';
import { isOid } from '../core/ids.js';
import { getReplica, replicaName, requireReplica } from '../vob/queries.js';
import type { Vob } from '../vob/vob.js';
import { epochMatrix, epochRow, setEstimate, type EpochRow } from './epochs.js';

/**
 * The rows asked for (all by default), each with a column for every replica of the family: a
 * replica that has sent nothing yet shows 0, so a row copied into `chepoch` at a sibling sets every
 * entry, not only those that happen to be stored. A removed replica shows only where an entry is held.
 */
function fullRows(vob: Vob, replicas: readonly string[]): [string, EpochRow][] {
  const matrix = epochMatrix(vob);
  const family = vob.q('SELECT oid FROM replica WHERE removed = 0 ORDER BY created_at, oid').pluck().all() as string[];
  const rows = replicas.length
    ? replicas.map((r) => requireReplica(vob, r.replace(/^replica:/, '').replace(/@.*$/, '')).oid)
    : [...new Set([...family, ...Object.keys(matrix)])];
  const columns = [...new Set([...family, ...Object.values(matrix).flatMap((row) => Object.keys(row))])];
  return rows.map((oid) => [oid, Object.fromEntries(columns.map((o) => [o, matrix[oid]?.[o] ?? 0]))]);
}

/** `lsepoch --json`: every row by replica name, origins by name (the own row included). */
export function lsepoch(vob: Vob, replicas: readonly string[] = []): Record<string, Record<string, number>> {
  return Object.fromEntries(
    fullRows(vob, replicas).map(([oid, row]) => [
      replicaName(vob, oid),
      Object.fromEntries(Object.entries(row).map(([o, id]) => [replicaName(vob, o), id])),
    ]),
  );
}

/** MultiSite's lsepoch text for the rows asked for. */
export function formatLsepoch(vob: Vob, replicas: readonly string[] = []): string {
  const lines = [`For VOB replica "${vob.tag}":`];
  for (const [oid, row] of fullRows(vob, replicas)) {
    const r = getReplica(vob, oid);
    lines.push(`Oplog IDs for row "${r?.name ?? oid}" (@ ${r?.host ?? '?'}):`);
    for (const [origin, id] of Object.entries(row).sort()) lines.push(` oid:${origin}=${id} (${replicaName(vob, origin)})`);
  }
  return lines.join('\n');
}

/**
 * `chepoch REPLICA ORIGIN=ID...`: sets entries of a sibling's estimate row (never this replica's
 * actual row). ORIGIN is a replica name or `oid:UUID`. Returns the row before and after.
 */
export function chepoch(vob: Vob, replica: string, assignments: readonly string[]): { before: EpochRow; after: EpochRow } {
  const target = requireReplica(vob, replica.replace(/^replica:/, '').replace(/@.*$/, ''));
  if (target.oid === vob.self)
    throw new InvalidInputError('the actual row of this replica cannot be changed', { hint: 'chepoch changes estimates of siblings only' });
  if (assignments.length === 0) throw new InvalidInputError('give at least one ORIGIN=ID');
  const row: EpochRow = {};
  for (const a of assignments) {
    const m = /^(?:oid:)?([^=]+)=(\d+)$/.exec(a);
    if (!m) throw new InvalidInputError(`bad assignment "${a}"`, { hint: 'use ORIGIN=ID, e.g. boston_hub=950 or oid:UUID=950' });
    const origin = isOid(m[1]!) ? m[1]! : requireReplica(vob, m[1]!).oid;
    if (!isOid(m[1]!) || getReplica(vob, origin)) row[origin] = Number(m[2]);
    else throw new NotFoundError('replica', m[1]!);
  }
  return vob.transaction(() => {
    const before = epochRow(vob, target.oid);
    setEstimate(vob, target.oid, row);
    return { before, after: epochRow(vob, target.oid) };
  });
}

/**
 * `recoverpacket --since T REPLICA`: resets the estimate for REPLICA to the row of the newest export
 * to it made before T, so the next export sends again everything sent since. Fails when no export
 * that old is recorded.
 */
export function recoverpacket(vob: Vob, replica: string, since: number): { row: EpochRow; exportedAt: number } {
  const target = requireReplica(vob, replica.replace(/^replica:/, '').replace(/@.*$/, ''));
  const rec = vob
    .q("SELECT at, row FROM sync_record WHERE kind = 'export' AND replica = ? AND at < ? ORDER BY at DESC, seq DESC LIMIT 1")
    .get(target.oid, since) as { at: number; row: string } | undefined;
  if (!rec) {
    throw new NotFoundError('export record', `to ${target.name} before ${new Date(since).toISOString()}`, {
      hint: "use chepoch with the sibling's lsepoch row instead",
    });
  }
  const row = JSON.parse(rec.row) as EpochRow;
  vob.transaction(() => {
    vob.q('DELETE FROM epoch WHERE replica = ?').run(target.oid);
    setEstimate(vob, target.oid, row);
  });
  return { row, exportedAt: rec.at };
}
