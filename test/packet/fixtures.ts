import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { afterAll, expect } from 'vitest';
import { PacketError, type PacketErrorReason } from '../../src/packet/packetError.js';
import { PACKET_FORMAT, type PacketBody, type PacketHeaderInput, type WireOp } from '../../src/packet/packetTypes.js';
import { generateReplicaKeys, sign } from '../../src/packet/replicaKeys.js';

/** A temp directory removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'msite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const FAMILY = '0b6f0d1e-6a39-4c5f-9a55-2a4e4a9a0c01';
export const PACKET = '5f3e1b7a-2222-4f0e-8d6c-33b1c0f0aa02';
export const BOSTON = 'a1b2c3d4-0000-4000-8000-00000000b057';
export const SANFRAN = 'a1b2c3d4-0000-4000-8000-000000005f00';
export const LONDON = 'a1b2c3d4-0000-4000-8000-0000000010d0';

/** Key pairs made once per test file: boston signs, `other` is a stranger's key. */
export const bostonKeys = generateReplicaKeys();
export const otherKeys = generateReplicaKeys();
export const keyFor = (origin: string): string | undefined => (origin === BOSTON ? bostonKeys.publicKey : undefined);

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function blob(bytes: Uint8Array): { sha: string; bytes: Uint8Array } {
  return { sha: sha256(bytes), bytes };
}

export function header(overrides: Partial<PacketHeaderInput> = {}): PacketHeaderInput {
  return {
    kind: 'update',
    family: FAMILY,
    packet: PACKET,
    origin: BOSTON,
    originName: 'boston_hub',
    targets: [{ oid: SANFRAN, name: 'sanfran_hub' }],
    sequence: 7,
    fragment: { index: 2, count: 3 },
    requires: { [BOSTON]: 40, [LONDON]: 3 },
    senderRow: { [BOSTON]: 44, [LONDON]: 5, [SANFRAN]: 9 },
    facts: {
      [BOSTON]: { row: { [BOSTON]: 44, [LONDON]: 5 }, at: 1_790_000_000_000 },
      [LONDON]: { row: { [LONDON]: 5 }, at: 1_789_999_000_000 },
    },
    ranges: { [BOSTON]: [41, 44], [LONDON]: [4, 5] },
    createdAt: 1_790_000_123_456,
    comment: 'nightly export – größer ✓',
    incarnation: 1_700_000_000_000,
    ...overrides,
  };
}

/** Ops matching header().ranges: nested data, OIDs, a SHA, bytes, unicode, numbers of every kind. */
export function ops(contentSha: string): WireOp[] {
  return [
    { origin: LONDON, id: 4, kind: 'mklbtype', data: { name: 'REL_1', shared: false, comment: '' }, at: 1_789_999_000_001 },
    {
      origin: BOSTON,
      id: 41,
      kind: 'checkout',
      data: { checkout: '9e4c7a10-1111-4a2b-8c3d-4e5f60718293', branch: SANFRAN, reserved: true, nmaster: false, comment: '' },
      at: 1_790_000_000_000,
    },
    {
      origin: BOSTON,
      id: 42,
      kind: 'checkin',
      data: {
        checkout: '9e4c7a10-1111-4a2b-8c3d-4e5f60718293',
        version: 'c0ffee00-aaaa-4bbb-8ccc-0123456789ab',
        number: 3,
        content: contentSha,
        comment: 'fix the 🐛',
      },
      at: 1_790_000_000_500,
    },
    {
      origin: LONDON,
      id: 5,
      kind: 'mkattr',
      data: { values: [1, -2, 3.5, 2 ** 40, -(2 ** 53 - 1), null, true, 'x'], nested: { deep: { deeper: [[], {}, [{ a: 'B' }]] } } },
      at: 1_789_999_000_002,
    },
    {
      origin: BOSTON,
      id: 43,
      kind: 'strings',
      data: {
        upperUuid: 'C0FFEE00-AAAA-4BBB-8CCC-0123456789AB',
        almostUuid: 'c0ffee00-aaaa-4bbb-8ccc-0123456789aZ',
        hex32: '00112233445566778899aabbccddeeff',
        hex33: '00112233445566778899aabbccddeeff0',
        hex31: '00112233445566778899aabbccddeef',
        mixedCase: '00112233445566778899AABBCCDDEEFF',
        ext8: 'ef'.repeat(100),
        ext16: 'cd'.repeat(300),
        longest: '0f'.repeat(0xffff),
        tooLong: 'ab'.repeat(0x10000),
        empty: '',
      },
      at: 1_790_000_000_600,
    },
    { origin: BOSTON, id: 44, kind: 'bytes', data: { raw: new Uint8Array([0, 1, 2, 255]), none: new Uint8Array(0) }, at: 0 },
  ];
}

export function body(): PacketBody {
  const content = new TextEncoder().encode('line 1\nline 2\n');
  return {
    ops: ops(sha256(content)),
    blobs: [blob(content), blob(new Uint8Array(0)), blob(randomBytes(1024 * 1024)), blob(content)],
  };
}

/**
 * Every byte string as `{ bytes: <hex> }`, so Buffers and Uint8Arrays compare equal, and fast (vitest
 * compares typed arrays element by element).
 */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: hex(value) };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/**
 * Ops as read, for comparing with the ops written: each read op's `encoded` must decode on its own
 * to its data (what a reader that keeps those bytes relies on), and is then left out.
 */
export function readOps(ops: WireOp[]): unknown {
  return plain(
    ops.map(({ encoded, ...op }) => {
      if (!encoded) throw new Error(`read op ${op.id} has no encoded data`);
      expect(plain(unpack(encoded))).toEqual(plain(op.data));
      return op;
    }),
  );
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Blobs as SHA -> hex of the bytes, order-free (a packet stores each SHA once, in its own order). */
export function blobMap(blobs: { sha: string; bytes: Uint8Array }[]): Map<string, string> {
  return new Map(blobs.map((b) => [b.sha, hex(b.bytes)]));
}

/** Offsets of a packet file's parts. */
export function layout(file: Buffer): { headerEnd: number; bodyOffset: number } {
  const headerEnd = 16 + file.readUInt32BE(12);
  return { headerEnd, bodyOffset: headerEnd + 2 + file.readUInt16BE(headerEnd) };
}

/**
 * A packet built by hand, for cases writePacket refuses to make: any format version, any header
 * JSON text, any body bytes; signed (over magic + version + header) with `privateKeyPem`.
 */
export function craft(
  path: string,
  parts: { headerJson: string; body: Uint8Array; major?: number; minor?: number; privateKeyPem?: string },
): void {
  const headerBytes = Buffer.from(parts.headerJson, 'utf8');
  const prefix = Buffer.alloc(16 + headerBytes.length);
  prefix.write('MSITEPKT', 0, 'latin1');
  prefix.writeUInt16BE(parts.major ?? PACKET_FORMAT.major, 8);
  prefix.writeUInt16BE(parts.minor ?? 0, 10);
  prefix.writeUInt32BE(headerBytes.length, 12);
  headerBytes.copy(prefix, 16);
  const signature = sign(parts.privateKeyPem ?? bostonKeys.privateKeyPem, prefix);
  const sigLength = Buffer.alloc(2);
  sigLength.writeUInt16BE(signature.length);
  writeFileSync(path, Buffer.concat([prefix, sigLength, signature, parts.body]));
}

/** The header JSON and body of a packet file, to re-craft it changed. */
export function partsOf(path: string): { header: Record<string, unknown>; body: Buffer } {
  const file = readFileSync(path);
  const { headerEnd, bodyOffset } = layout(file);
  return { header: JSON.parse(file.subarray(16, headerEnd).toString('utf8')) as Record<string, unknown>, body: file.subarray(bodyOffset) };
}

/** Runs `fn`, expecting a PacketError; returns it. */
export function packetError(fn: () => unknown): PacketError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PacketError) return err;
    throw new Error(`expected a PacketError, got: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
  }
  throw new Error('expected a PacketError, but nothing was thrown');
}

export function reasonOf(fn: () => unknown): PacketErrorReason {
  return packetError(fn).reason;
}
