import { hexOrder } from './contentPool.js';
import type { Vob } from './vob.js';

/**
 * The stored sizes of many blobs (by SHA-256 in hex) in one query, where ContentPool.sizeOf takes
 * one each: a view's update asks for every file it loads. Blobs not in the pool are absent.
 */
export function contentSizes(vob: Vob, shas: readonly string[]): Map<string, number> {
  const rows = vob
    // The SHAs drive the join, each a look-up by key. (`sha IN (SELECT unhex(value) ...)` compares
    // with the column's text affinity and misses blob keys.)
    .q('SELECT j.value, c.size FROM json_each(?) j CROSS JOIN content c ON c.sha = unhex(j.value)')
    .raw()
    // In key order: each look-up then lands near the last (measured on 10,000 SHAs: 12 ms, against 22 in any order).
    .all(JSON.stringify(hexOrder(shas).map((i) => shas[i]))) as [string, number][];
  return new Map(rows);
}
