import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { readPacketHeaderInfo } from '../../src/packet/packetFile.js';
import { importPackets } from '../../src/replication/importPackets.js';
import { Vob } from '../../src/vob/vob.js';
import { family, site, type Site } from '../helpers/sites.js';
import { snapshot } from '../helpers/snapshot.js';

describe('packets that must be refused leave the VOB unchanged and the packet in place', () => {
  const root = tempDir();
  let boston: Site;
  let bangalore: Site;
  let packet: string;
  let original: Buffer;
  const vobDir = () => join(root, 'bangalore.vob');

  beforeAll(async () => {
    const sites = await family(root, ['boston_hub', 'sanfran_hub', 'bangalore']);
    boston = sites[0]!;
    bangalore = sites[2]!;
    await boston.run('mklbtype', 'A', 'B', 'C');
    packet = (await boston.exportTo('bangalore'))[0]!;
    original = readFileSync(packet!);
  });

  async function expectRefused(path: string, reason: RegExp): Promise<void> {
    const before = snapshot(vobDir());
    const bytes = readFileSync(path);
    const r = await bangalore.try('syncreplica', '--import', path);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(reason);
    expect(r.stderr).toMatch(/^msite: error: 1 of 1 packet was not applied/);
    expect(snapshot(vobDir())).toEqual(before);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  }

  function variant(name: string, bytes: Buffer): string {
    const dir = join(root, 'variants');
    mkdirSync(dir, { recursive: true });
    const p = join(dir, `${name}_${basename(packet)}`);
    writeFileSync(p, bytes);
    return p;
  }

  it('one flipped byte anywhere', async () => {
    const positions = new Set([
      0,
      5,
      9,
      13,
      20,
      60,
      Math.floor(original.length / 3),
      Math.floor(original.length / 2),
      original.length - 70,
      original.length - 1,
    ]);
    for (const pos of positions) {
      const bytes = Buffer.from(original);
      bytes[pos] = bytes[pos]! ^ 0x20;
      await expectRefused(
        variant(`flip${pos}`, bytes),
        /was not applied to VOB \/vobs\/dev: .*(packet|damaged|signature|checksum|header|truncated)/i,
      );
    }
  });

  it('one flipped byte at every position of the header and signature, and across the body (in-process)', async () => {
    const info = readPacketHeaderInfo(packet);
    const positions = [
      ...Array.from({ length: info.bodyOffset }, (_, i) => i),
      ...Array.from({ length: 64 }, (_, i) => info.bodyOffset + Math.floor(((original.length - info.bodyOffset) * i) / 64)),
    ];
    const vob = Vob.open(vobDir());
    try {
      const before = snapshot(vobDir());
      for (const pos of positions) {
        const bytes = Buffer.from(original);
        bytes[pos] = bytes[pos]! ^ 0x01;
        const p = variant('lib', bytes);
        const [outcome] = await importPackets(vob, [p]);
        expect(
          outcome!.result === 'refused' || outcome!.result === 'not-applicable',
          `flip at ${pos}: ${outcome!.result} ${outcome!.reason}`,
        ).toBe(true);
      }
      expect(snapshot(vobDir())).toEqual(before);
    } finally {
      vob.close();
    }
  });

  it('a truncated file', async () => {
    for (const len of [0, 10, Math.floor(original.length / 2), original.length - 1]) {
      await expectRefused(variant(`trunc${len}`, original.subarray(0, len)), /was not applied/);
    }
  });

  it("another family's packet", async () => {
    const other = site(root, 'elsewhere');
    await other.run('mkvob', '--tag', '/vobs/other', '--replica', 'bangalore', join(root, 'other.vob'));
    const dir = join(root, 'other-creation');
    mkdirSync(dir);
    await other.json('mkreplica', '--export', '--out', dir, 'h:boston_hub');
    await other.run('mklbtype', 'X');
    const [p] = await other.exportTo('boston_hub');
    await expectRefused(p!, /packet belongs to VOB family [0-9a-f-]+, not to this VOB's family/);
  });

  it('an unknown signer', async () => {
    const db = new BetterSqlite3(join(root, 'bangalore.vob', 'vob.db'));
    const key = db.prepare("SELECT public_key FROM replica WHERE name = 'boston_hub'").pluck().get() as string;
    db.prepare("UPDATE replica SET public_key = NULL WHERE name = 'boston_hub'").run();
    db.close();
    try {
      await expectRefused(variant('unsigned', original), /signed by replica boston_hub .* unknown here/);
    } finally {
      const db2 = new BetterSqlite3(join(root, 'bangalore.vob', 'vob.db'));
      db2.prepare("UPDATE replica SET public_key = ? WHERE name = 'boston_hub'").run(key);
      db2.close();
    }
  });

  it('a packet for another replica', async () => {
    const [p] = await boston.exportTo('sanfran_hub');
    await expectRefused(p!, /Packet is not applicable to any local replicas \(it is for sanfran_hub\)/);
  });

  it('an older incarnation', async () => {
    const db = new BetterSqlite3(join(root, 'bangalore.vob', 'vob.db'));
    const bostonOid = db.prepare("SELECT oid FROM replica WHERE name = 'boston_hub'").pluck().get() as string;
    db.prepare('INSERT OR REPLACE INTO incarnation (replica, value) VALUES (?, ?)').run(bostonOid, Date.now() + 86_400_000);
    db.close();
    try {
      await expectRefused(variant('old', original), /Replica incarnation for "boston_hub" is old/);
    } finally {
      const db2 = new BetterSqlite3(join(root, 'bangalore.vob', 'vob.db'));
      db2.prepare('DELETE FROM incarnation WHERE replica = ?').run(bostonOid);
      db2.close();
    }
  });

  it('after all that, the untouched packet applies', async () => {
    const copy = variant('good', original);
    // Into a copy of the VOB as the refusals left it, so the shared one stays without the packet.
    const vob = join(root, `applied-${Date.now()}.vob`);
    cpSync(vobDir(), vob, { recursive: true });
    await bangalore.run('syncreplica', '--vob', vob, '--import', copy);
    expect((await bangalore.json<{ name: string }[]>('lstype', '--vob', vob, '--kind', 'lbtype')).map((t) => t.name)).toEqual([
      'A',
      'B',
      'C',
    ]);
  });
});
