import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Database, Statement } from 'better-sqlite3';
import { writeFileAtomic } from '../core/atomicFile.js';
import { StorageError } from '../core/errors.js';

/** The table key of a SHA-256 given in hex: its 32 bytes. */
function key(sha: string): Buffer {
  return Buffer.from(sha, 'hex');
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

  constructor(
    private readonly db: Database,
    private readonly dir: string,
  ) {
    this.insert = db.prepare('INSERT OR IGNORE INTO content (sha, size, codec, data) VALUES (?, ?, ?, ?)');
    this.select = db.prepare('SELECT size, codec, data FROM content WHERE sha = ?');
    this.has = db.prepare('SELECT 1 FROM content WHERE sha = ?').pluck();
  }

  static hash(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  /** Stores `bytes` (if new) and returns their SHA-256. Call inside the transaction that refers to it. */
  put(bytes: Uint8Array): string {
    const sha = ContentPool.hash(bytes);
    if (this.has.get(key(sha))) return sha;
    this.putWithHash(sha, bytes);
    return sha;
  }

  /** Stores bytes whose hash the caller already checked (imports verify before they apply). */
  putWithHash(sha: string, bytes: Uint8Array): void {
    if (this.has.get(key(sha))) return;
    const deflated = bytes.length >= COMPRESS_MIN ? deflateRawSync(bytes) : undefined;
    const codec = deflated && deflated.length < bytes.length ? CODEC.deflate : CODEC.raw;
    const stored = codec === CODEC.deflate ? deflated! : bytes;
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
    return Boolean(this.has.get(key(sha)));
  }

  /** The exact bytes stored under `sha`, verified against it. */
  get(sha: string): Buffer {
    const row = this.select.get(key(sha)) as { size: number; codec: number; data: Buffer | null } | undefined;
    if (!row) throw new StorageError(`content ${sha} is missing from the pool`, { data: { sha } });
    const stored = row.data ?? readFileSync(this.pathOf(sha));
    let bytes = row.codec === CODEC.deflate ? inflateRawSync(stored) : stored;
    // zlib hands back a view of a 16 KiB chunk; a caller holding many small blobs (an export)
    // would hold a chunk each. Copy small results into buffers of their own size.
    if (bytes.byteLength < bytes.buffer.byteLength / 2) bytes = Buffer.from(bytes);
    if (bytes.length !== row.size || ContentPool.hash(bytes) !== sha) {
      throw new StorageError(`content ${sha} in the pool is damaged`, { data: { sha }, hint: 'restore the VOB from backup' });
    }
    return bytes;
  }

  private pathOf(sha: string): string {
    return join(this.dir, sha.slice(0, 2), sha);
  }
}
