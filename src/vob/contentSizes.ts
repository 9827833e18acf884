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
    .all(JSON.stringify(shas)) as [string, number][];
  return new Map(rows);
}
