import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPacket, readPacketHeaderInfo, readPacketStream } from '../../src/packet/packetFile.js';
import { CREATION_FORMAT } from '../../src/packet/packetTypes.js';
import { json, msite, ok, tempDir } from '../helpers/cli.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('creation packets', () => {
  it('a VOB whose database holds content that does not compress makes a replica that reads the same', async () => {
    const root = tempDir();
    const home = join(root, 'home');
    const far = join(root, 'far-home');
    const work = join(root, 'work');
    mkdirSync(work);
    await ok(['mkvob', '--tag', '/vobs/dev', '--replica', 'boston_hub', join(root, 'boston.vob')], { home });
    // Random bytes under the pool's inline limit: stored raw in the database's overflow pages,
    // which travel in the packet's stored section; text beside them, in pages that compress.
    const files: Record<string, Buffer> = {
      'noise.bin': randomBytes(60_000),
      'words.txt': Buffer.from(Array.from({ length: 4000 }, (_, i) => `line ${i} of some text\n`).join('')),
      'small.bin': randomBytes(3000),
    };
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(work, name), bytes);
    const env = { MSITE_VOB: '/vobs/dev' };
    await ok(['checkout', '.'], { home, env, cwd: work });
    for (const name of Object.keys(files)) await ok(['mkelem', '--from', name, name], { home, env, cwd: work });
    await ok(['checkin', '.'], { home, env, cwd: work });
    const out = join(root, 'out');
    mkdirSync(out);
    const { packets } = await json<{ packets: string[] }>(['mkreplica', '--export', '--out', out, 'far-host:far_hub'], { home, env });
    expect(readPacketHeaderInfo(packets[0]!).format).toEqual(CREATION_FORMAT);
    await ok(['mkreplica', '--import', '--tag', '/vobs/dev', join(root, 'far.vob'), packets[0]!], { home: far });
    for (const [name, bytes] of Object.entries(files)) {
      const r = await ok(['cat', name], { home: far, env });
      expect(sha256(r.raw), name).toBe(sha256(bytes));
    }
    const replicas = async (h: string) =>
      (await json<{ name: string; oid: string; publicKey: string }[]>(['lsreplica'], { home: h, env })).map(({ name, oid, publicKey }) => ({
        name,
        oid,
        publicKey,
      }));
    expect(await replicas(far)).toEqual(await replicas(home));

    // The database went as runs of pages, some compressed and some not, covering it exactly.
    const parts: [number, number][] = [];
    const chunks: { offset: number; bytes: Buffer }[] = [];
    let size = 0;
    const header = readPacketHeaderInfo(packets[0]!).header;
    const skip = async (): Promise<void> => {};
    await readPacketStream(packets[0]!, () => header.extra!.senderPublicKey as string, {
      ops() {},
      small() {},
      delta() {},
      blob: skip,
      stored: skip,
      database: skip,
      async databasePart(total, offset, length, bytes) {
        size = total;
        parts.push([offset, length]);
        let at = offset;
        for await (const b of bytes) {
          chunks.push({ offset: at, bytes: Buffer.from(b) });
          at += b.length;
        }
      },
      poolFile: skip,
      replicaKey() {},
    });
    parts.sort((a, b) => a[0] - b[0]);
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.reduce((at, [offset, length]) => (offset === at ? at + length : NaN), 0)).toBe(size);
    // Read whole (lspacket, readPacket), the same database.
    const database = Buffer.alloc(size);
    for (const c of chunks) c.bytes.copy(database, c.offset);
    const whole = readPacket(packets[0]!, () => header.extra!.senderPublicKey as string);
    expect(sha256(Buffer.from(whole.body.creation!.database))).toBe(sha256(database));

    // A byte changed in the database's last block (the body's last bytes): refused, nothing left.
    const damaged = join(root, 'damaged');
    const bytes = readFileSync(packets[0]!);
    bytes[bytes.length - 10]! ^= 0x40;
    writeFileSync(damaged, bytes);
    const refused = await msite(['mkreplica', '--import', '--tag', '/vobs/dam', join(root, 'dam.vob'), damaged], { home: far });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/body checksum mismatch/);
    expect(existsSync(join(root, 'dam.vob'))).toBe(false);
  });

  it('one written in format 4 (the database whole in the compressed section) still makes a replica', async () => {
    const root = tempDir();
    const packet = join(root, 'repl_boston_hub_v4');
    copyFileSync(join(FIXTURES, 'creation-packet-v4', 'repl_boston_hub_v4'), packet);
    expect(readPacketHeaderInfo(packet).format).toEqual({ major: 4, minor: 0 });
    const home = join(root, 'home');
    await ok(['mkreplica', '--import', '--tag', '/vobs/fx', join(root, 'far.vob'), packet], { home });
    const env = { MSITE_VOB: '/vobs/fx' };
    expect((await ok(['cat', 'a.txt'], { home, env })).stdout).toBe('hello\n');
    expect(sha256((await ok(['cat', 'b.bin'], { home, env })).raw)).toBe(
      '56a3b6ba40d8d105333e09f71db3e2e4064568f1df65635c88c7d8a422367a80',
    );
    const seq = Array.from({ length: 30000 }, (_, i) => `${i + 1}\n`).join('');
    expect((await ok(['cat', 'c.txt'], { home, env })).stdout).toBe(seq);
    const replicas = await json<{ name: string; self: boolean }[]>(['lsreplica'], { home, env });
    expect(replicas.map((r) => `${r.name}${r.self ? '*' : ''}`).sort()).toEqual(['boston_hub', 'far_hub*']);
  });
});
