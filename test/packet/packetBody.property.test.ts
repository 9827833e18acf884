import { join } from 'node:path';
import fc from 'fast-check';
import { pack, Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { packStrings } from '../../src/core/packedStrings.js';
import { RawMsgpack } from '../../src/core/rawMsgpack.js';
import { decodePacketBody, encodePacketBody } from '../../src/packet/packetBody.js';
import { readPacket, writePacket } from '../../src/packet/packetFile.js';
import type { PacketBody, WireOp } from '../../src/packet/packetTypes.js';
import { BOSTON, blob, blobMap, bostonKeys, header, plain, readOps, tempDir } from './fixtures.js';

/** Any op data msgpack carries faithfully, with plenty of strings that look like ids. */
const idLike = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.stringMatching(/^[0-9a-f]{30,70}$/),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef-'), minLength: 30, maxLength: 40 }),
);
const leaf = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  idLike,
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  // Small integers too: msgpackr's records claim the bytes of 64-127, so these are where a
  // record-encoded message and plain pre-encoded data would be misread.
  fc.integer({ min: -300, max: 300 }),
  fc.double().filter((d) => !Object.is(d, -0)),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }),
);
const key = fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__');
const { data } = fc.letrec((tie) => ({
  data: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('data'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('data'), { maxKeys: 6 }),
}));

const origins = [BOSTON, 'b0000000-0000-4000-8000-000000000002', 'not-a-uuid-origin'];

/** Ops in a causal-looking order: ids rise per origin (with gaps), times anywhere. */
const opsArb = fc
  .array(
    fc.record({
      origin: fc.constantFrom(...origins),
      gap: fc.integer({ min: 1, max: 1000 }),
      kind: fc.constantFrom('checkin', 'mkelem', 'mklabel', 'x'),
      data,
      at: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    }),
    { maxLength: 30 },
  )
  .map((rows) => {
    const last = new Map<string, number>();
    return rows.map(({ origin, gap, kind, data: d, at }): WireOp => {
      const id = (last.get(origin) ?? 0) + gap;
      last.set(origin, id);
      return { origin, id, kind, data: d, at };
    });
  });

const bodyArb = fc.record({
  ops: opsArb,
  blobs: fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }).map((bs) => bs.map(blob)),
  creation: fc.option(
    fc.record({
      database: fc.uint8Array({ maxLength: 5000 }),
      files: fc.array(
        fc.record({
          sha: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ minLength: 1 })),
          bytes: fc.uint8Array({ maxLength: 500 }),
        }),
        {
          maxLength: 4,
        },
      ),
    }),
    { nil: undefined },
  ),
});

function rangesOf(ops: WireOp[]): Record<string, [number, number]> {
  const ranges: Record<string, [number, number]> = {};
  for (const op of ops) ranges[op.origin] = [ranges[op.origin]?.[0] ?? op.id, op.id];
  return ranges;
}

function expectSameBody(actual: PacketBody, expected: PacketBody): void {
  expect(readOps(actual.ops)).toEqual(plain(expected.ops));
  expect(blobMap(actual.blobs)).toEqual(blobMap(expected.blobs));
  expect(plain(actual.creation)).toEqual(plain(expected.creation));
}

describe('random bodies', () => {
  const dir = tempDir();

  it('round-trip through the body encoding exactly', () => {
    fc.assert(
      fc.property(bodyArb, (b) => {
        const body: PacketBody = b.creation ? b : { ops: b.ops, blobs: b.blobs };
        expectSameBody(decodePacketBody(encodePacketBody(body)), body);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trip through packet files, signed and verified', () => {
    let n = 0;
    fc.assert(
      fc.property(bodyArb, fc.string(), (b, comment) => {
        const path = join(dir, `p${++n}`);
        const body: PacketBody = b.creation ? b : { ops: b.ops, blobs: b.blobs };
        const h = header({ kind: b.creation ? 'creation' : 'update', ranges: rangesOf(b.ops), comment });
        const written = writePacket(path, h, body, bostonKeys.privateKeyPem);
        const read = readPacket(path, (o) => (o === BOSTON ? bostonKeys.publicKey : undefined));
        expect(read.header).toEqual(written);
        expect(read.header.opCount).toBe(b.ops.length);
        expectSameBody(read.body, body);
      }),
      { numRuns: 60 },
    );
  });

  it('data given pre-encoded (as the oplog stores it) reads back as the value, beside data given as values', () => {
    fc.assert(
      fc.property(opsArb, fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), (ops, raw) => {
        const given = ops.map((op, n) => (raw[n] ? { ...op, data: new RawMsgpack(pack(packStrings(op.data))) } : op));
        expectSameBody(decodePacketBody(encodePacketBody({ ops: given, blobs: [] })), { ops, blobs: [] });
      }),
      { numRuns: 300 },
    );
  });

  it("op data using msgpack records is refused: a record would tie one op's bytes to another's", () => {
    const records = new Packr({ useRecords: true });
    const ops: WireOp[] = [1, 2].map((id) => ({
      origin: BOSTON,
      id,
      kind: 'x',
      data: new RawMsgpack(records.pack({ a: id, b: 'x' })),
      at: 0,
    }));
    expect(() => decodePacketBody(encodePacketBody({ ops, blobs: [] }))).toThrow(
      'the op data of its op chunk 0 uses msgpack records, which this format never writes',
    );
  });
});
