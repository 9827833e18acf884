import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Database, Statement } from 'better-sqlite3';
import { writeFileAtomic } from '../core/atomicFile.js';
import { StorageError, writingTo } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import { concatenated } from './bulkColumns.js';

/** The table key of a SHA-256 given in hex: its 32 bytes. */
function key(sha: string): Buffer {
  return Buffer.from(sha, 'hex');
}

/** Wanted SHAs per range read by getMany, and the rows it may read per wanted one. */
const SCAN_CHUNK = 256;
const SCAN_SLACK = 4;

interface StoredRow {
  size: number;
  codec: number;
  data: Buffer | null;
}

/**
 * The indices of `keys` (lowercase hex strings of one length: SHA-256s) in the order that sorts
 * them: by their first 32 bits as numbers in a typed array, which sorts natively, then by whole
 * strings where those tie. A quarter of what Array.prototype.sort with a comparator costs on 100k
 * SHAs (20 ms against 80).
 */
export function hexOrder(keys: readonly string[]): number[] {
  const n = keys.length;
  // Each number holds a prefix above the key's index; 53 bits hold both for up to 2^21 keys, and
  // fewer prefix bits for more (ties are ordered by the pass below either way).
  const indexBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const prefixBits = Math.min(32, 53 - indexBits);
  const scale = 2 ** indexBits;
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) packed[i] = Math.floor(parseInt(keys[i]!.slice(0, 8), 16) / 2 ** (32 - prefixBits)) * scale + i;
  packed.sort();
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = packed[i]! % scale;
  // Insertion sort on the nearly sorted order: it only moves keys whose prefixes tied.
  for (let i = 1; i < n; i++) {
    const v = order[i]!;
    let j = i - 1;
    while (j >= 0 && keys[order[j]!]! > keys[v]!) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = v;
  }
  return order;
}

/** How a blob is stored: as given, or raw-deflated. */
const CODEC = { raw: 0, deflate: 1 } as const;

/**
 * Blobs at or under this many stored bytes live in the database; larger ones are files in `pool/`.
 * Small version contents dominate real histories, and a file each would cost a filesystem block
 * apiece; raise it only if the database grows too large to back up conveniently.
 */
export const INLINE_LIMIT = 64 * 1024;

/**
 * Blobs smaller than this are stored as given. On its own a blob of a few hundred bytes deflates by
 * a fifth at best (measured on source-like text: 237 B to ~200 B), and each deflate costs about
 * 20 µs, as much as the rest of a checkin; packets still compress them, many together.
 */
export const COMPRESS_MIN = 512;

/**
 * The content pool: every file version's bytes, stored once, named by SHA-256, compressed when that
 * helps. Large blobs are files under `<vob>/pool/ab/<sha>` written atomically before the database row
 * that names them commits, so a row never points at a missing file (a crash can only leave an
 * unreferenced file behind, which is harmless).
 */
export class ContentPool {
  private readonly insert: Statement;
  private readonly select: Statement;
  private readonly has: Statement;
  private readonly range: Statement;
  /**
   * SHAs stored by the open transaction: an import stores a packet's blobs and then checks, op by
   * op, that each one's content is there; this answers without a look-up. Vob.transaction empties
   * it at every commit and every rollback (a rolled-back savepoint may have taken a blob back).
   */
  private readonly stored = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly dir: string,
  ) {
    this.insert = db.prepare('INSERT OR IGNORE INTO content (sha, size, codec, data) VALUES (?, ?, ?, ?)');
    this.select = db.prepare('SELECT size, codec, data FROM content WHERE sha = ?');
    this.has = db.prepare('SELECT 1 FROM content WHERE sha = ?').pluck();
    this.range = db
      .prepare(
        `SELECT ${concatenated('sha')}, json_group_array(codec), json_group_array(length(data)), ${concatenated('data')}
         FROM (SELECT sha, codec, data FROM content WHERE sha >= ? AND sha <= ? ORDER BY sha LIMIT ?)`,
      )
      .raw();
  }

  static hash(bytes: Uint8Array): string {
    return sha256Hex(bytes);
  }

  /** Stores `bytes` (if new) and returns their SHA-256. Call inside the transaction that refers to it. */
  put(bytes: Uint8Array): string {
    const sha = ContentPool.hash(bytes);
    this.putWithHash(sha, bytes);
    return sha;
  }

  /** Stores bytes whose hash the caller already checked (imports verify before they apply). */
  putWithHash(sha: string, bytes: Uint8Array): void {
    if (this.stored.has(sha)) return;
    if (bytes.length < COMPRESS_MIN) {
      // Stored as given: INSERT OR IGNORE looks the key up itself, so a separate look-up first
      // would only double the work.
      this.insert.run(key(sha), bytes.length, CODEC.raw, bytes);
    } else if (!this.has.get(key(sha))) {
      this.storeCompressed(sha, bytes);
    }
    if (this.db.inTransaction) this.stored.add(sha);
  }

  /**
   * Stores many blobs whose hashes the caller checked, in SHA order: the table is keyed by SHA, so
   * inserting in key order fills pages one after another instead of touching one at random per blob
   * (measured on 100k blobs of 240 bytes, commit included: 6.3-7.5 µs a blob in the given order, 5.2-5.6 µs sorted).
   */
  putManyWithHash(blobs: readonly { sha: string; bytes: Uint8Array }[]): void {
    for (const n of hexOrder(blobs.map((b) => b.sha))) this.putWithHash(blobs[n]!.sha, blobs[n]!.bytes);
  }

  private storeCompressed(sha: string, bytes: Uint8Array): void {
    const deflated = deflateRawSync(bytes);
    const codec = deflated.length < bytes.length ? CODEC.deflate : CODEC.raw;
    const stored = codec === CODEC.deflate ? deflated : bytes;
    if (stored.length <= INLINE_LIMIT) {
      this.insert.run(key(sha), bytes.length, codec, stored);
      return;
    }
    const file = this.pathOf(sha);
    if (!existsSync(file)) {
      writingTo('create directory', this.dir, () => mkdirSync(join(this.dir, sha.slice(0, 2)), { recursive: true }));
      writeFileAtomic(file, stored);
    }
    this.insert.run(key(sha), bytes.length, codec, null);
  }

  contains(sha: string): boolean {
    return this.stored.has(sha) || Boolean(this.has.get(key(sha)));
  }

  /** Called by Vob.transaction when the outer transaction ends or any savepoint rolls back. */
  transactionEnded(): void {
    this.stored.clear();
  }

  /** The exact bytes stored under `sha`, verified against it. */
  get(sha: string): Buffer {
    return this.read(sha, this.select.get(key(sha)) as StoredRow | undefined);
  }

  /**
   * The bytes of many blobs, each verified as get does. An export reads thousands, and a look-up
   * each costs several times what reading the same rows in key order does (measured on 100k blobs
   * of 240 bytes: 6-7 µs a look-up, 1.6 µs a row in key order), so the wanted SHAs are sorted and
   * read a range at a time, each range as one value per column (bulkColumns.ts). The range reads at
   * most SCAN_SLACK rows per wanted one, and whatever it did not find (a blob in a file, a sparse
   * range, a row whose bytes do not hash to its key) is read by get, which says what is wrong with it.
   */
  getMany(shas: Iterable<string>): Map<string, Buffer> {
    const want = new Set(shas);
    const unique = [...want];
    const wanted = hexOrder(unique).map((n) => unique[n]!);
    const out = new Map<string, Buffer>();
    for (let i = 0; i < wanted.length; i += SCAN_CHUNK) {
      const last = Math.min(i + SCAN_CHUNK, wanted.length) - 1;
      if (last - i + 1 < SCAN_CHUNK / 4) break; // too few left to be worth a range
      const [keys, codecJson, lengthJson, data] = this.range.get(key(wanted[i]!), key(wanted[last]!), (last - i + 1) * SCAN_SLACK) as [
        Buffer | null,
        string,
        string,
        Buffer | null,
      ];
      if (!keys) continue;
      const hex = keys.toString('hex');
      const codecs = JSON.parse(codecJson) as number[];
      const lengths = JSON.parse(lengthJson) as (number | null)[];
      let at = 0;
      for (let r = 0; r < codecs.length; r++) {
        const length = lengths[r];
        if (length === null || length === undefined || !data) continue; // in a file
        const stored = data.subarray(at, at + length);
        at += length;
        const sha = hex.slice(64 * r, 64 * r + 64);
        if (!want.has(sha)) continue;
        const bytes = this.decode(codecs[r]!, stored);
        if (ContentPool.hash(bytes) === sha) out.set(sha, bytes);
      }
    }
    for (const sha of wanted) if (!out.has(sha)) out.set(sha, this.get(sha));
    return out;
  }

  private decode(codec: number, stored: Buffer): Buffer {
    if (codec !== CODEC.deflate) return stored;
    const bytes = inflateRawSync(stored);
    // zlib hands back a view of a 16 KiB chunk; a caller holding many small blobs (an export)
    // would hold a chunk each. Copy small results into buffers of their own size.
    return bytes.byteLength < bytes.buffer.byteLength / 2 ? Buffer.from(bytes) : bytes;
  }

  private read(sha: string, row: StoredRow | undefined): Buffer {
    if (!row) throw new StorageError(`content ${sha} is missing from the pool`, { data: { sha } });
    const bytes = this.decode(row.codec, row.data ?? readFileSync(this.pathOf(sha)));
    if (bytes.length !== row.size || ContentPool.hash(bytes) !== sha) {
      throw new StorageError(`content ${sha} in the pool is damaged`, { data: { sha }, hint: 'restore the VOB from backup' });
    }
    return bytes;
  }

  private pathOf(sha: string): string {
    return join(this.dir, sha.slice(0, 2), sha);
  }
}
