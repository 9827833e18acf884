import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { PacketError } from '../../src/packet/packetError.js';
import { isSealedPacket, openSealedPacket, sealPacket } from '../../src/packet/sealedPacket.js';
import { tempDir } from '../helpers/cli.js';

describe('sealed packets', () => {
  it('seal and open round-trip; a changed byte or another site is refused, with nothing written', async () => {
    const dir = tempDir('msite-seal-');
    const id = await generateIdentity();
    const other = await generateIdentity();
    const plain = join(dir, 'plain');
    // Larger than one age chunk (64 KiB), so the payload is a stream of several.
    writeFileSync(plain, Buffer.concat([Buffer.from('MARKER-0123'), Buffer.alloc(300_000, 7)]));
    await sealPacket(plain, join(dir, 'sealed'), [await identityToRecipient(other), await identityToRecipient(id)]);
    expect(isSealedPacket(join(dir, 'sealed'))).toBe(true);
    expect(isSealedPacket(plain)).toBe(false);
    expect(readFileSync(join(dir, 'sealed')).includes('MARKER-0123')).toBe(false);
    await openSealedPacket(join(dir, 'sealed'), join(dir, 'open'), [id]);
    expect(readFileSync(join(dir, 'open')).equals(readFileSync(plain))).toBe(true);

    const bad = readFileSync(join(dir, 'sealed'));
    bad[200_000]! ^= 1;
    writeFileSync(join(dir, 'bad'), bad);
    const damaged = await openSealedPacket(join(dir, 'bad'), join(dir, 'open2'), [id]).catch((e: unknown) => e);
    expect(damaged).toBeInstanceOf(PacketError);
    expect((damaged as PacketError).reason).toBe('sealed-damaged');
    expect(existsSync(join(dir, 'open2'))).toBe(false);

    const stranger = await generateIdentity();
    const elsewhere = await openSealedPacket(join(dir, 'sealed'), join(dir, 'open3'), [stranger]).catch((e: unknown) => e);
    expect((elsewhere as PacketError).reason).toBe('sealed-for-another-site');
    expect((elsewhere as PacketError).message).toMatch(/encrypted for another site/);
    expect(existsSync(join(dir, 'open3'))).toBe(false);
  });
});
