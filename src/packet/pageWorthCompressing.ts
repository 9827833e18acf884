/** Bytes sampled at each end of a page. */
const SAMPLE = 256;
/**
 * At most this many distinct byte values among a SAMPLE-byte sample and the sample looks
 * compressible. Uniform random bytes (deflate output) show about 162 of 256 in 256 samples; the
 * database's text (OIDs, names, msgpack) well under 100.
 */
const DISTINCT_LIMIT = 140;

/**
 * Whether a page of an SQLite database file (`first`: page 1, whose b-tree header follows the
 * 100-byte file header) is worth giving a compressor. A creation packet's database is mostly two
 * kinds of pages: b-tree pages of the VOB's tables, which are text and compress to a fifth, and
 * overflow pages of the content table, which hold deflated blobs and do not compress; brotli spent
 * on those was most of an export's time. B-tree pages (flag byte 2, 5, 10 or 13) are compressed;
 * another page (overflow, free list) only when a sample of its head or tail shows few distinct
 * bytes: the last page of a blob's overflow chain is part zeros.
 *
 * Measured on the VOB gitimport makes of commander.js (48 MB, 11,737 pages of 4 KiB): 13 ms for
 * every page; 7,105 of the 7,106 pages that deflate at level 1 to 90% or less are taken, with 545
 * that do not; the 16 MiB left out would have cost brotli (quality 3) some 90 ms for 15%.
 */
export function pageWorthCompressing(page: Uint8Array, first: boolean): boolean {
  const flag = page[first ? 100 : 0];
  if (flag === 2 || flag === 5 || flag === 10 || flag === 13) return true;
  if (page.length < 2 * SAMPLE) return true;
  return distinctBytes(page, 4, SAMPLE) <= DISTINCT_LIMIT || distinctBytes(page, page.length - SAMPLE, SAMPLE) <= DISTINCT_LIMIT;
}

const seen = new Uint8Array(256);

/** How many distinct byte values `bytes[from, from + n)` holds. */
function distinctBytes(bytes: Uint8Array, from: number, n: number): number {
  seen.fill(0);
  let distinct = 0;
  for (let i = from; i < from + n; i++) {
    const b = bytes[i]!;
    if (seen[b] === 0) {
      seen[b] = 1;
      distinct++;
    }
  }
  return distinct;
}
