import { constants as bufferConstants } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  createReadStream,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDir, tempFileFor, writeFileAtomic } from '../core/atomicFile.js';
import { BackgroundSync } from '../core/backgroundSync.js';
import { InvalidInputError, IoError, isTransientSysCode, MsiteError, writingTo } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import { decodePacketBody, encodePacketBody } from './packetBody.js';
import { PacketError } from './packetError.js';
import {
  CREATION_COMPRESSION,
  decodeStreamBody,
  readStreamBody,
  writeStreamBody,
  type BodyConsumer,
  type BodyPart,
  type StreamBodyRead,
  SMALL_BLOB,
} from './packetStream.js';
import { firstIssue, packetHeaderInputSchema, packetHeaderSchema } from './packetHeaderSchema.js';
import {
  CREATION_FORMAT,
  isStreamFormat,
  PACKET_FORMAT,
  STREAM_FORMAT,
  type PacketBody,
  type PacketHeader,
  type PacketHeaderInput,
  type WireOp,
} from './packetTypes.js';
import { SIGNATURE_LENGTH, sign, verify } from './replicaKeys.js';

export { isPacketFileName, packetFileName, parsePacketFileName, type PacketFileNameParts } from './packetNames.js';

/**
 * File layout, all integers big-endian:
 *
 *   offset 0   8 bytes  magic "MSITEPKT"
 *          8   u16      format major
 *         10   u16      format minor
 *         12   u32      header length H
 *         16   H bytes  header, UTF-8 JSON (PacketHeader)
 *     16 + H   u16      signature length (64)
 *     18 + H   64 bytes Ed25519 signature of bytes [0, 16 + H) by the origin replica
 *     82 + H   body     bodyLength bytes (packetBody.ts), ending the file
 *
 * The header carries the body's length and SHA-256, so the signature covers the body too, and the
 * header can be read (and trusted once verified) without reading the body. Format 2 bodies are
 * packetBody.ts's (built and read whole); format 3 bodies are packetStream.ts's, whose header may end
 * in spaces (room reserved before the body was written).
 */
export const PACKET_MAGIC = Buffer.from('MSITEPKT', 'latin1');
const PREFIX_LENGTH = 16;
/** A header longer than this is damage, not a header (real ones are a few KB). */
export const MAX_HEADER_LENGTH = 16 * 1024 * 1024;
/** What readPacketHeader reads first; one read covers the header of any ordinary packet. */
const FIRST_READ = 64 * 1024;

const RESEND = 'ask the sender to resend it';

/** What readPacketHeaderInfo tells besides the header: the format and where the body lies. */
export interface PacketHeaderInfo {
  header: PacketHeader;
  format: { major: number; minor: number };
  /** Offset of the body in the file; the file should be bodyOffset + header.bodyLength bytes. */
  bodyOffset: number;
  fileLength: number;
}

// ---------------------------------------------------------------------------------------------------
// Writing

/**
 * Encodes and writes atomically (temp name in the same directory, fsync, rename): magic + format
 * version + header + signature + body. Returns the header as written, with opCount, bodyLength and
 * bodySha256 filled in. Throws InvalidInputError for a header or body that breaks the format (with
 * nothing written), IoError when the file cannot be written.
 */
export function writePacket(path: string, header: PacketHeaderInput, body: PacketBody, privateKeyPem: string): PacketHeader {
  const input = packetHeaderInputSchema.safeParse(header);
  if (!input.success) throw new InvalidInputError(`cannot write packet ${path}: header ${firstIssue(input.error)}`, { data: { path } });
  const stored = encodeWithContext(path, body);
  checkRanges(body.ops, input.data.ranges, (why) => new InvalidInputError(`cannot write packet ${path}: ${why}`, { data: { path } }));
  const full: PacketHeader = { ...input.data, opCount: body.ops.length, bodySha256: sha256Hex(stored), bodyLength: stored.length };
  let json: string;
  try {
    json = JSON.stringify(full);
  } catch (err) {
    throw new InvalidInputError(`cannot write packet ${path}: header cannot be written as JSON (${(err as Error).message})`, {
      cause: err,
      data: { path },
    });
  }
  // What a reader will see must pass the reader's check (JSON turns NaN into null, drops undefined...).
  const reread = packetHeaderSchema.safeParse(JSON.parse(json));
  if (!reread.success)
    throw new InvalidInputError(`cannot write packet ${path}: header ${firstIssue(reread.error)} once written as JSON`, { data: { path } });
  const headerBytes = Buffer.from(json, 'utf8');
  if (headerBytes.length > MAX_HEADER_LENGTH) {
    throw new InvalidInputError(
      `cannot write packet ${path}: its header is ${headerBytes.length} bytes, over the ${MAX_HEADER_LENGTH}-byte limit`,
      { data: { path } },
    );
  }
  const signedLength = PREFIX_LENGTH + headerBytes.length;
  const file = Buffer.allocUnsafe(signedLength + 2 + SIGNATURE_LENGTH + stored.length);
  PACKET_MAGIC.copy(file, 0);
  file.writeUInt16BE(PACKET_FORMAT.major, 8);
  file.writeUInt16BE(PACKET_FORMAT.minor, 10);
  file.writeUInt32BE(headerBytes.length, 12);
  headerBytes.copy(file, PREFIX_LENGTH);
  const signature = sign(privateKeyPem, file.subarray(0, signedLength));
  file.writeUInt16BE(signature.length, signedLength);
  file.set(signature, signedLength + 2);
  file.set(stored, signedLength + 2 + signature.length);
  try {
    writeFileAtomic(path, file);
  } catch (err) {
    if (err instanceof MsiteError) throw err;
    throw ioError(`cannot write packet ${path}`, path, err);
  }
  return reread.data;
}

/**
 * Writes an update packet in the streamed format (packetStream.ts) from `parts`, read as they are
 * written: the body goes to a temp file beside `path` after room left for the header, then the header
 * (naming the body's SHA-256, length and op count) and its signature go into that room; fsync,
 * rename. Every op must lie in its origin's header range. Returns the header as written. Throws
 * InvalidInputError for a header or ops that break the format (nothing is left), IoError when the
 * file cannot be written.
 */
export async function writePacketStream(
  path: string,
  header: PacketHeaderInput,
  parts: AsyncIterable<BodyPart> | Iterable<BodyPart>,
  privateKeyPem: string,
): Promise<PacketHeader> {
  const input = packetHeaderInputSchema.safeParse(header);
  if (!input.success) throw new InvalidInputError(`cannot write packet ${path}: header ${firstIssue(input.error)}`, { data: { path } });
  const rangeError = (why: string) => new InvalidInputError(`cannot write packet ${path}: ${why}`, { data: { path } });
  // The most room the header can need: every computed number at its longest.
  const roomFor = (full: PacketHeader): Buffer => Buffer.from(JSON.stringify(full), 'utf8');
  const widest = roomFor({
    ...input.data,
    opCount: Number.MAX_SAFE_INTEGER,
    bodySha256: '0'.repeat(64),
    bodyLength: Number.MAX_SAFE_INTEGER,
  }).length;
  if (widest > MAX_HEADER_LENGTH) {
    throw new InvalidInputError(`cannot write packet ${path}: its header is ${widest} bytes, over the ${MAX_HEADER_LENGTH}-byte limit`, {
      data: { path },
    });
  }
  const bodyOffset = PREFIX_LENGTH + widest + 2 + SIGNATURE_LENGTH;
  const tmp = tempFileFor(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o644);
  } catch (err) {
    throw ioError(`cannot write packet ${path}`, path, err);
  }
  let kept = false;
  const sync = new BackgroundSync(fd);
  try {
    const hash = createHash('sha256');
    let at = bodyOffset;
    const sink = (bytes: Uint8Array): void => {
      hash.update(bytes);
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off, at + off);
      at += bytes.length;
      sync.wrote(bytes.length);
    };
    async function* checked(): AsyncGenerator<BodyPart> {
      for await (const part of parts) {
        if ('ops' in part) checkRanges(part.ops, input.data!.ranges, rangeError);
        yield part;
      }
    }
    const opCount = await writeStreamBody(checked(), sink, input.data.kind === 'creation' ? CREATION_COMPRESSION : undefined);
    const full: PacketHeader = { ...input.data, opCount, bodySha256: hash.digest('hex'), bodyLength: at - bodyOffset };
    const json = roomFor(full);
    const reread = packetHeaderSchema.safeParse(JSON.parse(json.toString('utf8')));
    if (!reread.success)
      throw new InvalidInputError(`cannot write packet ${path}: header ${firstIssue(reread.error)} once written as JSON`, {
        data: { path },
      });
    const head = Buffer.alloc(bodyOffset, ' ');
    PACKET_MAGIC.copy(head, 0);
    const format = full.kind === 'creation' ? CREATION_FORMAT : STREAM_FORMAT;
    head.writeUInt16BE(format.major, 8);
    head.writeUInt16BE(format.minor, 10);
    head.writeUInt32BE(widest, 12);
    json.copy(head, PREFIX_LENGTH);
    const signedLength = PREFIX_LENGTH + widest;
    const signature = sign(privateKeyPem, head.subarray(0, signedLength));
    head.writeUInt16BE(signature.length, signedLength);
    head.set(signature, signedLength + 2);
    for (let off = 0; off < head.length;) off += writeSync(fd, head, off, head.length - off, off);
    await sync.settle();
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    writingTo('write', path, () => renameSync(tmp, path));
    fsyncDir(dirname(path));
    kept = true;
    return reread.data;
  } catch (err) {
    if (err instanceof MsiteError) throw err;
    throw ioError(`cannot write packet ${path}`, path, err);
  } finally {
    if (fd >= 0) {
      await sync.settle().catch(() => {}); // (a failure was thrown already, or the file is removed)
      closeSync(fd);
    }
    if (!kept) rmSync(tmp, { force: true });
  }
}

function encodeWithContext(path: string, body: PacketBody): Buffer {
  try {
    return encodePacketBody(body);
  } catch (err) {
    if (err instanceof MsiteError)
      throw new InvalidInputError(`cannot write packet ${path}: ${err.message}`, { cause: err, data: { path } });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading the header

/** Reads and checks magic, format version and header syntax only, never the body (fast, for lspacket and dependency sorting). */
export function readPacketHeader(path: string): PacketHeader {
  return readPacketHeaderInfo(path).header;
}

/** readPacketHeader, plus the format version and where the body should be. Reads only the first bytes. */
export function readPacketHeaderInfo(path: string): PacketHeaderInfo {
  return openPacket(path, (fd, fileLength) => {
    const { header, format, signedLength } = parseHeader(path, readHead(fd, fileLength), fileLength);
    return { header, format, bodyOffset: signedLength + 2 + SIGNATURE_LENGTH, fileLength };
  });
}

/** Runs `use` on the open file; fs failures become IoErrors naming the packet. */
function openPacket<T>(path: string, use: (fd: number, fileLength: number) => T): T {
  const fd = openPacketFile(path);
  try {
    return use(fd, fstatSync(fd).size);
  } catch (err) {
    if (err instanceof MsiteError) throw err;
    throw ioError(`cannot read packet ${path}`, path, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a packet file for reading, refusing anything but a regular file (or a link to one) as not a
 * packet. A FIFO would block the open and every read for ever, and opening a device can act on it,
 * so the type is checked before the open; the open is non-blocking and the type checked again on
 * the descriptor, in case the name was replaced in between.
 *
 * @throws PacketError (not-a-packet) for a FIFO, socket, device or directory; IoError when it cannot be opened.
 */
export function openPacketFile(path: string): number {
  let before: Stats;
  try {
    before = statSync(path);
  } catch (err) {
    throw ioError(`cannot read packet ${path}`, path, err);
  }
  if (!before.isFile()) throw notARegularFile(path, before);
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    throw ioError(`cannot read packet ${path}`, path, err);
  }
  const after = fstatSync(fd);
  if (!after.isFile()) {
    closeSync(fd);
    throw notARegularFile(path, after);
  }
  return fd;
}

function notARegularFile(path: string, st: Stats): PacketError {
  const kind = st.isDirectory()
    ? 'a directory'
    : st.isFIFO()
      ? 'a FIFO'
      : st.isSocket()
        ? 'a socket'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : 'not a regular file';
  return new PacketError('not-a-packet', path, `${path} is not a packet: it is ${kind}`, {
    hint: 'give a packet file, or a directory of packets',
  });
}

/** The file's first bytes: the prefix, the header and the signature, as far as the file has them. */
function readHead(fd: number, fileLength: number): Buffer {
  const first = readAt(fd, 0, Math.min(fileLength, FIRST_READ));
  if (first.length < PREFIX_LENGTH) return first;
  const headerLength = first.readUInt32BE(12);
  if (headerLength > MAX_HEADER_LENGTH) return first; // parseHeader refuses it
  const need = Math.min(fileLength, PREFIX_LENGTH + headerLength + 2 + SIGNATURE_LENGTH);
  return need <= first.length ? first : readAt(fd, 0, need);
}

/** `length` bytes from `position`; fewer if the file ends first (it shrank since fstat). */
function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, position + off);
    if (n === 0) break;
    off += n;
  }
  return off < length ? buf.subarray(0, off) : buf;
}

interface ParsedHeader {
  header: PacketHeader;
  format: { major: number; minor: number };
  /** Bytes covered by the signature: the prefix and the header. */
  signedLength: number;
}

/** Checks magic, format and header in `buf` (at least the first 16 + H bytes of a file of `fileLength`). */
function parseHeader(path: string, buf: Buffer, fileLength: number): ParsedHeader {
  const magicSeen = Math.min(PACKET_MAGIC.length, fileLength);
  if (!buf.subarray(0, magicSeen).equals(PACKET_MAGIC.subarray(0, magicSeen))) {
    throw new PacketError(
      'not-a-packet',
      path,
      `${path} is not a sync. packet: it does not start with "${PACKET_MAGIC.toString('latin1')}"`,
      {
        hint: 'only files written by msite syncreplica or mkreplica are packets',
      },
    );
  }
  if (fileLength < PREFIX_LENGTH) throw truncated(path, fileLength, PREFIX_LENGTH, 'its format prefix');
  const major = buf.readUInt16BE(8);
  const minor = buf.readUInt16BE(10);
  if (major !== PACKET_FORMAT.major && !isStreamFormat(major)) {
    const relation = major > CREATION_FORMAT.major ? 'newer' : 'older';
    throw new PacketError(
      'format-version',
      path,
      `Cannot read packet ${path}: packet format ${major}.${minor} is ${relation} than this msite reads (${PACKET_FORMAT.major}.x to ${CREATION_FORMAT.major}.x)`,
      {
        data: { major, minor },
        hint:
          relation === 'newer' ? 'upgrade msite here, or have the sender export with the older format' : 'have the sender export it again',
      },
    );
  }
  const headerLength = buf.readUInt32BE(12);
  if (headerLength > MAX_HEADER_LENGTH) {
    throw new PacketError(
      'malformed',
      path,
      `Cannot read header of packet ${path}: its header length ${headerLength} is over the ${MAX_HEADER_LENGTH}-byte limit`,
      {
        data: { headerLength },
        hint: RESEND,
      },
    );
  }
  const signedLength = PREFIX_LENGTH + headerLength;
  if (fileLength < signedLength) throw truncated(path, fileLength, signedLength, 'its header');
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(buf.subarray(PREFIX_LENGTH, signedLength)));
  } catch {
    throw new PacketError('malformed', path, `Cannot read header of packet ${path}: the header is not valid UTF-8 JSON`, { hint: RESEND });
  }
  const parsed = packetHeaderSchema.safeParse(json);
  if (!parsed.success) {
    throw new PacketError('malformed', path, `Cannot read header of packet ${path}: header ${firstIssue(parsed.error)}`, { hint: RESEND });
  }
  return { header: parsed.data, format: { major, minor }, signedLength };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------------------------------
// Reading and verifying the whole packet

/**
 * Reads the whole packet and verifies it: format, header, signature (publicKeyFor(origin) returns
 * the origin's public key, or undefined for an unknown signer), body length and SHA-256; returns the
 * verified header. Does not decode the body. Throws PacketError on any failure, IoError when the
 * file cannot be read.
 */
export function verifyPacket(path: string, publicKeyFor: (origin: string) => string | undefined): PacketHeader {
  return loadVerified(path, publicKeyFor).header;
}

/**
 * Reads everything and verifies: format, header schema, signature (publicKeyFor(originOid) returns
 * the origin's public key, or undefined for an unknown signer), body length and SHA-256, then
 * decompresses and decodes the body. Throws PacketError on any failure (IoError when the file cannot
 * be read at all). The signature is checked before the body length, so a changed header is reported
 * as a bad signature and a cut-off body as truncation.
 */
export function readPacket(path: string, publicKeyFor: (origin: string) => string | undefined): { header: PacketHeader; body: PacketBody } {
  const { header, body: stored, format } = loadVerified(path, publicKeyFor);
  let body: PacketBody;
  try {
    body = isStreamFormat(format.major) ? decodeStreamBody(stored) : decodePacketBody(stored);
  } catch (err) {
    if (!(err instanceof MsiteError)) throw err;
    throw new PacketError('malformed', path, `packet ${path} has a body this msite cannot decode: ${err.message}`, {
      cause: err,
      hint: 'the sender wrote a damaged packet; report it with the packet attached',
    });
  }
  const bad = (why: string) =>
    new PacketError('malformed', path, `packet ${path} is inconsistent: ${why}`, {
      hint: 'the sender wrote a damaged packet; report it with the packet attached',
    });
  if (body.ops.length !== header.opCount) throw bad(`its header says ${header.opCount} ops, its body has ${body.ops.length}`);
  checkRanges(body.ops, header.ranges, bad);
  if (header.kind === 'creation' && !body.creation) throw bad('it is a creation packet without a VOB');
  if (header.kind === 'update' && body.creation) throw bad('it is an update packet carrying a VOB');
  return { header, body };
}

/**
 * Checks everything but the body's encoding, reading the head, then (only when the signature and the
 * length are right) the body, into a buffer of its exact size.
 */
function loadVerified(
  path: string,
  publicKeyFor: (origin: string) => string | undefined,
): { header: PacketHeader; body: Buffer; format: { major: number; minor: number } } {
  return openPacket(path, (fd, fileLength) => {
    const { header, format, bodyOffset } = checkHead(path, fd, fileLength, publicKeyFor);
    if (header.bodyLength > bufferConstants.MAX_LENGTH) {
      throw new PacketError(
        'malformed',
        path,
        `packet ${path} has a body of ${header.bodyLength} bytes, more than msite reads (${bufferConstants.MAX_LENGTH})`,
        {
          hint: 'have the sender split the export into fragments (-maxsize)',
        },
      );
    }
    const expectedLength = bodyOffset + header.bodyLength;
    const body = readAt(fd, bodyOffset, header.bodyLength);
    if (body.length < header.bodyLength) throw truncated(path, bodyOffset + body.length, expectedLength, 'its body');
    checkBodySha(path, header, sha256Hex(body));
    return { header, body, format };
  });
}

/**
 * Reads and verifies a packet of either format as a stream, telling `consumer` what its body holds as
 * it reads. The head (format, header, signature, file length) is checked before any of the body is
 * read; the body's SHA-256, length, op count and ranges once it has all been read: `consumer` must
 * commit nothing until this resolves (see packetStream.ts). A format-2 packet is read whole, as
 * readPacket does, then told to `consumer`. A creation packet is read only by a consumer that takes
 * a VOB (database, poolFile, replicaKey). Throws PacketError on any failure, IoError when the file
 * cannot be read.
 */
export async function readPacketStream(
  path: string,
  publicKeyFor: (origin: string) => string | undefined,
  consumer: BodyConsumer,
): Promise<PacketHeader> {
  const { header, format, bodyOffset } = openPacket(path, (fd, fileLength) => checkHead(path, fd, fileLength, publicKeyFor));
  const damaged = (why: string, cause?: unknown) =>
    new PacketError('malformed', path, `packet ${path} ${why}`, {
      ...(cause !== undefined ? { cause } : {}),
      hint: 'the sender wrote a damaged packet; report it with the packet attached',
    });
  if (header.kind === 'creation' && !consumer.database) throw damaged('is a creation packet: import it with msite mkreplica --import');
  if (!isStreamFormat(format.major)) {
    const { body } = readPacket(path, publicKeyFor);
    await consumer.ops(body.ops);
    if (body.creation) {
      const one = (bytes: Uint8Array) =>
        (async function* () {
          yield Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        })();
      await consumer.database!(body.creation.database.length, one(body.creation.database));
      for (const f of body.creation.files) await consumer.poolFile!(f.sha, f.bytes.length, one(f.bytes));
    }
    for (const b of body.blobs) {
      const bytes = Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
      if (bytes.length <= SMALL_BLOB) consumer.small(b.sha, bytes);
      else
        await consumer.blob(
          b.sha,
          bytes.length,
          (async function* () {
            yield bytes;
          })(),
        );
    }
    return header;
  }
  const inconsistent = (why: string) => damaged(`is inconsistent: ${why}`);
  let read: StreamBodyRead;
  try {
    read = await readStreamBody(path, bodyOffset, header.bodyLength, {
      ops: (ops) => {
        checkRanges(ops, header.ranges, inconsistent);
        return consumer.ops(ops);
      },
      small: (sha, bytes) => consumer.small(sha, bytes),
      blob: (sha, size, bytes) => consumer.blob(sha, size, bytes),
      stored: (sha, size, deflated, storedLength, bytes) => consumer.stored(sha, size, deflated, storedLength, bytes),
      delta: (sha, size, base, delta) => consumer.delta(sha, size, base, delta),
      ...(header.kind === 'creation'
        ? {
            database: (size: number, bytes: AsyncIterable<Buffer>) => consumer.database!(size, bytes),
            ...(consumer.databasePart
              ? {
                  databasePart: (size: number, offset: number, length: number, bytes: AsyncIterable<Buffer>) =>
                    consumer.databasePart!(size, offset, length, bytes),
                }
              : {}),
            poolFile: (name: string, length: number, bytes: AsyncIterable<Buffer>) => consumer.poolFile!(name, length, bytes),
            replicaKey: (pem: Buffer) => consumer.replicaKey!(pem),
          }
        : {}),
    });
  } catch (err) {
    if (err instanceof PacketError) throw err;
    if (err instanceof InvalidInputError) {
      // Bytes that do not decode may still be damage in transit: the checksum says which, when it can.
      const sha = await bodySha(path, bodyOffset, header.bodyLength).catch(() => undefined);
      if (sha !== undefined) checkBodySha(path, header, sha);
      throw damaged(`has a body this msite cannot decode: ${err.message}`, err);
    }
    if (err instanceof MsiteError) throw err;
    throw ioError(`cannot read packet ${path}`, path, err);
  }
  if (read.length < header.bodyLength) throw truncated(path, bodyOffset + read.length, bodyOffset + header.bodyLength, 'its body');
  checkBodySha(path, header, read.sha256);
  if (read.opCount !== header.opCount) throw inconsistent(`its header says ${header.opCount} ops, its body has ${read.opCount}`);
  return header;
}

async function bodySha(path: string, offset: number, length: number): Promise<string> {
  const hash = createHash('sha256');
  if (length > 0)
    for await (const chunk of createReadStream(path, { start: offset, end: offset + length - 1 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function checkBodySha(path: string, header: PacketHeader, sha: string): void {
  if (sha !== header.bodySha256) {
    throw new PacketError('checksum', path, `packet ${path} is damaged: body checksum mismatch`, {
      data: { expected: header.bodySha256, actual: sha },
      hint: `it was changed or truncated in transit; ${RESEND}`,
    });
  }
}

/**
 * Checks the head of an open packet: format, header schema, signature (before the length, so a changed
 * header is reported as a bad signature and a cut-off body as truncation), then the file's length
 * against the body length the header names. The body is not read.
 */
function checkHead(
  path: string,
  fd: number,
  fileLength: number,
  publicKeyFor: (origin: string) => string | undefined,
): { header: PacketHeader; format: { major: number; minor: number }; bodyOffset: number } {
  const head = readHead(fd, fileLength);
  const { header, signedLength, format } = parseHeader(path, head, fileLength);
  if (fileLength < signedLength + 2) throw truncated(path, fileLength, signedLength + 2, 'its signature');
  const signatureLength = head.readUInt16BE(signedLength);
  if (signatureLength !== SIGNATURE_LENGTH) {
    throw new PacketError(
      'signature',
      path,
      `packet ${path} has a bad signature: it is ${signatureLength} bytes, an Ed25519 signature is ${SIGNATURE_LENGTH}`,
      {
        data: { origin: header.origin },
        hint: `do not import it; ${RESEND}`,
      },
    );
  }
  const bodyOffset = signedLength + 2 + SIGNATURE_LENGTH;
  if (fileLength < bodyOffset) throw truncated(path, fileLength, bodyOffset, 'its signature');
  verifySignature(path, header, publicKeyFor, head.subarray(0, signedLength), head.subarray(signedLength + 2, bodyOffset));
  const expectedLength = bodyOffset + header.bodyLength;
  if (fileLength < expectedLength) throw truncated(path, fileLength, expectedLength, 'its body');
  if (fileLength > expectedLength) {
    throw new PacketError('malformed', path, `packet ${path} has ${fileLength - expectedLength} unexpected bytes after its body`, {
      data: { length: fileLength, expected: expectedLength },
      hint: RESEND,
    });
  }
  return { header, format, bodyOffset };
}

function verifySignature(
  path: string,
  header: PacketHeader,
  publicKeyFor: (origin: string) => string | undefined,
  signed: Uint8Array,
  signature: Uint8Array,
): void {
  const signer = `${header.originName} (${header.origin})`;
  const publicKey = publicKeyFor(header.origin);
  if (publicKey === undefined) {
    throw new PacketError(
      'unknown-signer',
      path,
      `packet ${path} is signed by an unknown replica ${header.origin} (${header.originName})`,
      {
        data: { origin: header.origin, originName: header.originName },
        hint: 'import the packets that introduce that replica first, or check that the packet belongs to this VOB family',
      },
    );
  }
  let good: boolean;
  try {
    good = verify(publicKey, signed, signature);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    throw new PacketError(
      'signature',
      path,
      `packet ${path} cannot be verified: the public key recorded here for replica ${signer} is not an Ed25519 key`,
      {
        cause: err,
        data: { origin: header.origin },
        hint: "repair that replica object's key",
      },
    );
  }
  if (!good) {
    throw new PacketError(
      'signature',
      path,
      `packet ${path} has a bad signature: it was not signed by replica ${signer}, or its header was changed in transit`,
      {
        data: { origin: header.origin },
        hint: `do not import it; ${RESEND}`,
      },
    );
  }
}

function truncated(path: string, length: number, needed: number, what: string): PacketError {
  return new PacketError('truncated', path, `packet ${path} is truncated: it has ${length} bytes, ${what} needs ${needed}`, {
    data: { length, needed },
    hint: `it was cut short in transit or is still being copied; ${RESEND}`,
  });
}

/** Every op must lie in its origin's range; an op outside would slip past import's duplicate checks. */
function checkRanges<E extends Error>(ops: readonly WireOp[], ranges: Record<string, [number, number]>, fail: (why: string) => E): void {
  for (const op of ops) {
    const r = Object.hasOwn(ranges, op.origin) ? ranges[op.origin] : undefined;
    if (!r) throw fail(`op ${op.id} from ${op.origin} has no range in the header`);
    if (op.id < r[0] || op.id > r[1]) throw fail(`op ${op.id} from ${op.origin} is outside its header range ${r[0]}-${r[1]}`);
  }
}

function ioError(what: string, path: string, err: unknown): IoError {
  const e = err as NodeJS.ErrnoException;
  const sysCode = e.code;
  const why =
    sysCode === 'ENOENT'
      ? 'no such file or directory'
      : sysCode === 'EISDIR'
        ? 'it is a directory'
        : sysCode === 'EACCES'
          ? 'permission denied'
          : e.message;
  return new IoError(`${what}: ${why}`, {
    cause: err,
    data: { path, sysCode },
    persistence: isTransientSysCode(sysCode) ? 'transient' : 'permanent',
  });
}
