import type { Vob } from './vob.js';

/**
 * The stored sizes of many blobs (by SHA-256 in hex) in one query, where ContentPool.sizeOf takes
 * one each: a view's update asks for every file it loads. Blobs not in the pool are absent.
 */
export function contentSizes(vob: Vob, shas: readonly string[]): Map<string, number> {
  const rows = vob
    .q('SELECT lower(hex(sha)), size FROM content WHERE sha IN (SELECT unhex(value) FROM json_each(?))')
    .raw()
    .all(JSON.stringify(shas)) as [string, number][];
  return new Map(rows);
}
