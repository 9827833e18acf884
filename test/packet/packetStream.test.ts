import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacketError } from '../../src/packet/packetError.js';
import { readPacket, readPacketHeaderInfo, readPacketStream, writePacket, writePacketStream } from '../../src/packet/packetFile.js';
import { partsInMemory, type BodyConsumer } from '../../src/packet/packetStream.js';
import type { PacketBlob, PacketHeader, WireOp } from '../../src/packet/packetTypes.js';
import { blob, blobMap, body, bostonKeys, header, keyFor, layout, readOps, plain, tempDir } from './fixtures.js';

const dir = tempDir();
let n = 0;
const next = (): string => join(dir, `p${++n}`);

/** A consumer that keeps what it is told, reading blobs whole. */
function collector(): BodyConsumer & { ops_: WireOp[]; blobs: PacketBlob[] } {
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
    expect(readPacketHeaderInfo(path)).toMatchObject({ format: { major: 3, minor: 0 }, header: written });
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
