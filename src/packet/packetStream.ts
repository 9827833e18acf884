import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { Readable, type TransformOptions } from 'node:stream';
import { promisify } from 'node:util';
import {
  brotliCompress,
  brotliDecompress,
  brotliDecompressSync,
  inflateRawSync,
  constants as zlib,
  type BrotliOptions,
  createBrotliCompress,
  createBrotliDecompress,
} from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';

const brotliCompressAsync = promisify(brotliCompress);
const brotliDecompressAsync = promisify(brotliDecompress);
import { applyBinaryDelta } from '../core/binaryDelta.js';
import { worthDeflating } from '../core/compressibility.js';
import { InvalidInputError } from '../core/errors.js';
import { packedString } from '../core/packedStrings.js';
import { sha256Hex } from '../core/sha256.js';
import { pageWorthCompressing } from './pageWorthCompressing.js';
import { BODY_COMPRESSION, decodeOpChunks, encodeOpChunks } from './packetBody.js';
import type { PacketBlob, PacketBody, PacketFile, WireOp } from './packetTypes.js';

/**
 * The streamed body (packet formats 3, 4 and 5): written as the export reads the oplog and the pool,
 * read as the import applies it, never whole in memory whatever the packet's size.
 *
 * Stored body = a compressed section, then a stored section:
 *   compressed section: frames, each u32 big-endian N > 0 then N bytes, ended by a u32 0. The frames'
 *     bytes, back to back, are one brotli stream (BODY_COMPRESSION), so ops and text content share one
 *     window as in format 2; a frame is whatever the compressor gave out, a few KB to 1 MiB.
 *   stored section: the bytes of the blobs the compressed section lists as stored ('S', 'D'), back to
 *     back, in that order, not compressed again, ending the body.
 * The compressed stream holds records, each a one-byte tag:
 *   'O' u32 N, N bytes: msgpack [origins, chunks]: a batch of ops, coded as format 2's op chunks
 *       (packetBody.ts) with an origin table of its own, so a batch is decoded alone.
 *   'b' u32 N, N bytes: a small blob (up to SMALL_BLOB bytes); its SHA-256 is computed on read, as
 *       format 2 does for every blob (32 bytes of hash that do not compress, per blob, would make a
 *       history of small files 40% bigger).
 *   'B' 32-byte SHA-256, u64 N, N bytes: a bigger blob whose bytes follow in the compressed stream,
 *       named first so the reader can stage it as it reads it.
 *   'S' 32-byte SHA-256, u64 N: a blob whose N bytes are the next ones of the stored section.
 *   'D' 32-byte SHA-256, u64 N, u64 L (format 4): a blob of N bytes whose next L bytes in the stored
 *       section are its raw-deflate stream.
 *   'd' 32-byte SHA-256, u64 N, 32-byte SHA-256 of a base, u32 L, L bytes (format 4): a blob of N
 *       bytes as a Fossil delta (core/binaryDelta.ts) against the base: a blob the body holds before
 *       this record (in either section: the reader makes deltas once the body is read), or one the
 *       reader has already (see below). A body holds at most DELTA_BYTES_PER_BODY bytes of deltas,
 *       which the reader keeps until then.
 *   'E': the end; nothing follows in the compressed stream.
 * Creation packets also hold the VOB (replication/mkreplica.ts):
 *   'V' u64 N, N bytes (formats 3 and 4): the VOB's database file, whole in the compressed stream.
 *   'W' u64 N (format 5): the database file, N bytes, follows as 'P' and 'Q' records, in file order,
 *       until they have given N bytes (before any other record):
 *     'Q' u32 L: its next L bytes are the next ones of the stored section. These are the pages that
 *       do not compress (pageWorthCompressing.ts): the content table's deflated blobs. Brotli spent
 *       on them was most of an export's time, and decoding them most of an import's.
 *     'P' u32 L: its next L bytes are in the database's blocks: the bytes of all its 'P' records,
 *       back to back, cut into blocks of DATABASE_BLOCK bytes (the last one shorter), each a brotli
 *       stream of its own, given as u32 M then M bytes in the stored section, after the bytes of
 *       the database's 'Q' records. Blocks are compressed and decompressed several at once, on the
 *       thread pool; in the compressed stream, one core did it all while the other waited.
 *   'F' 32-byte name, u64 N: a pool file whose N bytes are the next ones of the stored section.
 *   'K' u32 N, N bytes: the new replica's private key.
 *
 * What goes how (format 4's export, replication/exportUpdate.ts): blobs up to SMALL_BLOB go through
 * the compressor together ('b'), a file's versions side by side. Bigger ones go as the pool stores
 * them: deflated ('D': the pool's deflate stream as it is, neither inflated at the export nor
 * deflated again at the import, which stores it as it came) or raw ('S': content that does not
 * compress: random bytes, archives, images). On the big-files bench's text, deflate at the pool's
 * level takes it to 0.193 of its size, brotli at BODY_COMPRESSION to 0.250, so the stored form is
 * also the smaller. A version whose predecessor on its branch came just before it in the body, both
 * up to DELTA_MAX, goes as a delta against it when that is at most half its stored form ('d'); the
 * import stores it as that delta (contentPool.ts, DELTA_DEPTH), so neither side compresses it again.
 * The first version of a branch in a body goes as a delta against the version before it when the
 * target has that one already: content that no op of the export brings (its op is at or under the
 * packet's `requires` row, which the target must have applied before it can apply the packet) or
 * that an earlier fragment brings (also under `requires`). So a new version of a big file goes as
 * what changed, in every sync. A reader that lacks a base refuses the packet. 'B' is left
 * for a blob the pool holds as a delta and that does not travel as one (its bytes are made whole),
 * compressed when a sample of its first chunk says it pays (`worthCompressing`).
 *
 * Checks: every blob is checked against its SHA-256 at the import, whatever form it came in: a
 * deflated one is inflated as it is written, only to hash what it holds; a delta's result is hashed
 * before it is stored. The body's signed SHA-256 would say the stored bytes arrived as sent; a hash
 * of the content says the sender's pool held what it names, so damage at the sender is not copied
 * on. Inflating costs some 3 ms per MiB of content, a few percent of an import.
 *
 * Trust: the header (signed with Ed25519, as in format 2) names the body's length and SHA-256, as
 * before; the body is verified as a stream, in the same pass that decodes it. Import reads the body
 * once: it hashes every byte as it reads, decodes ops into memory, holds small blobs and stages big
 * ones into the pool's temporary files (each checked against its own SHA-256), and commits no op
 * until the whole body has been read and its SHA-256 and length match the signed header; a mismatch
 * discards what was staged. (Small blobs past 32 MB in one packet go into the pool in steps before
 * the check, to bound memory: content named by its own SHA-256 that nothing refers to yet; see
 * importPackets.ts.) Nothing the ops say is trusted before the check, and the body is read once: I/O
 * is one read of the packet and one write of its content into the pool.
 * The other choices cost more: a first pass hashing and a second applying reads the body twice (and
 * must hash the second pass again, or a file changed in between gets in); a signed table of chunk
 * hashes would let a reader trust each chunk as it comes, which nothing here needs, as nothing is
 * committed before the end anyway, and it would make the header grow with the packet.
 * The writer cannot know the body's SHA-256 before it has written the body, yet the header comes
 * first: it reserves the header's room with the largest a length can be, writes the body after it,
 * then writes the header (padded with spaces, which JSON allows) and its signature into that room.
 */

/**
 * The compressor's setting for creation packets, for their compressed section and the database's
 * blocks (mostly its b-tree pages). Measured on the express VOB's (62 MiB, in blocks): quality 1
 * made a packet of 55.1 MB with 0.53 s of CPU for the export and 0.53 s for the import, quality 3
 * one of 53.0 MB with 0.80 and 0.46 s; on commander.js's pages in one stream, quality 1 took half
 * the time of quality 3 for 10% more bytes.
 */
export const CREATION_COMPRESSION = { quality: 1, lgwin: 24 } as const;

/** Bytes of op data per 'O' record (ops are batched until they reach it, or OPS_PER_RECORD). */
const RECORD_BYTES = 1024 * 1024;
/** Ops per 'O' record, at most. */
export const OPS_PER_RECORD = 4096;
/** The compressor is given at least this many bytes at a time (but the last). */
const WRITE_BYTES = 256 * 1024;
/**
 * The most bytes of deltas one body holds: a reader keeps them in memory until the body is read
 * (their bases may come after them), and refuses a body holding more. With a base and a version
 * made from it (DELTA_MAX each) that keeps an import under 256 MB; a writer past it sends versions
 * whole.
 */
export const DELTA_BYTES_PER_BODY = 32 * 1024 * 1024;
/** Blobs up to this size travel in 'b' records, without their SHA-256, and are always compressed. */
export const SMALL_BLOB = 64 * 1024;
/** Bytes a blob is read, compressed, copied and staged in. */
export const CHUNK_BYTES = 1024 * 1024;
/** Bytes of the database's compressible pages per block (packet format 5). */
const DATABASE_BLOCK = 1024 * 1024;
/** zlib's output buffer for a block, compressed or not: one is enough. */
const BLOCK_OUTPUT = DATABASE_BLOCK + 64 * 1024;
/** Brotli's window for a block: the block's size. */
const DATABASE_BLOCK_LGWIN = 20;
/** Blocks compressed or decompressed at once, on the thread pool (which has four threads). */
const BLOCKS_AT_ONCE = 4;
/** How much of the stored section is read while the compressed section is still being decoded. */
const READ_AHEAD_BYTES = 16 * 1024 * 1024;
/** Runs of fewer pages than this go with the run before them (see putDatabase). */
const MIN_RUN_PAGES = 4;
/** The most bytes of the database one 'P' or 'Q' record lists. */
const RUN_BYTES = 1024 * 1024 * 1024;
/** Blobs smaller than this always go through the compressor: testing them costs more than it saves. */
const SAMPLE_MIN = 4096;

const MSGPACK_OPTIONS = { useRecords: false, mapsAsObjects: true } as const;

/**
 * Whether content whose first bytes are `sample` is worth running through the compressor: the pool's
 * test (core/compressibility.ts), so content the pool stores raw travels raw. Random bytes and
 * already compressed formats (gzip, zip, JPEG, video) fail it; text and code pass.
 */
export function worthCompressing(sample: Uint8Array): boolean {
  return sample.length < SAMPLE_MIN || worthDeflating(sample);
}

/** A blob to write: its SHA-256, its size, and its bytes on demand (read again for each call). */
export interface BlobSource {
  sha: string;
  size: number;
  chunks(): AsyncIterable<Uint8Array>;
  /** Whether to compress it, when known; else a sample of its first chunk decides. */
  compressible?: boolean;
  /**
   * The blob as its store keeps it (the content pool's stored form): when given, these bytes travel
   * as they are, in the stored section, and `chunks` is not read.
   */
  stored?: StoredSource;
}

/** A blob's stored form: raw (its bytes) or raw-deflated, `storedLength` bytes read on demand. */
export interface StoredSource {
  deflated: boolean;
  storedLength: number;
  chunks(): AsyncIterable<Uint8Array>;
}

/** A blob given as a Fossil delta (core/binaryDelta.ts) against `base`, a blob written earlier in the same body. */
export interface DeltaBlob {
  sha: string;
  size: number;
  base: string;
  delta: Uint8Array;
  /** The base is not in the body: the writer knows the reader has it (a version the target holds). */
  baseAtTarget?: boolean;
}

/** A small blob (up to SMALL_BLOB bytes) whose bytes are at hand. */
export interface SmallBlob {
  sha: string;
  bytes: Uint8Array;
}

/**
 * What a streamed body is written from, in order: batches of ops, small blobs in batches, and big
 * blobs read as they are written (each SHA once: a repeated one is skipped).
 */
export type BodyPart =
  { ops: readonly WireOp[] } | { small: readonly SmallBlob[] } | { blob: BlobSource } | { delta: DeltaBlob } | CreationPart;

/**
 * What a creation packet's body holds besides ops: the VOB's database file (`read` gives `length`
 * bytes at `position`, whole; the file must not change until the body is written: the stored
 * section reads it again), its pool's files as they are (named by SHA-256), and the new replica's
 * private key.
 */
export type CreationPart =
  | { databaseFile: DatabaseFile }
  | { poolFile: { name: string; storedLength: number; chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array> } }
  | { replicaKey: Uint8Array };

/** Where the writer puts body bytes (already framed), e.g. a file at an offset, hashing as it goes. */
export type BodySink = (bytes: Uint8Array) => void;

/**
 * Writes a streamed body from `parts` into `sink`; returns how many ops it held. Blobs whose content
 * does not compress are listed in the compressed section and written, read a second time, after it.
 * Memory: a batch of ops, a chunk of a blob, and the compressor's window (16 MiB).
 */
export async function writeStreamBody(
  parts: AsyncIterable<BodyPart> | Iterable<BodyPart>,
  sink: BodySink,
  compression: { quality: number; lgwin: number } = BODY_COMPRESSION,
): Promise<number> {
  // zlib streams take stream options too (Node's typings leave them out).
  const options: BrotliOptions & TransformOptions = {
    chunkSize: 256 * 1024,
    // Room for a few writes ahead of the compressor (which works on the thread pool), so reading the
    // pool and compressing overlap instead of taking turns.
    writableHighWaterMark: 4 * WRITE_BYTES,
    params: { [zlib.BROTLI_PARAM_QUALITY]: compression.quality, [zlib.BROTLI_PARAM_LGWIN]: compression.lgwin },
  };
  const compressor = createBrotliCompress(options);
  const frameLength = Buffer.alloc(4);
  compressor.on('data', (chunk: Buffer) => {
    frameLength.writeUInt32BE(chunk.length);
    sink(frameLength);
    sink(chunk);
  });
  // An error of the compressor rejects the wait for 'drain' or 'end' in progress (events.once does),
  // or the next one; it is never left unheard. (Not Promise.race with a promise that stays pending:
  // each race would stay attached to it, and keep what it settled with.)
  let failure: Error | undefined;
  compressor.on('error', (err: Error) => (failure = err));
  const wait = async (event: string): Promise<void> => {
    if (failure) throw failure;
    await once(compressor, event);
  };
  // Each write to a zlib stream is a trip to the thread pool: small records (an op batch's header,
  // a small blob) are gathered into writes of WRITE_BYTES.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    if (!compressor.write(bytes)) await wait('drain');
  };
  // A promise only when the compressor is given the gathered bytes: most puts cost no await.
  const put = (bytes: Uint8Array): Promise<void> | undefined => {
    pending.push(bytes);
    pendingBytes += bytes.length;
    return pendingBytes >= WRITE_BYTES ? flush() : undefined;
  };
  // `length` is checked once they are written; the database's blocks have none known beforehand.
  // Each chunk is written out before the next is asked for: a source may read them into one buffer.
  const stored: { sha: string; length?: number; chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array> }[] = [];
  // The database a chunk at a time, in runs of pages, listed in 'P' records (the compressible ones,
  // whose bytes go in the database's blocks after its raw pages) and 'Q' records (the others); all
  // are read again for the stored section.
  const putDatabase = async (db: DatabaseFile): Promise<void> => {
    if (!(db.pageSize > 0) || db.size % db.pageSize !== 0)
      throw new InvalidInputError(`the database is ${db.size} bytes, not a whole number of ${db.pageSize}-byte pages`);
    await put(Buffer.concat([TAG_W, u64(db.size)]));
    const runs: Run[] = [];
    // The run being gathered, listed once the next one is of the other kind.
    let pending: { compress: boolean; from: number; length: number } | undefined;
    const list = async (): Promise<void> => {
      if (!pending) return;
      for (let at = pending.from, end = pending.from + pending.length; at < end; at += RUN_BYTES) {
        const position = at;
        const length = Math.min(RUN_BYTES, end - at);
        if (pending.compress) addRun(runs, position, length);
        else stored.push({ sha: 'the database', length, chunks: () => fileRange(db, position, length) });
        await put(u32Record(pending.compress ? TAG_P : TAG_Q, length));
      }
      pending = undefined;
    };
    const extend = async (compress: boolean, from: number, length: number): Promise<void> => {
      if (pending?.compress === compress) {
        pending.length += length;
        return;
      }
      await list();
      pending = { compress, from, length };
    };
    // One buffer for every chunk: pages are only looked at here (runs are read again for the stored
    // section), and a new buffer each time cost the first touch of its memory.
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, db.size));
    for (let at = 0; at < db.size; at += CHUNK_BYTES) {
      const chunk = db.read(at, Math.min(CHUNK_BYTES, db.size - at), buffer);
      if (chunk.length !== Math.min(CHUNK_BYTES, db.size - at)) throw new InvalidInputError(`the database ended before ${db.size} bytes`);
      let from = 0;
      let compress = true;
      for (let p = 0; p <= chunk.length; p += db.pageSize) {
        const c: boolean = p < chunk.length ? pageWorthCompressing(chunk.subarray(p, p + db.pageSize), at + p === 0) : !compress;
        if (p > 0 && c !== compress) {
          // A run of a few pages goes with the run before it. On the commander.js VOB a record
          // per run made 2,084 records, and the import wrote each run on its own: reading the
          // body took 175 ms; this makes 258 records, read in 88 ms, for 4% more bytes. (Giving
          // short runs to the compressor instead made 674, read in 110 ms, 1% fewer bytes.)
          const short = p - from < MIN_RUN_PAGES * db.pageSize && pending !== undefined;
          await extend(short ? pending!.compress : compress, at + from, p - from);
          from = p;
        }
        compress = c;
      }
    }
    await list();
    if (runs.length > 0) stored.push({ sha: 'the database', chunks: () => databaseBlocks(db, runs, compression.quality) });
  };
  try {
    const seen = new Set<string>();
    let deltaBytes = 0;
    let opCount = 0;
    for await (const part of parts) {
      if ('ops' in part) {
        for (let i = 0; i < part.ops.length;) {
          let bytes = 0;
          let j = i;
          while (j < part.ops.length && j - i < OPS_PER_RECORD && bytes < RECORD_BYTES) bytes += opDataLength(part.ops[j++]!);
          await put(opsRecord(part.ops.slice(i, j)));
          opCount += j - i;
          i = j;
        }
        continue;
      }
      if ('small' in part) {
        // Small blobs always go through the compressor: judging each would cost more than it saves.
        for (const b of part.small) {
          if (b.bytes.length > SMALL_BLOB) throw new InvalidInputError(`blob ${b.sha} is ${b.bytes.length} bytes, too big to give whole`);
          if (seen.has(b.sha)) continue;
          seen.add(b.sha);
          const head = Buffer.allocUnsafe(5);
          TAG_b.copy(head);
          head.writeUInt32BE(b.bytes.length, 1);
          const h = put(head);
          if (h) await h;
          const p = put(b.bytes);
          if (p) await p;
        }
        continue;
      }
      if ('databaseFile' in part) {
        await putDatabase(part.databaseFile);
        continue;
      }
      if ('poolFile' in part) {
        const f = part.poolFile;
        stored.push({ sha: f.name, length: f.storedLength, chunks: () => f.chunks() });
        await put(Buffer.concat([TAG_F, shaBytes(f.name), u64(f.storedLength)]));
        continue;
      }
      if ('replicaKey' in part) {
        const head = Buffer.allocUnsafe(5);
        TAG_K.copy(head);
        head.writeUInt32BE(part.replicaKey.length, 1);
        await put(head);
        await put(part.replicaKey);
        continue;
      }
      if ('delta' in part) {
        const d = part.delta;
        if (seen.has(d.sha)) continue;
        deltaBytes += d.delta.length;
        if (deltaBytes > DELTA_BYTES_PER_BODY) throw new InvalidInputError(`a body holds at most ${DELTA_BYTES_PER_BODY} bytes of deltas`);
        if (!seen.has(d.base) && !d.baseAtTarget)
          throw new InvalidInputError(`blob ${d.sha} is a delta against ${d.base}, which the body does not hold before it`);
        seen.add(d.sha);
        const head = Buffer.allocUnsafe(1 + 32 + 8 + 32 + 4);
        TAG_d.copy(head);
        shaBytes(d.sha).copy(head, 1);
        head.writeBigUInt64BE(BigInt(d.size), 33);
        shaBytes(d.base).copy(head, 41);
        head.writeUInt32BE(d.delta.length, 73);
        await put(head);
        await put(d.delta);
        continue;
      }
      const blob = part.blob;
      if (seen.has(blob.sha)) continue;
      seen.add(blob.sha);
      const sha = shaBytes(blob.sha);
      if (blob.stored) {
        const form = blob.stored;
        stored.push({ sha: blob.sha, length: form.storedLength, chunks: () => form.chunks() });
        await put(
          form.deflated ? Buffer.concat([TAG_D, sha, u64(blob.size), u64(form.storedLength)]) : Buffer.concat([TAG_S, sha, u64(blob.size)]),
        );
        if (!form.deflated && form.storedLength !== blob.size)
          throw new InvalidInputError(`blob ${blob.sha} is stored raw in ${form.storedLength} bytes, not ${blob.size}`);
        continue;
      }
      let first: Uint8Array | undefined;
      const iterator = blob.chunks()[Symbol.asyncIterator]();
      let compressible = blob.compressible;
      if (compressible === undefined) {
        const next = await iterator.next();
        first = next.done ? Buffer.alloc(0) : next.value;
        compressible = worthCompressing(first);
      }
      if (!compressible) {
        await iterator.return?.();
        stored.push({ sha: blob.sha, length: blob.size, chunks: () => blob.chunks() });
        await put(Buffer.concat([TAG_S, sha, u64(blob.size)]));
        continue;
      }
      await put(Buffer.concat([TAG_B, sha, u64(blob.size)]));
      let written = 0;
      if (first) {
        written += first.length;
        await put(first);
      }
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        written += next.value.length;
        await put(next.value);
      }
      if (written !== blob.size)
        throw new InvalidInputError(`blob ${blob.sha} is ${written} bytes, not the ${blob.size} it was said to be`);
    }
    await put(TAG_E);
    await flush();
    compressor.end();
    await wait('end');
    sink(Buffer.alloc(4));
    for (const blob of stored) {
      let written = 0;
      for await (const chunk of blob.chunks()) {
        written += chunk.length;
        sink(chunk);
      }
      if (blob.length !== undefined && written !== blob.length)
        throw new InvalidInputError(`blob ${blob.sha} is stored in ${written} bytes, not the ${blob.length} it was said to be`);
    }
    return opCount;
  } catch (err) {
    // A part that failed (a blob missing or damaged in the pool) leaves no compressor running.
    compressor.destroy();
    throw err;
  }
}

/** writeStreamBody's parts for a body in memory (writePacket's blobs, checked to be named by their SHA by the caller). */
export function partsInMemory(ops: readonly WireOp[], blobs: readonly PacketBlob[]): BodyPart[] {
  const parts: BodyPart[] = [{ ops }, { small: blobs.filter((b) => b.bytes.length <= SMALL_BLOB) }];
  for (const b of blobs) {
    if (b.bytes.length <= SMALL_BLOB) continue;
    parts.push({
      blob: {
        sha: b.sha,
        size: b.bytes.length,
        async *chunks() {
          for (let at = 0; at < b.bytes.length; at += CHUNK_BYTES) yield b.bytes.subarray(at, at + CHUNK_BYTES);
        },
      },
    });
  }
  return parts;
}

const TAG_O = Buffer.from('O');
const TAG_B = Buffer.from('B');
const TAG_b = Buffer.from('b');
const TAG_S = Buffer.from('S');
const TAG_D = Buffer.from('D');
const TAG_F = Buffer.from('F');
const TAG_K = Buffer.from('K');
const TAG_W = Buffer.from('W');
const TAG_P = Buffer.from('P');
const TAG_Q = Buffer.from('Q');
const TAG_d = Buffer.from('d');
const TAG_E = Buffer.from('E');

function opDataLength(op: WireOp): number {
  const d = op.data as { bytes?: Uint8Array } | null;
  return 32 + (d && d.bytes instanceof Uint8Array ? d.bytes.length : 64);
}

function opsRecord(ops: readonly WireOp[]): Buffer {
  const origins: string[] = [];
  const chunks = encodeOpChunks(ops, origins);
  const packed = new Packr(MSGPACK_OPTIONS).pack([origins.map(packedString), chunks]);
  const head = Buffer.alloc(5);
  TAG_O.copy(head);
  head.writeUInt32BE(packed.length, 1);
  return Buffer.concat([head, packed]);
}

/** A record of a tag and a u32. */
function u32Record(tag: Buffer, n: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  tag.copy(b);
  b.writeUInt32BE(n, 1);
  return b;
}

/** A creation packet's database file: its size, its page size, and its bytes read on demand. */
export interface DatabaseFile {
  size: number;
  pageSize: number;
  /** `length` bytes at `position`, into `into` when given (else a new buffer); returns them. */
  read(position: number, length: number, into?: Buffer): Buffer;
}

/**
 * `length` bytes of the database at `position`, CHUNK_BYTES at a time, each read into the same
 * buffer: the stored section's sink has written a chunk before it asks for the next.
 */
async function* fileRange(db: DatabaseFile, position: number, length: number): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, length));
  for (let at = position, end = position + length; at < end; at += CHUNK_BYTES) yield db.read(at, Math.min(CHUNK_BYTES, end - at), buffer);
}

/** A range of the database file: `length` bytes at `offset`. */
interface Run {
  offset: number;
  length: number;
}

/** A record of the body's stored section, in the order its bytes follow: a blob, a pool file, or the database's pages. */
interface StoredEntry {
  sha: string;
  size: number;
  deflated: boolean;
  storedLength: number;
  poolFile?: true;
  databaseAt?: number;
  blocks?: Run[];
}

/** Adds a range to `runs`, as part of the last one when it follows it. */
function addRun(runs: Run[], offset: number, length: number): void {
  const last = runs[runs.length - 1];
  if (last && last.offset + last.length === offset) last.length += length;
  else runs.push({ offset, length });
}

/** The next `n` bytes of `runs` from `at` (a run's index and a position in it), moving `at` on. */
function* runPieces(runs: readonly Run[], at: { run: number; in: number }, n: number): Generator<Run> {
  while (n > 0 && at.run < runs.length) {
    const r = runs[at.run]!;
    const k = Math.min(n, r.length - at.in);
    yield { offset: r.offset + at.in, length: k };
    n -= k;
    at.in += k;
    if (at.in === r.length) {
      at.run++;
      at.in = 0;
    }
  }
}

/**
 * The database's compressible pages (`runs`, in file order), back to back, cut into blocks of
 * DATABASE_BLOCK bytes, each compressed on its own and given as u32 N, then N bytes. Up to
 * BLOCKS_AT_ONCE blocks are compressed at once, on the thread pool: one stream kept one core busy and
 * the export waiting on it.
 */
async function* databaseBlocks(db: DatabaseFile, runs: readonly Run[], quality: number): AsyncGenerator<Buffer> {
  const at = { run: 0, in: 0 };
  // Each block is read into a buffer of its own, taken back once its compression is done.
  const free: Buffer[] = [];
  const taken: Buffer[] = [];
  const next = (): Buffer | undefined => {
    const buffer = free.pop() ?? Buffer.allocUnsafe(DATABASE_BLOCK);
    let length = 0;
    for (const r of runPieces(runs, at, DATABASE_BLOCK)) {
      db.read(r.offset, r.length, buffer.subarray(length));
      length += r.length;
    }
    if (length === 0) {
      free.push(buffer);
      return undefined;
    }
    taken.push(buffer);
    return buffer.subarray(0, length);
  };
  const compressing: Promise<Buffer>[] = [];
  try {
    for (;;) {
      while (compressing.length < BLOCKS_AT_ONCE) {
        const block = next();
        if (!block) break;
        const params = {
          [zlib.BROTLI_PARAM_QUALITY]: quality,
          [zlib.BROTLI_PARAM_LGWIN]: DATABASE_BLOCK_LGWIN,
          [zlib.BROTLI_PARAM_SIZE_HINT]: block.length,
        };
        // One output buffer for the block: zlib's default (16 KiB) made a trip to the main thread
        // for each 16 KiB, and a copy of them all at the end.
        compressing.push(brotliCompressAsync(block, { params, chunkSize: BLOCK_OUTPUT }));
      }
      const done = compressing.shift();
      if (!done) return;
      const bytes = await done;
      free.push(taken.shift()!);
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32BE(bytes.length);
      yield head;
      yield bytes;
    }
  } finally {
    // Stopped early: what is still being compressed is not waited for, nor its failure heard.
    for (const p of compressing) p.catch(() => {});
  }
}

function shaBytes(sha: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new InvalidInputError(`"${sha}" is not a SHA-256 in lowercase hex`);
  return Buffer.from(sha, 'hex');
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

// ---------------------------------------------------------------------------------------------------
// Reading

/** What reading a streamed body tells, as it reads. A consumer commits nothing before the read ends well. */
export interface BodyConsumer {
  /** A batch of ops, in the body's order. */
  ops(ops: WireOp[]): void | Promise<void>;
  /** A small blob (up to SMALL_BLOB bytes), whole: a view of a larger buffer, to copy if it is kept. */
  small(sha: string, bytes: Buffer): void;
  /** A bigger blob: `bytes` yields exactly `size` bytes; what the consumer leaves unread is skipped. */
  blob(sha: string, size: number, bytes: AsyncIterable<Buffer>): Promise<void>;
  /**
   * A blob in its stored form: `bytes` yields exactly `storedLength` bytes, raw-deflated when
   * `deflated` (else the content itself); what the consumer leaves unread is skipped.
   */
  stored(sha: string, size: number, deflated: boolean, storedLength: number, bytes: AsyncIterable<Buffer>): Promise<void>;
  /** A blob as a delta against `base`, a blob the body held before it (perhaps in its stored section, read after). */
  delta(sha: string, size: number, base: string, delta: Buffer): void;
  /** Creation packets: the VOB's database, `size` bytes (a body without these methods refuses creation records). */
  database?(size: number, bytes: AsyncIterable<Buffer>): Promise<void>;
  /**
   * Creation packets of format 5: `length` bytes of the VOB's database file (`size` bytes in all) at
   * `offset`. The parts cover the file exactly once, in no set order (those of the stored section
   * come last).
   */
  databasePart?(size: number, offset: number, length: number, bytes: AsyncIterable<Buffer>): Promise<void>;
  /** Creation packets: a file of the VOB's pool, as the pool stores it, under its name. */
  poolFile?(name: string, storedLength: number, bytes: AsyncIterable<Buffer>): Promise<void>;
  /** Creation packets: the new replica's private key. */
  replicaKey?(pem: Buffer): void;
}

/** Thrown for a body that is not format 3; the caller names the packet. */
function bad(why: string): InvalidInputError {
  return new InvalidInputError(why);
}

/**
 * Pulls exact byte counts from a stream of chunks. `taken` counts what was handed out, `onBytes`
 * sees every byte that came from the source (the body's hash), whether handed out or not.
 */
class PullReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private done = false;
  /** The source's next chunk, while one is asked for: reading ahead and reading share it. */
  private pulling: Promise<void> | undefined;
  /** What the source failed with while reading ahead, for the next read to throw. */
  private failure: { error: unknown } | undefined;
  taken = 0;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private pull(): Promise<void> {
    this.pulling ??= this.source.next().then(
      (next) => {
        this.pulling = undefined;
        if (next.done) this.done = true;
        else if (next.value.length > 0) {
          this.buffered.push(next.value);
          this.length += next.value.length;
        }
      },
      (error: unknown) => {
        this.pulling = undefined;
        this.done = true;
        this.failure ??= { error };
      },
    );
    return this.pulling;
  }

  private async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.done) await this.pull();
    if (this.length < n && this.failure) throw this.failure.error;
    return this.length >= n;
  }

  /** Reads on, without being waited for, until `limit` bytes wait here or the source ends. */
  readAhead(limit: number): void {
    void (async () => {
      while (this.length < limit && !this.done) await this.pull();
    })();
  }

  /** Exactly n bytes; throws when the source ends first. */
  /** Exactly n bytes if they are here already, without waiting (most records of a body are). */
  now(n: number): Buffer | undefined {
    return this.length >= n ? this.take(n) : undefined;
  }

  async exactly(n: number, what: string): Promise<Buffer> {
    if (!(await this.fill(n))) throw bad(`${what} is cut short`);
    return this.take(n);
  }

  /** Up to n bytes (at least one, unless the source has ended). */
  async some(n: number): Promise<Buffer> {
    await this.fill(1);
    return this.take(Math.min(n, this.length));
  }

  /** Whether the source has nothing left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  private take(n: number): Buffer {
    this.taken += n;
    if (n === 0) return Buffer.alloc(0);
    const first = this.buffered[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.buffered.shift();
      else this.buffered[0] = first.subarray(n);
      this.length -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const head = this.buffered[0]!;
      const k = Math.min(head.length, n - at);
      head.copy(out, at, 0, k);
      at += k;
      if (k === head.length) this.buffered.shift();
      else this.buffered[0] = head.subarray(k);
    }
    this.length -= n;
    return out;
  }
}

/** What reading a streamed body found: the SHA-256 and length of its stored bytes, and its op count. */
export interface StreamBodyRead {
  sha256: string;
  length: number;
  opCount: number;
}

/**
 * Reads the streamed body of `length` bytes at `offset` in the file at `path`, telling `consumer`
 * what it holds as it reads; returns the SHA-256 of the bytes read, for the caller to check against
 * the signed header before it lets the consumer commit anything. Throws InvalidInputError saying what
 * is wrong for bytes that are not a format-3 body (the caller names the packet).
 */
export async function readStreamBody(path: string, offset: number, length: number, consumer: BodyConsumer): Promise<StreamBodyRead> {
  const hash = createHash('sha256');
  let fileBytes = 0;
  async function* file(): AsyncGenerator<Buffer> {
    if (length === 0) return;
    for await (const chunk of createReadStream(path, { start: offset, end: offset + length - 1, highWaterMark: CHUNK_BYTES })) {
      const b = chunk as Buffer;
      hash.update(b);
      fileBytes += b.length;
      yield b;
    }
  }
  const fileSource = file();
  const physical = new PullReader(fileSource);
  async function* frames(): AsyncGenerator<Buffer> {
    for (;;) {
      const n = (await physical.exactly(4, 'its compressed section')).readUInt32BE(0);
      if (n === 0) {
        // The stored section is read (and hashed) while the decompressor, on the thread pool, works
        // through what it was given: for a creation packet it held a third of the import's time.
        physical.readAhead(READ_AHEAD_BYTES);
        return;
      }
      for (let left = n; left > 0;) {
        const part = await physical.some(left);
        if (part.length === 0) throw bad('its compressed section is cut short');
        left -= part.length;
        yield part;
      }
    }
  }
  const decompressor = createBrotliDecompress({ chunkSize: 256 * 1024 });
  const framed = Readable.from(frames());
  // pipe() does not pass a source's error on: a bad frame must fail the read like bad brotli does.
  framed.once('error', (err) => decompressor.destroy(err));
  const decompressed = framed.pipe(decompressor);
  const plainIterator = decompressed[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // The iterator rejects with the stream's error: a bad frame's, or brotli's, said as a bad body.
  const plain = new PullReader({
    next: () =>
      plainIterator.next().catch((err: Error) => {
        throw err instanceof InvalidInputError ? err : bad(`its compressed section does not decompress (${err.message})`);
      }),
  });
  const stored: StoredEntry[] = [];
  let opCount = 0;
  // The database of a 'W' record: its size, how much of it the 'P' and 'Q' records after it have
  // given, and the compressible runs ('P'), whose blocks follow its raw pages in the stored section.
  let database: { size: number; at: number; runs: Run[] } | undefined;
  const creation = <T>(method: T | undefined): T => {
    if (!method) throw bad('it holds a VOB, and it is not a creation packet');
    return method;
  };
  try {
    for (;;) {
      const tag = (plain.now(1) ?? (await plain.exactly(1, 'its compressed section')))[0];
      if (tag === TAG_b[0]) {
        // A small blob: most of a history; read without a wait when its bytes are here.
        const size = (plain.now(4) ?? (await plain.exactly(4, 'a blob record'))).readUInt32BE(0);
        const bytes = plain.now(size) ?? (await plain.exactly(size, 'a blob'));
        consumer.small(sha256Hex(bytes), bytes);
        continue;
      }
      const tagName = String.fromCharCode(tag ?? 0);
      if (tagName === 'P' || tagName === 'Q') {
        const n = (await plain.exactly(4, 'a database record')).readUInt32BE(0);
        if (!database || database.at + n > database.size) throw bad('it has database pages outside its database');
        const at = database.at;
        database.at += n;
        if (tagName === 'Q') stored.push({ sha: 'the database', size: n, deflated: false, storedLength: n, databaseAt: at });
        else addRun(database.runs, at, n);
        if (database.at === database.size && database.runs.length > 0) {
          const total = database.runs.reduce((sum, r) => sum + r.length, 0);
          stored.push({ sha: 'the database', size: total, deflated: false, storedLength: 0, blocks: database.runs });
        }
        continue;
      }
      if (database && database.at < database.size) throw bad('its database is cut short');
      if (tagName === 'E') break;
      if (tagName === 'O') {
        const n = (await plain.exactly(4, 'an ops record')).readUInt32BE(0);
        const ops = decodeOpsRecord(await plain.exactly(n, 'an ops record'));
        opCount += ops.length;
        await consumer.ops(ops);
      } else if (tagName === 'B' || tagName === 'S' || tagName === 'D') {
        const sha = (await plain.exactly(32, 'a blob record')).toString('hex');
        const size = readU64(await plain.exactly(8, 'a blob record'));
        if (tagName === 'S') stored.push({ sha, size, deflated: false, storedLength: size });
        else if (tagName === 'D')
          stored.push({ sha, size, deflated: true, storedLength: readU64(await plain.exactly(8, 'a blob record')) });
        else await deliver(sha, size, plain, (bytes) => consumer.blob(sha, size, bytes));
      } else if (tagName === 'V') {
        const size = readU64(await plain.exactly(8, 'a database record'));
        const database = creation(consumer.database).bind(consumer);
        await deliver('the database', size, plain, (bytes) => database(size, bytes));
      } else if (tagName === 'W') {
        if (database) throw bad('it holds two databases');
        creation(consumer.databasePart);
        database = { size: readU64(await plain.exactly(8, 'a database record')), at: 0, runs: [] };
      } else if (tagName === 'F') {
        const name = (await plain.exactly(32, 'a pool file record')).toString('hex');
        const storedLength = readU64(await plain.exactly(8, 'a pool file record'));
        creation(consumer.poolFile);
        stored.push({ sha: name, size: storedLength, deflated: false, storedLength, poolFile: true });
      } else if (tagName === 'K') {
        const n = (await plain.exactly(4, 'a key record')).readUInt32BE(0);
        creation(consumer.replicaKey).call(consumer, await plain.exactly(n, 'a key record'));
      } else if (tagName === 'd') {
        const head = await plain.exactly(32 + 8 + 32 + 4, 'a delta record');
        const sha = head.subarray(0, 32).toString('hex');
        const size = readU64(head.subarray(32, 40));
        const base = head.subarray(40, 72).toString('hex');
        consumer.delta(sha, size, base, await plain.exactly(head.readUInt32BE(72), 'a delta'));
      } else throw bad(`its compressed section has a record of unknown type ${JSON.stringify(tagName)}`);
    }
    if (!(await plain.atEnd())) throw bad('its compressed section goes on after its end record');
    for (const b of stored)
      if (b.blocks) {
        const size = database!.size;
        await readDatabaseBlocks(physical, b.blocks, b.size, (offset, length, bytes) =>
          consumer.databasePart!(size, offset, length, bytes),
        );
      } else
        await deliver(b.sha, b.storedLength, physical, (bytes) =>
          b.databaseAt !== undefined
            ? consumer.databasePart!(database!.size, b.databaseAt, b.storedLength, bytes)
            : b.poolFile
              ? consumer.poolFile!(b.sha, b.storedLength, bytes)
              : consumer.stored(b.sha, b.size, b.deflated, b.storedLength, bytes),
        );
    if (!(await physical.atEnd())) throw bad('it has bytes after its stored blobs');
  } finally {
    framed.destroy();
    decompressed.destroy();
    // Closes the file when the read stopped early (a damaged body, a consumer that failed).
    void fileSource.return(undefined).catch(() => {});
  }
  return { sha256: hash.digest('hex'), length: fileBytes, opCount };
}

/**
 * Reads the database's blocks (`total` bytes of its compressible pages, for `runs`) from `from` and
 * writes them with `write`, decompressing up to BLOCKS_AT_ONCE at once on the thread pool while the
 * next are read (and hashed).
 */
async function readDatabaseBlocks(
  from: PullReader,
  runs: readonly Run[],
  total: number,
  write: (offset: number, length: number, bytes: AsyncIterable<Buffer>) => Promise<void>,
): Promise<void> {
  const at = { run: 0, in: 0 };
  const decompressing: { length: number; bytes: Promise<Buffer> }[] = [];
  let left = total;
  try {
    for (;;) {
      while (left > 0 && decompressing.length < BLOCKS_AT_ONCE) {
        const n = (await from.exactly(4, 'a database block')).readUInt32BE(0);
        // Brotli makes what does not compress a few bytes bigger, never twice as big.
        if (n > 2 * DATABASE_BLOCK) throw bad(`a database block of ${n} bytes is more than a block can be`);
        const length = Math.min(DATABASE_BLOCK, left);
        left -= length;
        const bytes = brotliDecompressAsync(await from.exactly(n, 'a database block'), {
          maxOutputLength: length,
          chunkSize: BLOCK_OUTPUT, // one output buffer: see databaseBlocks
        });
        bytes.catch(() => {}); // heard when its turn comes
        decompressing.push({ length, bytes });
      }
      const block = decompressing.shift();
      if (!block) return;
      let out: Buffer;
      try {
        out = await block.bytes;
      } catch (err) {
        throw bad(`a database block does not decompress (${(err as Error).message})`);
      }
      if (out.length !== block.length) throw bad(`a database block holds ${out.length} bytes, not ${block.length}`);
      let taken = 0;
      for (const r of runPieces(runs, at, out.length)) {
        await write(r.offset, r.length, single(out.subarray(taken, taken + r.length)));
        taken += r.length;
      }
    }
  } finally {
    for (const d of decompressing) d.bytes.catch(() => {});
  }
}

/** One buffer as an iterable of buffers. */
async function* single(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** Hands `use` exactly `size` bytes from `from`, and skips what it leaves unread. */
async function deliver(sha: string, size: number, from: PullReader, use: (bytes: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  let left = size;
  async function* bytes(): AsyncGenerator<Buffer> {
    while (left > 0) {
      const part = await from.some(Math.min(left, CHUNK_BYTES));
      if (part.length === 0) throw bad(`blob ${sha} is cut short`);
      left -= part.length;
      yield part;
    }
  }
  await use(bytes());
  for await (const _ of bytes());
}

function checkedBlob(sha: string, bytes: Buffer, size = bytes.length): PacketBlob {
  if (bytes.length !== size || sha256Hex(bytes) !== sha) throw bad(`blob ${sha} does not have that SHA-256`);
  return { sha, bytes };
}

function inflated(sha: string, bytes: Buffer): Buffer {
  try {
    return inflateRawSync(bytes);
  } catch (err) {
    throw bad(`blob ${sha} does not inflate (${(err as Error).message})`);
  }
}

/**
 * The blob a delta record makes from its base's bytes. Throws InvalidInputError when it does not
 * apply; the caller must check the result's SHA-256.
 */
export function applyDelta(sha: string, base: Uint8Array, delta: Uint8Array): Buffer {
  try {
    // Fossil's own checksum is left out: every caller checks the result's SHA-256.
    return applyBinaryDelta(base, delta, { checksum: false });
  } catch (err) {
    throw bad(`blob ${sha}: ${(err as Error).message}`);
  }
}

function readU64(b: Buffer): number {
  const n = b.readBigUInt64BE(0);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`a blob length ${n} is out of range`);
  return Number(n);
}

function decodeOpsRecord(bytes: Uint8Array): WireOp[] {
  let record: unknown;
  try {
    record = new Unpackr(MSGPACK_OPTIONS).unpack(bytes);
  } catch (err) {
    throw bad(`an ops record is not valid msgpack (${(err as Error).message})`);
  }
  if (!Array.isArray(record) || record.length !== 2) throw bad('an ops record is not an origin table and op chunks');
  const [origins, chunks] = record as [unknown, unknown];
  if (!Array.isArray(origins) || !origins.every((x) => typeof x === 'string' && x !== ''))
    throw bad('an ops record has an origin table that is not a list of OIDs');
  if (!Array.isArray(chunks) || !chunks.every((x) => x instanceof Uint8Array)) throw bad('an ops record has op chunks that are not bytes');
  return decodeOpChunks(chunks, origins as string[]);
}

/**
 * A whole streamed body in memory, decoded (readPacket, lspacket -dump): the same records as
 * readStreamBody, read from one buffer. For small packets and tests; import streams.
 */
export function decodeStreamBody(stored: Buffer): PacketBody {
  const frames: Buffer[] = [];
  let at = 0;
  for (;;) {
    if (at + 4 > stored.length) throw bad('its compressed section is cut short');
    const n = stored.readUInt32BE(at);
    at += 4;
    if (n === 0) break;
    if (at + n > stored.length) throw bad('its compressed section is cut short');
    frames.push(stored.subarray(at, at + n));
    at += n;
  }
  let plain: Buffer;
  try {
    plain = brotliDecompressSync(Buffer.concat(frames));
  } catch (err) {
    throw bad(`its compressed section does not decompress (${(err as Error).message})`);
  }
  let p = 0;
  const need = (n: number, what: string): Buffer => {
    if (p + n > plain.length) throw bad(`${what} is cut short`);
    const out = plain.subarray(p, p + n);
    p += n;
    return out;
  };
  const ops: WireOp[] = [];
  const blobs: PacketBlob[] = [];
  const storedBlobs: StoredEntry[] = [];
  const databaseParts: Buffer[] = [];
  let database: { bytes: Buffer; at: number; runs: Run[] } | undefined;
  let replicaKey: Buffer | undefined;
  let isCreation = false;
  const deltas: { sha: string; size: number; base: string; delta: Buffer }[] = [];
  for (;;) {
    const tag = need(1, 'its compressed section').toString('latin1');
    if (tag === 'P' || tag === 'Q') {
      const n = need(4, 'a database record').readUInt32BE(0);
      if (!database || database.at + n > database.bytes.length) throw bad('it has database pages outside its database');
      if (tag === 'P') addRun(database.runs, database.at, n);
      else storedBlobs.push({ sha: 'the database', size: n, deflated: false, storedLength: n, databaseAt: database.at });
      database.at += n;
      if (database.at === database.bytes.length && database.runs.length > 0) {
        const total = database.runs.reduce((sum, r) => sum + r.length, 0);
        storedBlobs.push({ sha: 'the database', size: total, deflated: false, storedLength: 0, blocks: database.runs });
      }
      continue;
    }
    if (database && database.at < database.bytes.length) throw bad('its database is cut short');
    if (tag === 'E') break;
    if (tag === 'O') {
      const n = need(4, 'an ops record').readUInt32BE(0);
      for (const op of decodeOpsRecord(need(n, 'an ops record'))) ops.push(op);
    } else if (tag === 'b') {
      const size = need(4, 'a blob record').readUInt32BE(0);
      const bytes = need(size, 'a blob');
      blobs.push({ sha: sha256Hex(bytes), bytes });
    } else if (tag === 'B' || tag === 'S' || tag === 'D') {
      const sha = need(32, 'a blob record').toString('hex');
      const size = readU64(need(8, 'a blob record'));
      if (tag === 'S') storedBlobs.push({ sha, size, deflated: false, storedLength: size });
      else if (tag === 'D') storedBlobs.push({ sha, size, deflated: true, storedLength: readU64(need(8, 'a blob record')) });
      else blobs.push(checkedBlob(sha, need(size, `blob ${sha}`)));
    } else if (tag === 'V') {
      isCreation = true;
      databaseParts.push(need(readU64(need(8, 'a database record')), 'the database'));
    } else if (tag === 'W') {
      if (database) throw bad('it holds two databases');
      isCreation = true;
      database = { bytes: Buffer.alloc(readU64(need(8, 'a database record'))), at: 0, runs: [] };
      databaseParts.push(database.bytes);
    } else if (tag === 'F') {
      isCreation = true;
      const name = need(32, 'a pool file record').toString('hex');
      const storedLength = readU64(need(8, 'a pool file record'));
      storedBlobs.push({ sha: name, size: storedLength, deflated: false, storedLength, poolFile: true });
    } else if (tag === 'K') {
      isCreation = true;
      replicaKey = need(need(4, 'a key record').readUInt32BE(0), 'a key record');
    } else if (tag === 'd') {
      const head = need(32 + 8 + 32 + 4, 'a delta record');
      deltas.push({
        sha: head.subarray(0, 32).toString('hex'),
        size: readU64(head.subarray(32, 40)),
        base: head.subarray(40, 72).toString('hex'),
        delta: need(head.readUInt32BE(72), 'a delta'),
      });
    } else throw bad(`its compressed section has a record of unknown type ${JSON.stringify(tag)}`);
  }
  if (p !== plain.length) throw bad('its compressed section goes on after its end record');
  const files: PacketFile[] = [];
  for (const { sha, size, deflated, storedLength, poolFile, databaseAt, blocks } of storedBlobs) {
    if (blocks) {
      const place = { run: 0, in: 0 };
      for (let left = size; left > 0;) {
        if (at + 4 > stored.length) throw bad('a database block is cut short');
        const n = stored.readUInt32BE(at);
        if (at + 4 + n > stored.length) throw bad('a database block is cut short');
        const length = Math.min(DATABASE_BLOCK, left);
        let out: Buffer;
        try {
          out = brotliDecompressSync(stored.subarray(at + 4, at + 4 + n), { maxOutputLength: length });
        } catch (err) {
          throw bad(`a database block does not decompress (${(err as Error).message})`);
        }
        if (out.length !== length) throw bad(`a database block holds ${out.length} bytes, not ${length}`);
        let taken = 0;
        for (const r of runPieces(blocks, place, length)) {
          out.copy(database!.bytes, r.offset, taken, taken + r.length);
          taken += r.length;
        }
        left -= length;
        at += 4 + n;
      }
      continue;
    }
    if (at + storedLength > stored.length) throw bad(`blob ${sha} is cut short`);
    const bytes = stored.subarray(at, at + storedLength);
    if (databaseAt !== undefined) bytes.copy(database!.bytes, databaseAt);
    else if (poolFile) files.push({ sha, bytes });
    else blobs.push(checkedBlob(sha, deflated ? inflated(sha, bytes) : bytes, size));
    at += storedLength;
  }
  if (at !== stored.length) throw bad('it has bytes after its stored blobs');
  const bySha = new Map(blobs.map((b) => [b.sha, b.bytes]));
  for (const d of deltas) {
    const base = bySha.get(d.base);
    if (!base) throw bad(`blob ${d.sha} is a delta against ${d.base}, which the body does not hold`);
    const blob = checkedBlob(d.sha, applyDelta(d.sha, base, d.delta), d.size);
    blobs.push(blob);
    bySha.set(blob.sha, blob.bytes);
  }
  if (!isCreation) return { ops, blobs };
  return { ops, blobs, creation: { database: Buffer.concat(databaseParts), files, ...(replicaKey ? { replicaKey } : {}) } };
}
