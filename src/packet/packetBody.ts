import { constants as bufferConstants } from 'node:buffer';
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { InvalidInputError } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import { packedString, packStrings } from '../core/packedStrings.js';
import { RawMsgpack } from '../core/rawMsgpack.js';
import type { PacketBlob, PacketBody, PacketFile, WireOp } from './packetTypes.js';

/**
 * Brotli settings for the body, compressed as one stream so ops and content share one window.
 * Measured on 100,000 small text-file versions (24 MB of content; a checkout + checkin op pair and a
 * blob each), writePacket including fsync, median of 5 on the project's 2-core machine, against
 * `git bundle create` of the same history (38.2 MB after `git gc --aggressive`, 1.7-1.9 s):
 *   quality 0: 13.3 MB, 1.0 s    quality 3: 11.7 MB, 1.1 s    quality 5: 10.2 MB, 2.3 s
 *   quality 1: 12.4 MB, 1.0 s    quality 4: 10.9 MB, 2.0 s    quality 6: 10.1 MB, 3.9 s
 *   quality 2: 11.8 MB, 1.1 s                                 quality 7: 10.0 MB, 6.2 s
 * Quality 3 is under a third of git's bytes in about 60% of git's time; from quality 4 on, brotli's
 * slower match finder costs more time than the 7-14% it saves and export would be slower than git.
 * A 16 MiB window (brotli's largest) lets big packets match content far behind.
 */
export const BODY_COMPRESSION = { quality: 3, lgwin: 24 } as const;

/**
 * Stored body = brotli(raw), raw (format 1.x) =
 *   u32 big-endian M, then M bytes of msgpack meta, then the data bytes the meta lists, back to back.
 * meta is a map:
 *   o:   origin OIDs, each once
 *   ops: chunks of up to OPS_PER_CHUNK ops, each packed on its own and carried as bytes: [entries, data],
 *        an entry [origin index, id - previous id from that origin, kind, at - previous op's at] per op,
 *        and data the ops' data, each one msgpack value, back to back in one byte string (format 2;
 *        1.x packed records, with the data inside each entry)
 *   b:   blob lengths; the blobs are the first data bytes, each SHA once, ordered so similar content is
 *        adjacent. Their SHA-256 is not stored but recomputed on read.
 *   c:   creation packets only: { d: database length, f: [name, length][] }; the database, then the
 *        files, follow the blobs.
 * Lowercase UUIDs and long lowercase hex strings anywhere in op data travel as bytes (core/packedStrings.ts).
 * Bulk bytes live outside msgpack so they are copied once, into a buffer of the exact final size.
 */
interface Meta {
  o: unknown[];
  ops: Uint8Array[];
  b: number[];
  c?: { d: number; f: unknown[][] };
}

/**
 * Plain msgpack, no msgpackr records: each op's data is its own bytes, given pre-encoded by the
 * writer (RawMsgpack, as the oplog stores it) and kept apart by the reader, which a record (defined
 * once, used by later values) would make mean something else.
 */
const MSGPACK_OPTIONS = { useRecords: false, mapsAsObjects: true } as const;
/**
 * Ops per separately packed chunk: the wire copy of a chunk's data is garbage as soon as the chunk is
 * packed, instead of living (promoted and marked by the GC) until the whole body is packed.
 */
const OPS_PER_CHUNK = 4096;
/** Blobs are ordered by this many first bytes, then by the rest. */
const SORT_KEY_BYTES = 64;

// ---------------------------------------------------------------------------------------------------
// Encoding

/**
 * Checks and encodes `body`; returns the compressed bytes as stored in a packet. Throws
 * InvalidInputError for a body that could not come back as given (a bad op id or time, a blob whose
 * SHA is not its content's, a body over the 4 GiB a Buffer holds).
 */
export function encodePacketBody(body: PacketBody): Buffer {
  const origins: string[] = [];
  const data: Uint8Array[] = orderBlobs(body.blobs);
  const meta: Meta = { o: origins, ops: encodeOpChunks(body.ops, origins), b: data.map((b) => b.length) };
  meta.o = origins.map(packedString);
  if (body.creation) {
    const { database, files } = body.creation;
    if (!(database instanceof Uint8Array)) throw new InvalidInputError('the creation packet database must be bytes');
    meta.c = {
      d: database.length,
      f: files.map((file: PacketFile, n) => {
        if (typeof file.sha !== 'string' || file.sha === '' || !(file.bytes instanceof Uint8Array)) {
          throw new InvalidInputError(`creation file ${n} needs a name (sha) and bytes`);
        }
        return [packedString(file.sha), file.bytes.length];
      }),
    };
    data.push(database);
    for (const f of files) data.push(f.bytes);
  }
  const packedMeta = new Packr(MSGPACK_OPTIONS).pack(meta);
  let total = 4 + packedMeta.length;
  for (const d of data) total += d.length;
  if (total > bufferConstants.MAX_LENGTH) {
    throw new InvalidInputError(`the packet body would be ${total} bytes, over the ${bufferConstants.MAX_LENGTH} one packet can hold`, {
      hint: 'split it into fragments (-maxsize)',
    });
  }
  const raw = Buffer.allocUnsafe(total);
  raw.writeUInt32BE(packedMeta.length, 0);
  raw.set(packedMeta, 4);
  let at = 4 + packedMeta.length;
  for (const d of data) {
    raw.set(d, at);
    at += d.length;
  }
  return brotliCompressSync(raw, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: BODY_COMPRESSION.quality,
      [zlib.BROTLI_PARAM_LGWIN]: BODY_COMPRESSION.lgwin,
      [zlib.BROTLI_PARAM_SIZE_HINT]: Math.min(total, 0x7fffffff),
    },
  });
}

/**
 * Encodes ops in their given order, in chunks, filling `origins` with the origin table. A chunk is
 * [entries, data]: an entry [origin index, id delta, kind, at delta] per op, and data, the ops' data
 * encodings back to back as one byte string (pre-encoded data, RawMsgpack, as given).
 */
export function encodeOpChunks(ops: readonly WireOp[], origins: string[]): Uint8Array[] {
  const index = new Map<string, number>();
  const lastId: number[] = [];
  let lastAt = 0;
  const chunks: Uint8Array[] = [];
  const packr = new Packr(MSGPACK_OPTIONS);
  let entries: unknown[][] = [];
  let data: Uint8Array[] = [];
  const flush = (): void => {
    chunks.push(new Packr(MSGPACK_OPTIONS).pack([entries, Buffer.concat(data)]));
    entries = [];
    data = [];
  };
  for (let n = 0; n < ops.length; n++) {
    const op = ops[n]!;
    checkOp(op, n);
    let i = index.get(op.origin);
    if (i === undefined) {
      i = origins.push(op.origin) - 1;
      index.set(op.origin, i);
      lastId.push(0);
    }
    entries.push([i, op.id - lastId[i]!, op.kind, op.at - lastAt]);
    data.push(op.data instanceof RawMsgpack ? op.data.bytes : packr.pack(packStrings(op.data)));
    lastId[i] = op.id;
    lastAt = op.at;
    if (entries.length === OPS_PER_CHUNK) flush();
  }
  if (entries.length > 0) flush();
  return chunks;
}

function checkOp(op: WireOp, n: number): void {
  if (typeof op !== 'object' || op === null) throw new InvalidInputError(`op ${n} is not an op`);
  if (typeof op.origin !== 'string' || op.origin === '') throw new InvalidInputError(`op ${n} has no origin`);
  if (!Number.isSafeInteger(op.id) || op.id < 1)
    throw new InvalidInputError(`op ${n} has id ${String(op.id)}: oplog ids are positive integers`);
  if (typeof op.kind !== 'string' || op.kind === '') throw new InvalidInputError(`op ${n} (id ${op.id}) has no kind`);
  if (!Number.isSafeInteger(op.at) || op.at < 0) {
    throw new InvalidInputError(`op ${n} (id ${op.id}) has time ${String(op.at)}: expected milliseconds since the epoch`);
  }
}

/**
 * Blob contents, each SHA once, in the order that compresses best: consecutive versions of a file
 * share most of their text, so they should be neighbours. Blobs with a `group` come first, by group
 * and then in the given order (version order); the rest are sorted by content, which puts versions of
 * one file (same opening lines) together without knowing which file they belong to. Measured on the
 * 100,000 versions at quality 3: 3.7 MB in op order, 2.3 MB sorted by content, 2.1 MB grouped by file.
 */
function orderBlobs(blobs: readonly PacketBlob[]): Uint8Array[] {
  const seen = new Set<string>();
  // Buckets in the given order within each group, then the groups sorted: the order of a stable
  // sort by group, without comparing 100k group names pairwise.
  const grouped = new Map<string, Uint8Array[]>();
  const loose: { key: string; bytes: Uint8Array }[] = [];
  for (let n = 0; n < blobs.length; n++) {
    const blob = blobs[n]!;
    if (typeof blob !== 'object' || blob === null || !(blob.bytes instanceof Uint8Array))
      throw new InvalidInputError(`blob ${n} has no bytes`);
    if (seen.has(blob.sha)) continue;
    if (blob.verified !== true) {
      const sha = sha256Hex(blob.bytes);
      if (sha !== blob.sha) throw new InvalidInputError(`blob ${n} is named ${String(blob.sha)} but its content's SHA-256 is ${sha}`);
    }
    seen.add(blob.sha);
    if (typeof blob.group === 'string') {
      const bucket = grouped.get(blob.group);
      if (bucket) bucket.push(blob.bytes);
      else grouped.set(blob.group, [blob.bytes]);
    } else loose.push({ key: sortKey(blob.bytes), bytes: blob.bytes });
  }
  // Comparing short string keys in JS is several times faster than Buffer.compare on every pair.
  loose.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : Buffer.compare(a.bytes, b.bytes)));
  const out: Uint8Array[] = [];
  for (const group of [...grouped.keys()].sort()) for (const bytes of grouped.get(group)!) out.push(bytes);
  for (const l of loose) out.push(l.bytes);
  return out;
}

/** The first bytes as a latin1 string, which orders like the bytes themselves. */
function sortKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, SORT_KEY_BYTES)).toString('latin1');
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/**
 * Decompresses and decodes a stored body. Byte values (blobs, creation payload) are views into one
 * decompressed buffer, not copies. Throws InvalidInputError saying what is wrong when the bytes are
 * not a body of this format (the caller turns it into a PacketError naming the file).
 */
export function decodePacketBody(stored: Uint8Array): PacketBody {
  let raw: Buffer;
  try {
    raw = brotliDecompressSync(stored);
  } catch (err) {
    throw new InvalidInputError(`it does not decompress (${(err as Error).message})`, { cause: err });
  }
  if (raw.length < 4 || raw.readUInt32BE(0) > raw.length - 4) throw new InvalidInputError('its contents table is cut short');
  const metaEnd = 4 + raw.readUInt32BE(0);
  const meta = unpackOrFail(raw.subarray(4, metaEnd), 'its contents table');
  if (!isRecord(meta)) throw new InvalidInputError('its contents table is not a map');
  const { o, ops, b, c } = meta;
  if (!Array.isArray(o) || !o.every((x) => typeof x === 'string' && x !== ''))
    throw new InvalidInputError('its origin table is not a list of OIDs');
  if (!Array.isArray(ops) || !ops.every((x) => x instanceof Uint8Array)) throw new InvalidInputError('its ops are not a list of chunks');
  if (!Array.isArray(b) || !b.every(isLength)) throw new InvalidInputError('its blob table is not a list of lengths');

  let at = metaEnd;
  const take = (length: number): Buffer => {
    if (at + length > raw.length) throw new InvalidInputError('its data is shorter than its contents table says');
    const bytes = raw.subarray(at, at + length);
    at += length;
    return bytes;
  };
  const blobs: PacketBlob[] = b.map((length) => {
    const bytes = take(length);
    return { sha: sha256Hex(bytes), bytes };
  });
  const body: PacketBody = { ops: decodeOpChunks(ops, o as string[]), blobs };
  if (c !== undefined) {
    if (!isRecord(c) || !isLength(c.d) || !Array.isArray(c.f))
      throw new InvalidInputError('its creation table is not a database and files');
    const database = take(c.d);
    const files = c.f.map((entry: unknown, n): PacketFile => {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !isLength(entry[1])) {
        throw new InvalidInputError(`its creation file ${n} is not a name and a length`);
      }
      return { sha: entry[0], bytes: take(entry[1]) };
    });
    body.creation = { database, files };
  }
  if (at !== raw.length) throw new InvalidInputError(`it has ${raw.length - at} bytes its contents table does not list`);
  return body;
}

function unpackOrFail(bytes: Uint8Array, what: string): unknown {
  try {
    return new Unpackr(MSGPACK_OPTIONS).unpack(bytes);
  } catch (err) {
    throw new InvalidInputError(`${what} is not valid msgpack (${(err as Error).message})`, { cause: err });
  }
}

/**
 * A chunk's op data: each value with the exact bytes it was read from. Data using msgpackr records
 * is refused: this format never writes them, and a record defined by one op's bytes would change
 * what another's mean once they are kept apart.
 */
function unpackData(bytes: Uint8Array, k: number): { value: unknown; encoded: Uint8Array }[] {
  const out: { value: unknown; encoded: Uint8Array }[] = [];
  if (bytes.length === 0) return out;
  const structures: object[] = [];
  try {
    new Unpackr({ ...MSGPACK_OPTIONS, structures }).unpackMultiple(bytes, (value: unknown, start?: number, end?: number) => {
      out.push({ value, encoded: bytes.subarray(start, end) });
    });
  } catch (err) {
    throw new InvalidInputError(`the op data of its op chunk ${k} is not valid msgpack (${(err as Error).message})`, { cause: err });
  }
  if (structures.length > 0)
    throw new InvalidInputError(`the op data of its op chunk ${k} uses msgpack records, which this format never writes`);
  return out;
}

/** Decodes op chunks as encodeOpChunks wrote them, against their origin table. */
export function decodeOpChunks(ops: readonly Uint8Array[], origins: string[]): WireOp[] {
  const entries: unknown[] = [];
  const datas: { value: unknown; encoded: Uint8Array }[] = [];
  for (const [k, chunk] of ops.entries()) {
    const part = unpackOrFail(chunk, `its op chunk ${k}`);
    if (!Array.isArray(part) || part.length !== 2 || !Array.isArray(part[0]) || !(part[1] instanceof Uint8Array)) {
      throw new InvalidInputError(`its op chunk ${k} is not a list of entries and their data`);
    }
    const values = unpackData(part[1], k);
    if (values.length !== part[0].length)
      throw new InvalidInputError(`its op chunk ${k} has ${part[0].length} ops and data for ${values.length}`);
    for (const e of part[0] as unknown[]) entries.push(e);
    for (const v of values) datas.push(v);
  }
  return decodeOps(entries, datas, origins);
}

function decodeOps(entries: unknown[], datas: { value: unknown; encoded: Uint8Array }[], origins: string[]): WireOp[] {
  const lastId = new Array<number>(origins.length).fill(0);
  let lastAt = 0;
  const ops = new Array<WireOp>(entries.length);
  for (let n = 0; n < entries.length; n++) {
    const e = entries[n];
    if (!Array.isArray(e) || e.length !== 4) throw new InvalidInputError(`op ${n} is not a 4-element entry`);
    const [i, idDelta, kind, atDelta] = e as [unknown, unknown, unknown, unknown];
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= origins.length)
      throw new InvalidInputError(`op ${n} names no origin`);
    if (typeof idDelta !== 'number' || typeof atDelta !== 'number') throw new InvalidInputError(`op ${n} has a non-numeric id or time`);
    const id = lastId[i]! + idDelta;
    const at = lastAt + atDelta;
    if (!Number.isSafeInteger(id) || id < 1) throw new InvalidInputError(`op ${n} has id ${id}`);
    if (!Number.isSafeInteger(at) || at < 0) throw new InvalidInputError(`op ${n} has time ${at}`);
    if (typeof kind !== 'string' || kind === '') throw new InvalidInputError(`op ${n} has no kind`);
    ops[n] = { origin: origins[i]!, id, kind, data: datas[n]!.value, at, encoded: datas[n]!.encoded };
    lastId[i] = id;
    lastAt = at;
  }
  return ops;
}

function isLength(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
