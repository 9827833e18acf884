import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

describe('replica objects, epochs and packets through the CLI', () => {
  const root = tempDir();
  /** A family of three of this test's own. */
  const sites = async () =>
    (await family(mkdtempSync(join(root, 'case-')), ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];

  it('lsreplica --json lists every replica with its host and master', async () => {
    const [, sanfran] = await sites();
    expect(await sanfran.json('lsreplica')).toEqual([
      expect.objectContaining({ name: 'boston_hub', host: expect.any(String), master: 'boston_hub', self: false }),
      expect.objectContaining({ name: 'sanfran_hub', host: 'sanfran_hub-host', master: 'boston_hub', self: true }),
      expect.objectContaining({ name: 'bangalore', host: 'bangalore-host', master: 'boston_hub', self: false }),
    ]);
  });

  it('chreplica and rename replica at the master replicate by OID', async () => {
    const [boston, sanfran, bangalore] = await sites();
    await boston.run('chreplica', '--host', 'blr2', 'bangalore');
    await boston.run('rename', 'replica:sanfran_hub', 'sf_hub');
    for (const s of [sanfran, bangalore])
      await s.run('syncreplica', '--import', ...(await boston.exportTo(s === sanfran ? 'sf_hub' : 'bangalore')));
    expect((await bangalore.json<{ name: string; host: string }[]>('lsreplica')).map((r) => `${r.name}@${r.host}`)).toEqual([
      expect.stringMatching(/^boston_hub@/),
      'sf_hub@sanfran_hub-host',
      'bangalore@blr2',
    ]);
    expect((await sanfran.try('chreplica', '--host', 'x', 'bangalore')).stderr).toMatch(
      /Unable to perform operation "chreplica" in replica "sf_hub"/,
    );
  });

  it('lsepoch --json shows the own row and estimates; chepoch sets an estimate', async () => {
    const [boston] = await sites();
    const epochs = await boston.json<Record<string, Record<string, number>>>('lsepoch');
    expect(Object.keys(epochs).sort()).toEqual(['bangalore', 'boston_hub', 'sanfran_hub']);
    expect(epochs.bangalore!.boston_hub).toBe(epochs.boston_hub!.boston_hub);
    expect((await boston.run('chepoch', '--force', 'bangalore', 'boston_hub=3')).stdout).toContain('Epoch row successfully set.');
    expect((await boston.json<Record<string, Record<string, number>>>('lsepoch', 'bangalore')).bangalore!.boston_hub).toBe(3);
    expect((await boston.try('chepoch', '--force', 'boston_hub', 'boston_hub=3')).stderr).toMatch(
      /actual row of this replica cannot be changed/,
    );
    expect((await boston.try('chepoch', 'bangalore', 'boston_hub=3')).status).toBe(2);
    expect((await boston.run('lsepoch')).stdout).toMatch(
      /^For VOB replica "\/vobs\/dev":\nOplog IDs for row "boston_hub" \(@ .*\):\n oid:[0-9a-f-]+=\d+ \(/,
    );
  });

  it('lspacket says what a packet is and whether it is importable here, as import would', async () => {
    const [boston, , bangalore] = await sites();
    await boston.run('mklbtype', 'P1');
    const packets = await boston.exportTo('bangalore');
    const [info] = await bangalore.json<Record<string, unknown>[]>('lspacket', ...packets);
    expect(info).toMatchObject({
      kind: 'update',
      origin: 'boston_hub',
      targets: ['bangalore'],
      fragment: '1 of 1',
      importable: true,
      reason: null,
    });
    const text = (await bangalore.run('lspacket', '--dump', packets[0]!)).stdout;
    expect(text).toContain('Packet type: Update');
    expect(text).toMatch(/\d+: op=mktype rep=boston_hub id=\d+/);
    expect(text).toMatch(/Packet contains a total of \d+ entries\./);
    const diagnosis = (await bangalore.run('syncreplica', '--import', '--diagnose', ...packets)).stdout;
    expect(diagnosis).toContain('importable');
    expect((await bangalore.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).not.toContain('P1');
    await bangalore.run('syncreplica', '--import', ...packets);
  });

  it('fragments: --maxsize splits the export, the fragments apply in sequence, --limit holds the rest back', async () => {
    const [boston, , bangalore] = await sites();
    await boston.run('mklbtype', 'P1');
    await boston.run('mklbtype', ...Array.from({ length: 30 }, (_, i) => `F${i}`));
    const all = (
      await boston.json<{ packets: string[] }>(
        'syncreplica',
        '--export',
        '--out',
        boston.outbox,
        '--maxsize',
        '1k',
        '--limit',
        '2',
        'bangalore',
      )
    ).packets;
    expect(all).toHaveLength(2);
    const rest = (
      await boston.json<{ packets: string[] }>('syncreplica', '--export', '--out', boston.outbox, '--maxsize', '1k', 'bangalore')
    ).packets;
    expect(rest.length).toBeGreaterThan(0);
    const infos = await bangalore.json<{ fragment: string }[]>('lspacket', ...all);
    expect(infos[0]!.fragment).toMatch(/^1 of \d+$/);
    await bangalore.run('syncreplica', '--import', ...[...rest, ...all].reverse());
    expect((await bangalore.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).toEqual(
      expect.arrayContaining(['F0', 'F29', 'P1']),
    );
  });

  it('rmreplica is refused while the replica masters anything; chmaster --all --obsolete-replica moves it off', async () => {
    const [boston, sanfran, bangalore] = await sites();
    await bangalore.run('mklbtype', 'BLR_TYPE');
    await boston.run('syncreplica', '--import', ...(await bangalore.exportTo('boston_hub')));
    const refused = await boston.try('rmreplica', 'bangalore');
    expect(refused.stderr).toMatch(
      /cannot remove replica "bangalore": it still masters 1 object \(move them with chmaster --all --obsolete-replica bangalore NEW-MASTER\)/,
    );
    expect((await sanfran.try('chmaster', '-all', '-obsolete_replica', 'bangalore', 'boston_hub')).stderr).toMatch(
      /run chmaster --all at the new master replica "boston_hub"/,
    );
    await boston.run('chmaster', '-all', '-obsolete_replica', 'bangalore', 'boston_hub');
    expect((await boston.json<{ master: string }>('describe', 'lbtype:BLR_TYPE')).master).toBe('boston_hub');
    await boston.run('rmreplica', 'bangalore');
    expect((await boston.json<{ name: string; removed: boolean }[]>('lsreplica')).find((r) => r.name === 'bangalore')!.removed).toBe(true);
    await sanfran.run('syncreplica', '--import', ...(await boston.exportTo('sanfran_hub')));
    expect((await sanfran.json<{ master: string }>('describe', 'lbtype:BLR_TYPE')).master).toBe('boston_hub');
  });
});

describe('syncreplica --import --receive and lspacket read the incoming storage bays', () => {
  it('applies what it can, deletes applied packets, keeps waiting ones', async () => {
    const root = tempDir();
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    const incoming = join(bangalore.home, 'shipping', 'ms_ship', 'incoming');
    mkdirSync(incoming, { recursive: true });
    await boston.run('mklbtype', 'R1');
    const [p1] = await boston.exportTo('bangalore');
    await boston.run('mklbtype', 'R2');
    const [p2] = await boston.exportTo('bangalore');
    copyFileSync(p2!, join(incoming, basename(p2!)));
    expect((await bangalore.json<{ importable: boolean }[]>('lspacket')).map((p) => p.importable)).toEqual([false]);
    const waiting = await bangalore.run('syncreplica', '--import', '--receive');
    expect(waiting.stdout).toContain('packet depends on changes not yet received');
    expect(readdirSync(incoming)).toHaveLength(1);
    copyFileSync(p1!, join(incoming, basename(p1!)));
    // A creation packet in the bay is not an update to import: it stays, and does not fail the run.
    const creation = readdirSync(join(root, 'bangalore-creation'))[0]!;
    copyFileSync(join(root, 'bangalore-creation', creation), join(incoming, creation));
    await bangalore.run('syncreplica', '-import', '-receive');
    expect(readdirSync(incoming)).toEqual([creation]);
    expect((await bangalore.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).toEqual(['R1', 'R2']);
  });
});
