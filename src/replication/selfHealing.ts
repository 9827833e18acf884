import type { Vob } from '../vob/vob.js';
import { covers, epochRow, raiseEstimate, setEstimate, type EpochRow } from './epochs.js';

/**
 * How long after an export a sibling's report may still lack it before the export counts as lost
 * and is sent again. Default one day; set per replica with `chreplica --grace`. Lower it on fast,
 * reliable links; raise it where packets travel for days.
 */
export const DEFAULT_GRACE_MS = 24 * 60 * 60 * 1000;

export function gracePeriod(vob: Vob): number {
  const v = vob.meta('grace_ms');
  return v === undefined ? DEFAULT_GRACE_MS : Number(v);
}

/** Sets this replica's grace period (see gracePeriod); it is local and does not replicate. */
export function setGracePeriod(vob: Vob, ms: number): void {
  vob.setMeta('grace_ms', String(ms));
}

/** A row with every known replica present, missing origins meaning none of their ops (0). */
export function fullRow(vob: Vob, row: EpochRow): EpochRow {
  const known = vob.q('SELECT oid FROM replica').pluck().all() as string[];
  return { ...Object.fromEntries(known.map((o) => [o, 0])), ...row };
}

/**
 * Self-healing of lost packets from facts (see design.md): a sibling's estimate is raised to what it
 * reported having, and set back to its report when that report is newer, by more than the grace
 * period, than an export to it that the report lacks: that export was lost, and the next export
 * sends again from there (the sibling skips what it already has). Returns the siblings whose
 * estimates were set back.
 */
export function healEstimates(vob: Vob, siblings?: readonly string[]): string[] {
  const grace = gracePeriod(vob);
  const facts = vob.q('SELECT replica, row, at FROM fact').all() as { replica: string; row: string; at: number }[];
  const lastLacking = vob.q("SELECT row, at FROM sync_record WHERE kind = 'export' AND replica = ? AND at + ? < ? ORDER BY seq DESC");
  const reset: string[] = [];
  for (const f of facts) {
    if (f.replica === vob.self || (siblings && !siblings.includes(f.replica))) continue;
    const reported = fullRow(vob, JSON.parse(f.row) as EpochRow);
    raiseEstimate(vob, f.replica, reported);
    // One resend per report: until a newer report comes, the exports it lacks were already resent.
    if (Number(vob.meta(`healed:${f.replica}`) ?? '-1') >= f.at) continue;
    const exports = lastLacking.all(f.replica, grace, f.at) as { row: string; at: number }[];
    const lost = exports.some((e) => !covers(reported, JSON.parse(e.row) as EpochRow));
    if (lost && !covers(reported, epochRow(vob, f.replica))) {
      setEstimate(vob, f.replica, reported);
      vob.setMeta(`healed:${f.replica}`, String(f.at));
      reset.push(f.replica);
    }
  }
  return reset;
}
