import type { EpochRow } from './epochs.js';

/**
 * How many ops `actual` (this replica's actual row) holds beyond `estimate` (its estimate of a
 * sibling, as lsepoch shows both): the sum over origins of the positive differences. 0 when, as far
 * as this replica knows, the sibling has everything it has. Rows by OID or by name, so long as both
 * are keyed the same way.
 */
export function opsBehind(actual: EpochRow, estimate: EpochRow): number {
  let behind = 0;
  for (const [origin, id] of Object.entries(actual)) behind += Math.max(0, id - (estimate[origin] ?? 0));
  return behind;
}
