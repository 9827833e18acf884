import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Database, Statement } from 'better-sqlite3';
import { writeFileAtomic } from '../core/atomicFile.js';
import { StorageError } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';

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
    this.range = db.prepare('SELECT codec, data FROM content WHERE sha >= ? AND sha <= ? LIMIT ?').raw();
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
    // By the first 32 bits as a number, then the whole hex: a tenth of the string comparisons.
    const prefix = Float64Array.from(blobs, (b) => parseInt(b.sha.slice(0, 8), 16));
    const order = Array.from(blobs.keys()).sort((x, y) => prefix[x]! - prefix[y]! || (blobs[x]!.sha < blobs[y]!.sha ? -1 : blobs[x]!.sha > blobs[y]!.sha ? 1 : 0));
    for (const n of order) this.putWithHash(blobs[n]!.sha, blobs[n]!.bytes);
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
      mkdirSync(join(this.dir, sha.slice(0, 2)), { recursive: true });
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
   * read a range at a time. A row is known by the hash of its bytes, which verifies it too; the
   * range reads at most SCAN_SLACK rows per wanted one, and whatever it did not find (a blob in a
   * file, a sparse range, a damaged row) is read by get, which says what is wrong with it.
   */
  getMany(shas: Iterable<string>): Map<string, Buffer> {
    const wanted = [...new Set(shas)].sort();
    const out = new Map<string, Buffer>();
    const want = new Set(wanted);
    for (let i = 0; i < wanted.length; i += SCAN_CHUNK) {
      const chunk = wanted.slice(i, i + SCAN_CHUNK);
      if (chunk.length < SCAN_CHUNK / 4) break; // too few left to be worth a range
      const rows = this.range.all(key(chunk[0]!), key(chunk[chunk.length - 1]!), chunk.length * SCAN_SLACK) as [number, Buffer | null][];
      for (const [codec, data] of rows) {
        if (data === null) continue;
        const bytes = this.decode(codec, data);
        const sha = ContentPool.hash(bytes);
        if (want.has(sha)) out.set(sha, bytes);
      }
    }
    for (const sha of wanted) if (!out.has(sha)) out.set(sha, this.get(sha));
    return out;
  }

  private decode(codec: number, stored: Buffer): Buffer {
    let bytes = codec === CODEC.deflate ? inflateRawSync(stored) : stored;
    // zlib hands back a view of a 16 KiB chunk; a caller holding many small blobs (an export)
    // would hold a chunk each. Copy small results into buffers of their own size.
    if (bytes.byteLength < bytes.buffer.byteLength / 2) bytes = Buffer.from(bytes);
    return bytes;
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
