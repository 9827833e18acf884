import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacketError } from '../../src/packet/packetError.js';
import { readPacket, readPacketHeaderInfo, readPacketStream, writePacket, writePacketStream } from '../../src/packet/packetFile.js';
import { partsInMemory, type BodyConsumer, type BodyPart } from '../../src/packet/packetStream.js';
import { binaryDelta } from '../../src/core/binaryDelta.js';
import { sha256Hex } from '../../src/core/sha256.js';
import { STREAM_FORMAT, type PacketBlob, type PacketHeader, type WireOp } from '../../src/packet/packetTypes.js';
import { blob, blobMap, body, bostonKeys, header, keyFor, layout, readOps, plain, tempDir } from './fixtures.js';

const dir = tempDir();
let n = 0;
const next = (): string => join(dir, `p${++n}`);

/** A consumer that keeps what it is told, reading blobs whole. */
function collector(): BodyConsumer & { ops_: WireOp[]; blobs: PacketBlob[]; deltas: { sha: string; base: string; delta: Buffer }[] } {
  const c = {
    ops_: [] as WireOp[],
    blobs: [] as PacketBlob[],
    ops(batch: WireOp[]) {
      c.ops_.push(...batch);
    },
    small(sha: string, bytes: Buffer) {
      c.blobs.push({ sha, bytes: Buffer.from(bytes) });
    },
    async blob(sha: string, _size: number, bytes: AsyncIterable<Buffer>) {
      const parts: Buffer[] = [];
      for await (const part of bytes) parts.push(part);
      c.blobs.push({ sha, bytes: Buffer.concat(parts) });
    },
    async stored(sha: string, _size: number, deflated: boolean, _storedLength: number, bytes: AsyncIterable<Buffer>) {
      const parts: Buffer[] = [];
      for await (const part of bytes) parts.push(part);
      c.blobs.push({ sha, bytes: deflated ? inflateRawSync(Buffer.concat(parts)) : Buffer.concat(parts) });
    },
    deltas: [] as { sha: string; base: string; delta: Buffer }[],
    delta(sha: string, _size: number, base: string, delta: Buffer) {
      c.deltas.push({ sha, base, delta: Buffer.from(delta) });
    },
  };
  return c;
}

describe('streamed packets (format 3)', () => {
  it('round-trip: header, ops, compressible and stored blobs; readPacket reads them too', async () => {
    const path = next();
    const b = body();
    const text = new TextEncoder().encode('a line of text\n'.repeat(100_000));
    const blobs = [...b.blobs, blob(text), blob(randomBytes(3 * 1024 * 1024 + 5))];
    const written = await writePacketStream(path, header(), partsInMemory(b.ops, blobs), bostonKeys.privateKeyPem);
    expect(readPacketHeaderInfo(path)).toMatchObject({ format: STREAM_FORMAT, header: written });
    expect(written.opCount).toBe(b.ops.length);
    expect(statSync(path).size).toBe(readPacketHeaderInfo(path).bodyOffset + written.bodyLength);
    // The text compresses, the random bytes do not and are stored as they are: the packet is a little over them.
    expect(written.bodyLength).toBeLessThan(3 * 1024 * 1024 + 1024 * 1024 + 200_000);

    const c = collector();
    expect(await readPacketStream(path, keyFor, c)).toEqual(written);
    expect(readOps(c.ops_)).toEqual(plain(b.ops));
    expect(blobMap(c.blobs)).toEqual(blobMap(blobs));

    const whole = readPacket(path, keyFor);
    expect(whole.header).toEqual(written);
    expect(blobMap(whole.body.blobs)).toEqual(blobMap(blobs));
  });

  it('blobs in their stored form travel as they are; a version as a delta against one before it', async () => {
    const path = next();
    const b = body();
    const text = Buffer.from('another line of text, numbered\n'.repeat(20_000));
    const edited = Buffer.concat([text.subarray(0, 300_000), Buffer.from('an edit\n'), text.subarray(300_000)]);
    const random = randomBytes(200 * 1024);
    const deflated = deflateRawSync(text);
    const of = (bytes: Buffer) => ({
      sha: sha256Hex(bytes),
      size: bytes.length,
      chunks: async function* () {
        yield bytes;
      },
    });
    const form = (bytes: Buffer, isDeflated: boolean) => ({
      deflated: isDeflated,
      storedLength: bytes.length,
      chunks: async function* () {
        yield bytes.subarray(0, 1000);
        yield bytes.subarray(1000);
      },
    });
    const delta = binaryDelta(text, edited)!;
    expect(delta.length).toBeLessThan(100);
    const parts: BodyPart[] = [
      { ops: b.ops },
      { blob: { ...of(text), stored: form(deflated, true) } },
      { blob: { ...of(random), stored: form(random, false) } },
      { delta: { sha: sha256Hex(edited), size: edited.length, base: sha256Hex(text), delta } },
    ];
    await writePacketStream(path, header(), parts, bostonKeys.privateKeyPem);
    // The deflated form is not compressed again: the packet holds it as it is.
    expect(readFileSync(path).includes(deflated)).toBe(true);
    const c = collector();
    await readPacketStream(path, keyFor, c);
    expect(blobMap(c.blobs)).toEqual(blobMap([blob(text), blob(random)]));
    expect(c.deltas).toEqual([{ sha: sha256Hex(edited), base: sha256Hex(text), delta }]);
    // Read whole, the delta is applied and checked.
    expect(blobMap(readPacket(path, keyFor).body.blobs)).toEqual(blobMap([blob(text), blob(random), blob(edited)]));

    // A delta needs its base earlier in the body.
    const orphan: BodyPart[] = [{ ops: b.ops }, { delta: { sha: sha256Hex(edited), size: edited.length, base: sha256Hex(text), delta } }];
    await expect(writePacketStream(next(), header(), orphan, bostonKeys.privateKeyPem)).rejects.toThrow(
      /which the body does not hold before it/,
    );
  });

  it('a format 2 packet is read by the same call, whole', async () => {
    const path = next();
    const b = body();
    const written = writePacket(path, header(), b, bostonKeys.privateKeyPem);
    expect(readPacketHeaderInfo(path).format.major).toBe(2);
    const c = collector();
    expect(await readPacketStream(path, keyFor, c)).toEqual(written);
    expect(readOps(c.ops_)).toEqual(plain(b.ops));
    expect(blobMap(c.blobs)).toEqual(blobMap(b.blobs));
  });

  it('a flipped byte anywhere in the body is refused once the body is read; one in the header before any of it is', async () => {
    const path = next();
    const b = body();
    const blobs = [...b.blobs, blob(randomBytes(256 * 1024))];
    await writePacketStream(path, header(), partsInMemory(b.ops, blobs), bostonKeys.privateKeyPem);
    const file = readFileSync(path);
    const { bodyOffset } = layout(file);
    const reasons = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const pos = bodyOffset + Math.floor(((file.length - bodyOffset) * i) / 24);
      const copy = Buffer.from(file);
      copy[pos] = copy[pos]! ^ 0x40;
      const flipped = next();
      writeFileSync(flipped, copy);
      const err = await readPacketStream(flipped, keyFor, collector()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `flip at ${pos}`).toBeInstanceOf(PacketError);
      reasons.add((err as PacketError).reason);
    }
    // Damage is damage: the checksum says so even where the bytes no longer decode.
    expect([...reasons]).toEqual(['checksum']);

    const copy = Buffer.from(file);
    copy[20] = copy[20]! ^ 0x01;
    const forged = next();
    writeFileSync(forged, copy);
    const told = collector();
    const err = await readPacketStream(forged, keyFor, told).catch((e: unknown) => e);
    expect((err as PacketError).reason).toMatch(/signature|malformed/);
    expect(told.ops_).toEqual([]);
  });

  it('an op outside its header range is refused at write and at read', async () => {
    const b = body();
    const path = next();
    await expect(writePacketStream(path, header({ ranges: {} }), [{ ops: b.ops }], bostonKeys.privateKeyPem)).rejects.toThrow(
      /has no range in the header/,
    );
    const written: PacketHeader = await writePacketStream(path, header(), [{ ops: b.ops }], bostonKeys.privateKeyPem);
    expect(written.opCount).toBe(b.ops.length);
  });
});
