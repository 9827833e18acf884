import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Database, Statement } from 'better-sqlite3';
import { fsyncDir, removeStaleTempFiles, tempFileFor, writeFileAtomic } from '../core/atomicFile.js';
import { applyBinaryDelta, binaryDelta } from '../core/binaryDelta.js';
import { worthDeflating } from '../core/compressibility.js';
import { IntegrityError, InternalError, NotFoundError, StorageError, writeFailure, writingTo } from '../core/errors.js';
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

/**
 * How a blob is stored: as given, raw-deflated, or as a Fossil delta (core/binaryDelta.ts) against
 * another blob of the pool: the base's 32-byte SHA-256, then the delta.
 */
const CODEC = { raw: 0, deflate: 1, delta: 2 } as const;

/**
 * The most deltas deep a blob may be stored: a delta, on a delta, and so on. Reading it makes
 * every version of the chain in turn (some 40 ms per 20 MiB each), so a longer chain is cut by
 * storing the next version whole. An import stores a version as a delta only when its packet
 * carried it as one (packetStream.ts): it is then stored as it came, not made and compressed again.
 */
export const DELTA_DEPTH = 10;

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
 * The largest content stored as a delta, and the largest base of one: applying a delta holds both
 * whole in memory. Packets keep to the same bound (replication/exportUpdate.ts says why 20 MiB).
 */
export const DELTA_MAX = 20 * 1024 * 1024;

/** The chunk size `chunks` hands out by default, and the most `stage` holds in memory. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * A blob for putManyWithHash: its bytes and SHA-256 (checked by the caller), and optionally its raw
 * deflate made beforehand (putWithHash) or a delta against another blob to store it as (putDeltaWithHash).
 */
export interface PoolEntry {
  sha: string;
  bytes: Uint8Array;
  deflated?: Uint8Array;
  delta?: { base: string; bytes: Uint8Array };
  /** The content it is a new version of, stored in the pool: it goes as a delta against it when that pays (putAgainst). */
  base?: string | null;
}

/** A blob written to a temporary file in the pool by `stage`, waiting for `commitStaged`. */
export interface StagedBlob {
  readonly sha: string;
  /** Uncompressed bytes. */
  readonly size: number;
  /** Removes the temporary file (if any); the blob can no longer be committed. Safe to call twice. */
  discard(): void;
}

/** A staged blob: bytes in memory (small ones), or a temporary file holding them as stored. */
class Staged implements StagedBlob {
  discarded = false;
  /** Set once the file is renamed into place: a retry after a rollback only records the row. */
  placed = false;
  constructor(
    readonly pool: ContentPool,
    readonly sha: string,
    readonly size: number,
    readonly held:
      { kind: 'bytes'; bytes: Buffer } | { kind: 'stored'; codec: number; stored: Buffer } | { kind: 'file'; codec: number; tmp: string },
  ) {}

  discard(): void {
    this.discarded = true;
    if (this.held.kind === 'file' && !this.placed) rmSync(this.held.tmp, { force: true });
  }
}

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
  private readonly sizeStatement: Statement;
  private readonly range: Statement;
  private readonly sizesAndData: Statement;
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
    // A stage interrupted by a crash leaves a temporary file nothing refers to; a read-only open
    // must not write, and leaves them for the next writer.
    if (!db.readonly) removeStaleTempFiles(dir);
    this.insert = db.prepare('INSERT OR IGNORE INTO content (sha, size, codec, data) VALUES (?, ?, ?, ?)');
    this.select = db.prepare('SELECT size, codec, data FROM content WHERE sha = ?');
    this.has = db.prepare('SELECT 1 FROM content WHERE sha = ?').pluck();
    this.sizeStatement = db.prepare('SELECT size FROM content WHERE sha = ?').pluck();
    this.range = db
      .prepare(
        `SELECT ${concatenated('sha')}, json_group_array(codec), json_group_array(length(data)), ${concatenated('data')}
         FROM (SELECT sha, codec, data FROM content WHERE sha >= ? AND sha <= ? ORDER BY sha LIMIT ?)`,
      )
      .raw();
    // The SHAs drive the join, each a look-up by key (`sha IN (SELECT unhex(value) ...)` compares with
    // the column's text affinity and misses blob keys); data only of blobs under the size given.
    this.sizesAndData = db
      .prepare(
        'SELECT j.value, c.size, c.codec, CASE WHEN c.size < ? THEN c.data END FROM json_each(?) j CROSS JOIN content c ON c.sha = unhex(j.value)',
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

  /**
   * put for a new version of content the pool holds as `base` (its predecessor, when there is one):
   * stored as a delta against it when the delta is at most a quarter of its bytes (about what
   * deflate makes of source text, so never much worse) and the base is under DELTA_DEPTH deltas
   * deep, else as put stores it. Versions over DELTA_MAX bytes are stored whole (a delta holds both
   * in memory). On real histories a version's delta against the one before is some 2 % of its
   * bytes; making it costs about what deflating it does.
   */
  putAgainst(bytes: Uint8Array, base: string | null | undefined): string {
    const sha = ContentPool.hash(bytes);
    if (base) this.putWithHashAgainst(sha, bytes, base);
    else this.putWithHash(sha, bytes);
    return sha;
  }

  private putWithHashAgainst(sha: string, bytes: Uint8Array, base: string): void {
    if (this.contains(sha)) return;
    const delta = this.deltaAgainst(bytes, base);
    if (delta) this.putDeltaWithHash(sha, bytes.length, base, delta);
    else this.putWithHash(sha, bytes);
  }

  /** The delta putAgainst would store `bytes` as, against `base`; undefined where it stores them whole. */
  private deltaAgainst(bytes: Uint8Array, base: string): Buffer | undefined {
    if (bytes.length < COMPRESS_MIN || bytes.length > DELTA_MAX || !this.contains(base)) return undefined;
    if (this.sizeOf(base) > DELTA_MAX || this.deltaDepth(base) >= DELTA_DEPTH) return undefined;
    return binaryDelta(this.get(base), bytes, Math.floor(bytes.length / 4) - 32);
  }

  /**
   * Stores bytes whose hash the caller already checked (imports verify before they apply).
   * `deflated`, when given, is `deflateRaw(bytes)` at zlib's defaults, made beforehand: a bulk
   * import deflates in zlib's thread pool as it reads its source, so the transaction does not wait
   * for it. The blob is stored exactly as without it.
   */
  putWithHash(sha: string, bytes: Uint8Array, deflated?: Uint8Array): void {
    if (this.stored.has(sha)) return;
    if (bytes.length < COMPRESS_MIN) {
      // Stored as given: INSERT OR IGNORE looks the key up itself, so a separate look-up first
      // would only double the work.
      this.insert.run(key(sha), bytes.length, CODEC.raw, bytes);
    } else if (!this.has.get(key(sha))) {
      this.storeCompressed(sha, bytes, deflated);
    }
    if (this.db.inTransaction) this.stored.add(sha);
  }

  /**
   * Stores many blobs whose hashes the caller checked, in SHA order: the table is keyed by SHA, so
   * inserting in key order fills pages one after another instead of touching one at random per blob
   * (measured on 100k blobs of 240 bytes, commit included: 6.3-7.5 µs a blob in the given order, 5.2-5.6 µs sorted).
   */
  putManyWithHash(blobs: readonly PoolEntry[]): void {
    for (const n of hexOrder(blobs.map((b) => b.sha))) {
      const b = blobs[n]!;
      if (b.delta) this.putDeltaWithHash(b.sha, b.bytes.length, b.delta.base, b.delta.bytes);
      else if (b.base) this.putWithHashAgainst(b.sha, b.bytes, b.base);
      else this.putWithHash(b.sha, b.bytes, b.deflated);
    }
  }

  /**
   * Stores a blob as a delta (core/binaryDelta.ts) against `base`, a blob of the pool or of the
   * same transaction, at most DELTA_DEPTH - 1 deltas deep (deltaDepth): the caller made the delta
   * from the blob's `size` bytes, whose hash it checked. A history import stores most versions so,
   * as git's packs do: on a real history a version's delta against the one before it is some 2 % of
   * its bytes, against 25 % deflated (tj/commander.js: 98 MB of changed files, 24.5 MB deflated,
   * 2.4 MB as deltas).
   */
  putDeltaWithHash(sha: string, size: number, base: string, delta: Uint8Array): void {
    if (this.stored.has(sha) || this.has.get(key(sha))) return;
    const stored = Buffer.concat([key(base), delta]);
    if (stored.length <= INLINE_LIMIT) this.insert.run(key(sha), size, CODEC.delta, stored);
    else {
      writingTo('create directory', this.dir, () => mkdirSync(join(this.dir, sha.slice(0, 2)), { recursive: true }));
      writeFileAtomic(this.pathOf(sha), stored);
      this.insert.run(key(sha), size, CODEC.delta, null);
    }
    if (this.db.inTransaction) this.stored.add(sha);
  }

  private storeCompressed(sha: string, bytes: Uint8Array, given?: Uint8Array): void {
    // Up to INLINE_LIMIT the deflate is its own test; beyond, a sample decides before the whole is
    // deflated for nothing (compressibility.ts).
    const deflated = given ?? (bytes.length <= INLINE_LIMIT || worthDeflating(bytes) ? deflateRawSync(bytes) : undefined);
    const codec = deflated && deflated.length < bytes.length ? CODEC.deflate : CODEC.raw;
    const stored = deflated && codec === CODEC.deflate ? deflated : bytes;
    if (stored.length <= INLINE_LIMIT) {
      this.insert.run(key(sha), bytes.length, codec, stored);
      return;
    }
    // Written even when a file is there: with no row naming it, it is a leftover of a rolled-back
    // transaction, perhaps stored with another codec.
    const file = this.pathOf(sha);
    writingTo('create directory', this.dir, () => mkdirSync(join(this.dir, sha.slice(0, 2)), { recursive: true }));
    writeFileAtomic(file, stored);
    this.insert.run(key(sha), bytes.length, codec, null);
  }

  /** Uncompressed size of a stored blob; throws NotFoundError when there is none. */
  sizeOf(sha: string): number {
    const size = this.sizeStatement.get(key(sha)) as number | undefined;
    if (size === undefined) throw new NotFoundError('content', sha);
    return size;
  }

  /**
   * A stored blob's bytes, uncompressed, in chunks of at most `chunkBytes` (default CHUNK_BYTES),
   * read as they are consumed: a blob stored as a file is never whole in memory. The bytes are
   * hashed as they pass, and the iteration ends with a StorageError if they do not hash to `sha`:
   * a consumer that writes them somewhere must not trust what it wrote before the end.
   */
  async *chunks(sha: string, chunkBytes: number = CHUNK_BYTES): AsyncGenerator<Buffer> {
    const row = this.select.get(key(sha)) as StoredRow | undefined;
    if (!row) throw new StorageError(`content ${sha} is missing from the pool`, { data: { sha } });
    if ((row.data && row.size <= chunkBytes) || row.codec === CODEC.delta) {
      // Most blobs: one chunk, read as get reads it, without a stream's set-up (an export reads many).
      // A delta is made whole (it is stored only for versions of a bounded size: DELTA_MAX).
      const bytes = this.read(sha, row);
      for (let at = 0; at < bytes.length || at === 0; at += chunkBytes) yield bytes.subarray(at, at + chunkBytes);
      return;
    }
    const hash = createHash('sha256');
    let size = 0;
    const file = row.data ? undefined : this.pathOf(sha);
    const input: Readable = file ? createReadStream(file, { highWaterMark: chunkBytes }) : Readable.from([row.data!]);
    const output: Readable = row.codec === CODEC.deflate ? input.pipe(createInflateRaw({ chunkSize: Math.max(64, chunkBytes) })) : input;
    if (output !== input) input.on('error', (err) => output.destroy(err));
    try {
      for await (const piece of output as AsyncIterable<Buffer>) {
        for (let at = 0; at < piece.length; at += chunkBytes) {
          const chunk = piece.subarray(at, at + chunkBytes);
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      }
    } catch (err) {
      // A file that is gone or does not inflate is damage; another system failure (too many open
      // files, an I/O error) is named as such, and may pass.
      const failure = file && (err as NodeJS.ErrnoException).code !== 'ENOENT' ? writeFailure(err, 'read', file) : undefined;
      throw failure ?? this.damaged(sha, err);
    } finally {
      input.destroy();
      output.destroy();
    }
    if (size !== row.size || hash.digest('hex') !== sha) throw this.damaged(sha);
  }

  /**
   * Writes a blob whose bytes arrive in chunks, hashing it as it goes, outside any transaction (so
   * an import or a checkin does not hold the VOB's write lock while it copies). Up to CHUNK_BYTES
   * stay in memory; more go to a temporary file in the pool, deflated as they pass when the first
   * chunk says that pays (compressibility.ts). `expectedSha`, when given, is checked at the end: an
   * IntegrityError if the bytes differ, and nothing kept. The chunks must not be changed by the
   * source once handed over.
   */
  async stage(source: AsyncIterable<Uint8Array>, options: { expectedSha?: string } = {}): Promise<StagedBlob> {
    const hash = createHash('sha256');
    let size = 0;
    const it = source[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let ended = false;
    while (size <= CHUNK_BYTES) {
      const next = await it.next();
      if (next.done) {
        ended = true;
        break;
      }
      // Copied: a source may reuse its buffer, and these are held until the decision.
      const chunk = Buffer.from(next.value);
      hash.update(chunk);
      size += chunk.length;
      head.push(chunk);
    }
    const first = Buffer.concat(head);
    if (ended) {
      const sha = hash.digest('hex');
      this.checkExpected(sha, options.expectedSha);
      return new Staged(this, sha, size, { kind: 'bytes', bytes: first });
    }
    const codec = worthDeflating(first) ? CODEC.deflate : CODEC.raw;
    writingTo('create directory', this.dir, () => mkdirSync(this.dir, { recursive: true }));
    const tmp = tempFileFor(join(this.dir, 'staged'));
    // What the source throws is its own failure (an unreadable input, a truncated packet), not the pool's.
    let sourceFailure: unknown;
    async function* all(): AsyncGenerator<Uint8Array> {
      let done = false;
      try {
        yield first;
        for (;;) {
          const next = await it.next().catch((err: unknown) => {
            sourceFailure = err;
            throw err;
          });
          if (next.done) break;
          hash.update(next.value);
          size += next.value.length;
          yield next.value;
        }
        done = true;
      } finally {
        if (!done) await it.return?.();
      }
    }
    let sha: string;
    let storedSize: number;
    try {
      const sink = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
      if (codec === CODEC.deflate) await pipeline(Readable.from(all(), { highWaterMark: 1 }), createDeflateRaw(), sink);
      else await pipeline(Readable.from(all(), { highWaterMark: 1 }), sink);
      sha = hash.digest('hex');
      this.checkExpected(sha, options.expectedSha);
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
        storedSize = (await fh.stat()).size;
      } finally {
        await fh.close();
      }
      if (storedSize <= INLINE_LIMIT) {
        const stored = await readFile(tmp);
        await rm(tmp, { force: true });
        return new Staged(this, sha, size, { kind: 'stored', codec, stored });
      }
    } catch (err) {
      await rm(tmp, { force: true });
      if (err === sourceFailure) throw err;
      throw writeFailure(err, 'write', tmp) ?? err;
    }
    return new Staged(this, sha, size, { kind: 'file', codec, tmp });
  }

  /**
   * A stored blob as the pool holds it, to send as it is: whether its bytes are raw-deflated, how
   * many they are, and the bytes, read a chunk at a time, not inflated and not checked (the reader
   * of a copy checks it against `sha`, as stageStored does); undefined for a blob stored as a delta,
   * which means nothing without its base. Throws StorageError when it is missing.
   */
  storedForm(sha: string): { deflated: boolean; size: number; storedLength: number; chunks(): AsyncIterable<Buffer> } | undefined {
    const row = this.select.get(key(sha)) as StoredRow | undefined;
    if (!row) throw new StorageError(`content ${sha} is missing from the pool`, { data: { sha } });
    if (row.codec === CODEC.delta) return undefined;
    const deflated = row.codec === CODEC.deflate;
    if (row.data) {
      const data = row.data;
      return {
        deflated,
        size: row.size,
        storedLength: data.length,
        async *chunks() {
          yield data;
        },
      };
    }
    const file = this.pathOf(sha);
    let storedLength: number;
    try {
      storedLength = statSync(file).size;
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? this.damaged(sha, err) : (writeFailure(err, 'read', file) ?? err);
    }
    return {
      deflated,
      size: row.size,
      storedLength,
      async *chunks() {
        let read = 0;
        try {
          for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
            read += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
        } catch (err) {
          throw writeFailure(err, 'read', file) ?? err;
        }
        if (read !== storedLength) throw new StorageError(`content ${sha} in the pool changed while it was read`, { data: { sha } });
      },
    };
  }

  /**
   * stage for bytes that arrive in the form the pool stores them in (storedForm's, from another
   * pool): raw, or raw-deflated. They are written as they come, not compressed again; deflated ones
   * are inflated on the way only to hash what they hold. The content must be `size` bytes hashing to
   * `sha` (IntegrityError otherwise, nothing kept), and the stored bytes `storedLength`.
   * `onContent` sees the content as it passes (a caller that needs it next, as a delta's base, need
   * not read it back); it is only known good once this resolves.
   */
  async stageStored(
    source: AsyncIterable<Uint8Array>,
    blob: { sha: string; size: number; deflated: boolean; storedLength: number },
    options: { onContent?: (chunk: Buffer) => void } = {},
  ): Promise<StagedBlob> {
    const codec = blob.deflated ? CODEC.deflate : CODEC.raw;
    const hash = createHash('sha256');
    let size = 0;
    let failure: unknown;
    const onContent = options.onContent ?? (() => {});
    const inflater = blob.deflated ? createInflateRaw({ chunkSize: CHUNK_BYTES }) : undefined;
    inflater?.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
      onContent(chunk);
    });
    inflater?.on('error', (err) => (failure ??= err));
    const take = async (chunk: Uint8Array): Promise<void> => {
      if (!inflater) {
        hash.update(chunk);
        size += chunk.length;
        onContent(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } else if (!inflater.write(chunk)) await once(inflater, 'drain');
    };
    const finish = async (storedLength: number): Promise<void> => {
      if (inflater) {
        inflater.end();
        if (!inflater.readableEnded) await once(inflater, 'end');
      }
      if (failure) throw failure;
      if (storedLength !== blob.storedLength || size !== blob.size) {
        throw new IntegrityError(
          `content ${blob.sha} arrived damaged: ${size} bytes in ${storedLength} stored, not ${blob.size} in ${blob.storedLength}`,
          {
            data: { expected: blob.sha },
            hint: 'send or read it again',
          },
        );
      }
      this.checkExpected(hash.digest('hex'), blob.sha);
    };
    const damaged = (err: unknown): unknown =>
      err === failure
        ? new IntegrityError(`content ${blob.sha} arrived damaged: its stored bytes do not inflate`, {
            data: { expected: blob.sha },
            hint: 'send or read it again',
            cause: err,
          })
        : err;
    try {
      if (blob.storedLength <= INLINE_LIMIT) {
        const parts: Buffer[] = [];
        let length = 0;
        for await (const chunk of source) {
          parts.push(Buffer.from(chunk));
          length += chunk.length;
          await take(chunk);
        }
        await finish(length);
        return new Staged(this, blob.sha, size, { kind: 'stored', codec, stored: Buffer.concat(parts, length) });
      }
    } catch (err) {
      inflater?.destroy();
      throw damaged(err);
    }
    writingTo('create directory', this.dir, () => mkdirSync(this.dir, { recursive: true }));
    const tmp = tempFileFor(join(this.dir, 'staged'));
    let written = 0;
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        for await (const chunk of source) {
          // The write and the inflate run on the thread pool side by side.
          const wrote = fh.write(chunk, 0, chunk.length, written);
          await take(chunk);
          await wrote;
          written += chunk.length;
        }
        await finish(written);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      inflater?.destroy();
      await rm(tmp, { force: true });
      throw writeFailure(err, 'write', tmp) ?? damaged(err);
    }
    return new Staged(this, blob.sha, size, { kind: 'file', codec, tmp });
  }

  /**
   * Stages a blob as a delta against `base` (a blob of the pool, or one committed with it), for a
   * version whose packet carried it as that delta: the caller has made the version from it and
   * checked its SHA-256 (`sha`, `size` bytes). The base must be stored at most DELTA_DEPTH - 1 deltas
   * deep (deltaDepth).
   */
  stageDelta(sha: string, size: number, base: string, delta: Uint8Array): StagedBlob {
    const stored = Buffer.concat([key(base), delta]);
    if (stored.length <= INLINE_LIMIT) return new Staged(this, sha, size, { kind: 'stored', codec: CODEC.delta, stored });
    writingTo('create directory', this.dir, () => mkdirSync(this.dir, { recursive: true }));
    const tmp = tempFileFor(join(this.dir, 'staged'));
    writingTo('write', tmp, () => {
      const fd = openSync(tmp, 'wx', 0o644);
      try {
        for (let off = 0; off < stored.length;) off += writeSync(fd, stored, off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    });
    return new Staged(this, sha, size, { kind: 'file', codec: CODEC.delta, tmp });
  }

  /** How many deltas deep a stored blob is: 0 for one stored whole, 1 + its base's for a delta. */
  deltaDepth(sha: string): number {
    let depth = 0;
    for (let at = sha; ; depth++) {
      const row = this.select.get(key(at)) as StoredRow | undefined;
      if (!row) throw new StorageError(`content ${at} is missing from the pool`, { data: { sha: at } });
      if (row.codec !== CODEC.delta) return depth;
      at = (row.data ?? readFileSync(this.pathOf(at))).subarray(0, 32).toString('hex');
    }
  }

  /**
   * The whole uncompressed bytes of a staged blob (a delta's base that came in the same packet),
   * verified against its SHA-256. For blobs of a bounded size: it is read into one buffer.
   */
  async stagedBytes(staged: StagedBlob): Promise<Buffer> {
    if (!(staged instanceof Staged) || staged.pool !== this) throw new InternalError('stagedBytes: a blob staged by another pool');
    if (staged.discarded) throw new InternalError(`stagedBytes: staged content ${staged.sha} was discarded`);
    const { held } = staged;
    if (held.kind === 'bytes') return held.bytes;
    const stored = held.kind === 'stored' ? held.stored : await readFile(staged.placed ? this.pathOf(staged.sha) : held.tmp);
    const bytes = this.decode(held.codec, stored);
    if (bytes.length !== staged.size || ContentPool.hash(bytes) !== staged.sha) throw this.damaged(staged.sha);
    return bytes;
  }

  /**
   * Inside the transaction that refers to the blob: moves a staged blob into place and records it;
   * returns its SHA-256. As with put, the file is in place before the row that names it commits; a
   * crash before `stage` ends leaves only a temporary file, which the next open of the pool removes.
   * `base`, the content it is a new version of: a blob staged in memory (up to CHUNK_BYTES) goes in
   * as a delta against it when that pays, as putAgainst stores one.
   */
  commitStaged(staged: StagedBlob, base?: string | null): string {
    if (!(staged instanceof Staged) || staged.pool !== this) throw new InternalError('commitStaged: a blob staged by another pool');
    if (staged.discarded) throw new InternalError(`commitStaged: staged content ${staged.sha} was discarded`);
    const { sha, held } = staged;
    if (this.contains(sha)) {
      staged.discard();
      return sha;
    }
    if (held.kind === 'bytes') {
      // Up to CHUNK_BYTES, whole in memory: stored as a delta against `base` when that pays (putAgainst).
      if (base) this.putWithHashAgainst(sha, held.bytes, base);
      else this.putWithHash(sha, held.bytes);
    } else if (held.kind === 'stored') this.insert.run(key(sha), staged.size, held.codec, held.stored);
    else {
      if (!staged.placed) {
        const sub = join(this.dir, sha.slice(0, 2));
        writingTo('create directory', sub, () => mkdirSync(sub, { recursive: true }));
        writingTo('write', this.pathOf(sha), () => renameSync(held.tmp, this.pathOf(sha)));
        fsyncDir(sub);
        staged.placed = true;
      }
      this.insert.run(key(sha), staged.size, held.codec, null);
    }
    if (this.db.inTransaction) this.stored.add(sha);
    return sha;
  }

  private checkExpected(sha: string, expected: string | undefined): void {
    if (expected !== undefined && expected !== sha) {
      throw new IntegrityError(`content ${expected} arrived damaged: its bytes hash to ${sha}`, {
        data: { expected, actual: sha },
        hint: 'send or read it again',
      });
    }
  }

  private damaged(sha: string, cause?: unknown): StorageError {
    if (cause instanceof StorageError) return cause;
    return new StorageError(`content ${sha} in the pool is damaged`, { data: { sha }, hint: 'restore the VOB from backup', cause });
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

  /**
   * For a reader of many blobs of which a few may be too large to hold at once (a view's update): the
   * size of each of `shas` in the pool, and the bytes, verified, of those under `below` bytes that are
   * stored in the database. One query, the SHAs in key order so each look-up lands near the last
   * (measured on 10,000 blobs of 240 bytes among 23,000, in a new process: 50-60 ms, where reading
   * the sizes and then getMany took 80-105). A blob in a file, or whose bytes do not hash to its key,
   * is left out of `bytes` for get to read or to name as damaged; one not in the pool is left out of
   * both.
   */
  sizesAndSmall(shas: readonly string[], below: number): { sizes: Map<string, number>; bytes: Map<string, Buffer> } {
    const sorted = hexOrder(shas).map((i) => shas[i]!);
    const rows = this.sizesAndData.all(below, JSON.stringify(sorted)) as [string, number, number, Buffer | null][];
    const sizes = new Map<string, number>();
    const bytes = new Map<string, Buffer>();
    for (const [sha, size, codec, stored] of rows) {
      sizes.set(sha, size);
      if (stored === null || bytes.has(sha)) continue;
      const decoded = this.decode(codec, stored);
      if (ContentPool.hash(decoded) === sha) bytes.set(sha, decoded);
    }
    return { sizes, bytes };
  }

  private decode(codec: number, stored: Buffer): Buffer {
    if (codec === CODEC.delta) {
      const base = stored.subarray(0, 32).toString('hex');
      try {
        // Fossil's own checksum is left out: read checks the result's SHA-256.
        return applyBinaryDelta(this.get(base), stored.subarray(32), { checksum: false });
      } catch (err) {
        // The base's own damage says itself; a delta that does not apply is this blob's.
        if (err instanceof StorageError) throw err;
        throw new StorageError(`content stored as a delta against ${base} in the pool is damaged: ${(err as Error).message}`, {
          hint: 'restore the VOB from backup',
          cause: err,
        });
      }
    }
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
