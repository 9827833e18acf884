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
  return namedRows(vob, fullRows(vob, replicas));
}

/** MultiSite's lsepoch text for the rows asked for. */
export function formatLsepoch(vob: Vob, replicas: readonly string[] = []): string {
  return formatRows(vob, fullRows(vob, replicas));
}

/**
 * `lsepoch --actual`: rows as siblings reported them (by replica OID, origins by OID), with a column
 * for every replica of the family here too; as `lsepoch` shows rows, in JSON and text.
 */
export function actualRows(
  vob: Vob,
  reported: readonly [string, EpochRow][],
): { json: Record<string, Record<string, number>>; text: string } {
  const columns = fullRows(vob, [])[0]?.[1] ?? {};
  const rows: [string, EpochRow][] = reported.map(([oid, row]) => [
    oid,
    Object.fromEntries([...new Set([...Object.keys(columns), ...Object.keys(row)])].map((o) => [o, row[o] ?? 0])),
  ]);
  return { json: namedRows(vob, rows), text: formatRows(vob, rows) };
}

function namedRows(vob: Vob, rows: readonly [string, EpochRow][]): Record<string, Record<string, number>> {
  return Object.fromEntries(
    rows.map(([oid, row]) => [replicaName(vob, oid), Object.fromEntries(Object.entries(row).map(([o, id]) => [replicaName(vob, o), id]))]),
  );
}

function formatRows(vob: Vob, rows: readonly [string, EpochRow][]): string {
  const lines = [`For VOB replica "${vob.tag}":`];
  for (const [oid, row] of rows) {
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

/** One entry `chepoch --actual` changed: `Entry for ORIGIN changed from: FROM to TO`. */
export interface EpochChange {
  origin: string;
  from: number;
  to: number;
}

/** What `chepoch --actual` did with a sibling's actual row. */
export interface ActualRowResult {
  replica: string;
  changes: EpochChange[];
  /** Set when the sibling has fewer of its own ops than this replica applied from it (it was restored?). */
  warning?: string;
}

/**
 * `chepoch --actual [--raise-only] SIBLING`, the VOB's side: sets this replica's estimate of
 * `sibling` to the actual row the sibling reported (origins by OID; a column it does not list is 0
 * there), or with `raiseOnly` only raises entries. One transaction.
 */
export function applyActualRow(vob: Vob, sibling: string, reported: EpochRow, options: { raiseOnly?: boolean } = {}): ActualRowResult {
  const target = requireReplica(vob, sibling.replace(/^replica:/, '').replace(/@.*$/, ''));
  if (target.oid === vob.self)
    throw new InvalidInputError('the actual row of this replica cannot be changed', { hint: 'chepoch --actual asks a sibling' });
  return vob.transaction(() => {
    const [[, before]] = fullRows(vob, [target.name]) as [[string, EpochRow]];
    const origins = [...new Set([...Object.keys(before), ...Object.keys(reported)])];
    const after: EpochRow = {};
    const changes: EpochChange[] = [];
    for (const origin of origins) {
      const from = before[origin] ?? 0;
      const to = options.raiseOnly ? Math.max(from, reported[origin] ?? 0) : (reported[origin] ?? 0);
      after[origin] = to;
      if (to !== from) changes.push({ origin: replicaName(vob, origin), from, to });
    }
    setEstimate(vob, target.oid, after);
    const own = reported[target.oid] ?? 0;
    const applied = epochRow(vob, vob.self)[target.oid] ?? 0;
    return {
      replica: target.name,
      changes,
      ...(own < applied
        ? {
            warning: `Replica "${target.name}" has fewer oplog entries for itself (${own}) than this replica has applied from it (${applied}): it may have been restored from a backup`,
          }
        : {}),
    };
  });
}
