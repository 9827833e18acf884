import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { InvalidInputError } from '../core/errors.js';
import { packedString } from './hexStrings.js';
import type { PacketBlob, PacketBody, PacketFile, WireOp } from './packetTypes.js';

/**
 * The body is one msgpack value compressed as one brotli stream, so ops and content share one
 * window. Measured on 100,000 small text-file versions (a checkout + checkin op pair and a blob each;
 * see the packet layer's report): quality 5 with a 16 MiB window is about a third of a `git bundle` of
 * the same history; quality 6-9 saved under 2% for 2-10x the time, quality 1-3 cost 10-20% more bytes.
 */
export const BODY_COMPRESSION = { quality: 5, lgwin: 24 } as const;

/**
 * Encoded layout (format 1.x), a msgpack map:
 *   o:   origin OIDs, each once
 *   ops: [origin index, id - previous id from that origin, kind, data, at - previous op's at][]
 *   b:   blob contents, each SHA once, similar content adjacent; their SHA-256 is recomputed on read
 *   c:   creation packets only: { d: database bytes, f: [name, bytes][] }
 * Lowercase UUIDs and long lowercase hex strings anywhere in op data travel as bytes (hexStrings.ts).
 */
interface EncodedBody {
  o: unknown[];
  ops: unknown[][];
  b: Uint8Array[];
  c?: { d: Uint8Array; f: unknown[][] };
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/**
 * Checks and encodes `body`; returns the compressed bytes as stored in a packet. Throws
 * InvalidInputError for a body that could not come back as given (a bad op id or time, a blob whose
 * SHA is not its content's).
 */
export function encodePacketBody(body: PacketBody): Buffer {
  const origins: string[] = [];
  const encoded: EncodedBody = { o: origins, ops: encodeOps(body.ops, origins), b: orderBlobs(body.blobs) };
  encoded.o = origins.map(packedString);
  if (body.creation) encoded.c = encodeCreation(body.creation);
  const raw = packr.pack(encoded);
  return brotliCompressSync(raw, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: BODY_COMPRESSION.quality,
      [zlib.BROTLI_PARAM_LGWIN]: BODY_COMPRESSION.lgwin,
      [zlib.BROTLI_PARAM_SIZE_HINT]: Math.min(raw.length, 0x7fffffff),
    },
  });
}

/** Encodes ops in their given order, filling `origins` with the origin table. */
function encodeOps(ops: readonly WireOp[], origins: string[]): unknown[][] {
  const index = new Map<string, number>();
  const lastId: number[] = [];
  let lastAt = 0;
  const out = new Array<unknown[]>(ops.length);
  for (let n = 0; n < ops.length; n++) {
    const op = ops[n]!;
    checkOp(op, n);
    let i = index.get(op.origin);
    if (i === undefined) {
      i = origins.push(op.origin) - 1;
      index.set(op.origin, i);
      lastId.push(0);
    }
    out[n] = [i, op.id - lastId[i]!, op.kind, toWire(op.data), op.at - lastAt];
    lastId[i] = op.id;
    lastAt = op.at;
  }
  return out;
}

function checkOp(op: WireOp, n: number): void {
  if (typeof op.origin !== 'string' || op.origin === '') throw new InvalidInputError(`op ${n} has no origin`);
  if (!Number.isSafeInteger(op.id) || op.id < 1) throw new InvalidInputError(`op ${n} has id ${String(op.id)}: oplog ids are positive integers`);
  if (typeof op.kind !== 'string' || op.kind === '') throw new InvalidInputError(`op ${n} (id ${op.id}) has no kind`);
  if (!Number.isSafeInteger(op.at) || op.at < 0) {
    throw new InvalidInputError(`op ${n} (id ${op.id}) has time ${String(op.at)}: expected milliseconds since the epoch`);
  }
}

/**
 * A copy of op data in which UUID and hex strings are marked to travel as bytes. Plain objects and
 * arrays are copied; anything else (bytes, dates, class instances) goes to msgpackr as it is.
 */
function toWire(value: unknown): unknown {
  if (typeof value === 'string') return packedString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = toWire(value[i]);
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = toWire((value as Record<string, unknown>)[key]);
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}

/**
 * Blob contents, each SHA once, in the order that compresses best: consecutive versions of a file
 * share most of their text, so they should be neighbours. Blobs with a `group` come first, by group
 * and then in the given order (version order); the rest are sorted by content, which puts versions
 * of a file (same opening lines) together without knowing which file they belong to.
 */
function orderBlobs(blobs: readonly PacketBlob[]): Uint8Array[] {
  const seen = new Set<string>();
  const grouped: { group: string; n: number; bytes: Uint8Array }[] = [];
  const loose: Uint8Array[] = [];
  for (let n = 0; n < blobs.length; n++) {
    const blob = blobs[n]!;
    if (!(blob.bytes instanceof Uint8Array)) throw new InvalidInputError(`blob ${n} (${String(blob.sha)}) has no bytes`);
    if (seen.has(blob.sha)) continue;
    const sha = sha256Hex(blob.bytes);
    if (sha !== blob.sha) throw new InvalidInputError(`blob ${n} is named ${String(blob.sha)} but its content's SHA-256 is ${sha}`);
    seen.add(sha);
    if (typeof blob.group === 'string') grouped.push({ group: blob.group, n, bytes: blob.bytes });
    else loose.push(blob.bytes);
  }
  grouped.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.n - b.n));
  loose.sort(Buffer.compare);
  const out = grouped.map((g) => g.bytes);
  for (const b of loose) out.push(b);
  return out;
}

function encodeCreation(creation: NonNullable<PacketBody['creation']>): NonNullable<EncodedBody['c']> {
  if (!(creation.database instanceof Uint8Array)) throw new InvalidInputError('the creation packet database must be bytes');
  const f = creation.files.map((file: PacketFile, n) => {
    if (typeof file.sha !== 'string' || file.sha === '' || !(file.bytes instanceof Uint8Array)) {
      throw new InvalidInputError(`creation file ${n} needs a name (sha) and bytes`);
    }
    return [packedString(file.sha), file.bytes];
  });
  return { d: creation.database, f };
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/**
 * Decompresses and decodes a stored body. Throws InvalidInputError saying what is wrong when the
 * bytes are not a body of this format (the caller turns it into a PacketError for its file).
 */
export function decodePacketBody(stored: Uint8Array): PacketBody {
  let raw: Buffer;
  try {
    raw = brotliDecompressSync(stored);
  } catch (err) {
    throw new InvalidInputError(`it does not decompress (${(err as Error).message})`, { cause: err });
  }
  let value: unknown;
  try {
    value = unpackr.unpack(raw);
  } catch (err) {
    throw new InvalidInputError(`it is not valid msgpack (${(err as Error).message})`, { cause: err });
  }
  if (!isRecord(value)) throw new InvalidInputError('it is not a map');
  const { o, ops, b, c } = value;
  if (!Array.isArray(o) || !o.every((x) => typeof x === 'string' && x !== '')) throw new InvalidInputError('its origin table is not a list of OIDs');
  if (!Array.isArray(ops)) throw new InvalidInputError('its ops are not a list');
  if (!Array.isArray(b)) throw new InvalidInputError('its blobs are not a list');
  const body: PacketBody = { ops: decodeOps(ops, o as string[]), blobs: decodeBlobs(b) };
  if (c !== undefined) body.creation = decodeCreation(c);
  return body;
}

function decodeOps(entries: unknown[], origins: string[]): WireOp[] {
  const lastId = new Array<number>(origins.length).fill(0);
  let lastAt = 0;
  const ops = new Array<WireOp>(entries.length);
  for (let n = 0; n < entries.length; n++) {
    const e = entries[n];
    if (!Array.isArray(e) || e.length !== 5) throw new InvalidInputError(`op ${n} is not a 5-element entry`);
    const [i, idDelta, kind, data, atDelta] = e as [unknown, unknown, unknown, unknown, unknown];
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= origins.length) throw new InvalidInputError(`op ${n} names no origin`);
    if (typeof idDelta !== 'number' || typeof atDelta !== 'number') throw new InvalidInputError(`op ${n} has a non-numeric id or time`);
    const id = lastId[i]! + idDelta;
    const at = lastAt + atDelta;
    if (!Number.isSafeInteger(id) || id < 1) throw new InvalidInputError(`op ${n} has id ${id}`);
    if (!Number.isSafeInteger(at) || at < 0) throw new InvalidInputError(`op ${n} has time ${at}`);
    if (typeof kind !== 'string' || kind === '') throw new InvalidInputError(`op ${n} has no kind`);
    ops[n] = { origin: origins[i]!, id, kind, data, at };
    lastId[i] = id;
    lastAt = at;
  }
  return ops;
}

function decodeBlobs(entries: unknown[]): PacketBlob[] {
  return entries.map((bytes, n) => {
    if (!(bytes instanceof Uint8Array)) throw new InvalidInputError(`blob ${n} is not bytes`);
    return { sha: sha256Hex(bytes), bytes };
  });
}

function decodeCreation(c: unknown): NonNullable<PacketBody['creation']> {
  if (!isRecord(c) || !(c.d instanceof Uint8Array) || !Array.isArray(c.f)) throw new InvalidInputError('its creation payload is not a database and files');
  const files = c.f.map((entry: unknown, n): PacketFile => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !(entry[1] instanceof Uint8Array)) {
      throw new InvalidInputError(`creation file ${n} is not a name and bytes`);
    }
    return { sha: entry[0], bytes: entry[1] };
  });
  return { database: c.d, files };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
