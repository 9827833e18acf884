import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { isSealedPacket, sealPacket } from '../../src/packet/sealedPacket.js';
import { tempDir } from '../helpers/cli.js';
import { family, site, type Site } from '../helpers/sites.js';

/**
 * `--out … --encrypt-for HOST`: packets for removable media, sealed for the site that will import
 * them, so a lost disk holds ciphertext only. The destination opens them with its age key before it
 * verifies anything; a changed file, or one sealed for another site, is refused and changes nothing.
 */

type Shown = { publicKey: string; recipient: string };
const lbtypes = async (s: Site): Promise<string[]> => (await s.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name);

describe('--encrypt-for', () => {
  it('syncreplica --export --out --encrypt-for: sealed on the medium; imported at its site; a changed copy or another site’s is refused', async () => {
    const root = tempDir('msite-encrypt-for-');
    const [boston, sanfran] = (await family(root, ['boston_hub', 'sanfran_hub'])) as [Site, Site];
    const shown = new Map<Site, Shown>();
    for (const s of [boston, sanfran]) {
      await s.run('site', 'init', '--host', `${s.name}-host`);
      shown.set(s, await s.json<Shown>('site', 'show'));
    }
    const marker = `LOSTDISK_${Date.now().toString(36)}`;
    await boston.run('mklbtype', marker);
    const disk = join(root, 'disk');
    mkdirSync(disk);

    // No recipient for the host: a clear error, and nothing on the medium.
    await boston.run('site', 'peer', 'sanfran_hub-host', 'https://127.0.0.1:1', shown.get(sanfran)!.publicKey);
    const sealedExport = ['syncreplica', '--export', '--out', disk, '--encrypt-for', 'sanfran_hub-host', '-c', marker, 'sanfran_hub'];
    const none = await boston.try(...sealedExport);
    expect(none.status).toBe(1);
    expect(none.stderr).toBe(
      'msite: error: age recipient of host not found: "sanfran_hub-host" (--encrypt-for sanfran_hub-host seals the packets for it; give its recipient, as its msite site show prints it: msite site peer sanfran_hub-host URL PUBLIC-KEY RECIPIENT)\n',
    );
    expect(readdirSync(disk)).toEqual([]);
    const shipOnly = await boston.try('syncreplica', '--export', '--fship', '--encrypt-for', 'sanfran_hub-host', 'sanfran_hub');
    expect(shipOnly.status).toBe(2);

    await boston.run(
      'site',
      'peer',
      'sanfran_hub-host',
      'https://127.0.0.1:1',
      shown.get(sanfran)!.publicKey,
      shown.get(sanfran)!.recipient,
    );
    const { packets } = await boston.json<{ packets: string[] }>(...sealedExport);
    expect(packets.length).toBeGreaterThan(0);
    expect(readdirSync(disk).sort()).toEqual(packets.map((p) => p.split('/').pop()!).sort());
    for (const p of packets) {
      expect(p.startsWith(disk)).toBe(true);
      expect(isSealedPacket(p)).toBe(true);
      expect(readFileSync(p).includes(marker)).toBe(false);
    }

    // Changed on the disk: refused with why, the file stays, nothing is imported.
    const bad = join(root, 'bad');
    mkdirSync(bad);
    const damaged = join(bad, packets[0]!.split('/').pop()!);
    const bytes = readFileSync(packets[0]!);
    bytes[bytes.length - 20]! ^= 0x40;
    writeFileSync(damaged, bytes);
    const tampered = await sanfran.try('syncreplica', '--import', damaged);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(
      new RegExp(`was not applied to VOB /vobs/dev: encrypted packet ${damaged} was changed or cut short on its way`),
    );
    expect(tampered.stderr).toMatch(/^msite: error: /);
    expect(readFileSync(damaged).equals(bytes)).toBe(true);
    expect(await lbtypes(sanfran)).not.toContain(marker);

    // Sealed for another site: said so, nothing imported.
    const other = join(root, 'other');
    mkdirSync(other);
    await boston.run('mklbtype', 'LATER');
    const [plain] = await boston.exportTo('sanfran_hub');
    const stranger = await identityToRecipient(await generateX25519Identity());
    const foreign = join(other, plain!.split('/').pop()!);
    await sealPacket(plain!, foreign, [stranger]);
    const elsewhere = await sanfran.try('syncreplica', '--import', foreign);
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stdout).toContain(`packet ${foreign} is encrypted for another site: this site's key does not open it`);
    expect(await lbtypes(sanfran)).not.toContain(marker);
    const listed = await sanfran.json<{ path: string; state: string; reason: string }[]>('lspacket', foreign);
    expect(listed).toMatchObject([{ path: foreign, state: 'refused', reason: expect.stringMatching(/encrypted for another site/) }]);

    // The disk itself: lspacket names the sealed files and reads their headers; import applies them.
    const shownPackets = await sanfran.json<{ path: string; comment: string; importable: boolean }[]>('lspacket', disk);
    expect(shownPackets.map((p) => [p.path, p.comment, p.importable])).toEqual(packets.map((p) => [p, marker, true]));
    const imported = await sanfran.run('syncreplica', '--import', disk);
    expect(imported.stdout).toMatch(new RegExp(`^Applied ${packets[0]}: `));
    expect(await lbtypes(sanfran)).toContain(marker);
  });

  it('mkreplica --export --out --encrypt-for: the new site imports its sealed creation packet', async () => {
    const root = tempDir('msite-encrypt-repl-');
    const [boston] = (await family(root, ['boston_hub'])) as [Site];
    const tokyo = site(root, 'tokyo');
    await tokyo.run('site', 'init', '--host', 'tokyo-host');
    const t = await tokyo.json<Shown>('site', 'show');
    await boston.run('site', 'init', '--host', 'boston_hub-host');
    await boston.run('site', 'peer', 'tokyo-host', 'https://127.0.0.1:1', t.publicKey, t.recipient);
    const disk = join(root, 'disk');
    mkdirSync(disk);
    const { packets } = await boston.json<{ packets: string[] }>(
      'mkreplica',
      '--export',
      '--out',
      disk,
      '--encrypt-for',
      'tokyo-host',
      'tokyo-host:tokyo',
    );
    expect(packets.every(isSealedPacket)).toBe(true);
    // A copy, as from a disk mounted elsewhere.
    const mounted = join(root, 'mounted');
    mkdirSync(mounted);
    copyFileSync(packets[0]!, join(mounted, packets[0]!.split('/').pop()!));
    await tokyo.run('mkreplica', '--import', '--tag', '/vobs/dev', join(root, 'tokyo.vob'), join(mounted, packets[0]!.split('/').pop()!));
    expect((await tokyo.json<{ name: string; self: boolean }[]>('lsreplica')).find((r) => r.self)?.name).toBe('tokyo');
  });
});
