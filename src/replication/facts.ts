import type { ReplicaFact } from '../packet/packetTypes.js';
import type { Vob } from '../vob/vob.js';
import { actualRow, type EpochRow } from './epochs.js';

/**
 * Facts: for each replica, the newest actual row it has reported (directly or through others) and
 * when. Every packet carries the sender's facts, its own row as of now included; importers keep the
 * newest report per replica and forward it. They let siblings notice lost packets (self-healing).
 */
export function currentFacts(vob: Vob, now: number): Record<string, ReplicaFact> {
  const rows = vob.q('SELECT replica, row, at FROM fact').all() as { replica: string; row: string; at: number }[];
  const facts: Record<string, ReplicaFact> = Object.fromEntries(
    rows.map((r) => [r.replica, { row: JSON.parse(r.row) as EpochRow, at: r.at }]),
  );
  facts[vob.self] = { row: actualRow(vob), at: now };
  return facts;
}

/** Keeps the newer of each incoming fact and the one stored; returns the replicas whose fact changed. */
export function learnFacts(vob: Vob, facts: Record<string, ReplicaFact>): string[] {
  const changed: string[] = [];
  const get = vob.q('SELECT at FROM fact WHERE replica = ?').pluck();
  const put = vob.q(
    'INSERT INTO fact (replica, row, at) VALUES (?, ?, ?) ON CONFLICT (replica) DO UPDATE SET row = excluded.row, at = excluded.at',
  );
  for (const [replica, fact] of Object.entries(facts)) {
    if (replica === vob.self) continue;
    const stored = get.get(replica) as number | undefined;
    if (stored !== undefined && stored >= fact.at) continue;
    put.run(replica, JSON.stringify(fact.row), fact.at);
    changed.push(replica);
  }
  return changed;
}
