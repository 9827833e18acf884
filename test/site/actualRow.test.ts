import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';
import { identify, peerUrl, startDaemon } from '../helpers/loopbackSites.js';

/**
 * chepoch --actual and lsepoch --actual between two sites whose daemons run on loopback: the
 * sibling's actual row is asked of its site over the peer channel (mutual TLS, PEER keys only).
 */

type Matrix = Record<string, Record<string, number>>;
const lbtypes = async (s: Site) => (await s.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name).sort();

async function sites(): Promise<{ boston: Site; sanfran: Site; bangalore: Site; keys: Map<Site, string>; url: string }> {
  const root = tempDir('msite-actual-');
  const [boston, sanfran, bangalore] = (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
  await boston.run('chreplica', '--host', 'boston_hub-host', 'boston_hub');
  for (const s of [sanfran, bangalore]) await s.run('syncreplica', '--import', ...(await boston.exportTo(s.name)));
  const shown = await identify([boston, sanfran, bangalore]);
  const keys = new Map([...shown].map(([s, v]) => [s, v.publicKey]));
  const url = peerUrl(await startDaemon(bangalore));
  await bangalore.run('site', 'peer', 'boston_hub-host', 'https://127.0.0.1:1', keys.get(boston)!);
  return { boston, sanfran, bangalore, keys, url };
}

describe('chepoch --actual and lsepoch --actual over the peer channel', () => {
  it('a lost packet: chepoch --actual lowers the estimate to what the sibling has, and the next export resends', async () => {
    const { boston, bangalore, keys, url } = await sites();
    await boston.run('site', 'peer', 'bangalore-host', url, keys.get(bangalore)!);
    await boston.run('mklbtype', 'LOST');
    for (const p of await boston.exportTo('bangalore')) unlinkSync(p);
    const estimate = (await boston.json<Matrix>('lsepoch', 'bangalore')).bangalore!;
    const actual = (await bangalore.json<Matrix>('lsepoch', 'bangalore')).bangalore!;
    expect(estimate.boston_hub).toBeGreaterThan(actual.boston_hub!);

    expect(await boston.json<Matrix>('lsepoch', '--actual', 'bangalore')).toEqual({ bangalore: actual });
    expect((await boston.run('lsepoch', '--actual', 'bangalore')).stdout).toMatch(/^Oplog IDs for row "bangalore" \(@ bangalore-host\):$/m);

    // --raise-only never lowers: the estimate stays.
    expect((await boston.run('chepoch', '--actual', '--raise-only', 'bangalore')).stdout).toBe(
      'Row "bangalore" already matches its actual row.\n',
    );
    expect((await boston.json<Matrix>('lsepoch', 'bangalore')).bangalore).toEqual(estimate);

    const changed = (await boston.run('chepoch', '--actual', 'bangalore')).stdout;
    expect(changed).toContain(`Entry for boston_hub changed from: ${estimate.boston_hub} to ${actual.boston_hub}`);
    expect((await boston.json<Matrix>('lsepoch', 'bangalore')).bangalore).toEqual(actual);
    await bangalore.run('syncreplica', '--import', ...(await boston.exportTo('bangalore')));
    expect(await lbtypes(bangalore)).toEqual(['LOST']);
  });

  it('sync_export_list -update asks the sibling first, so a lost packet is sent again at once', async () => {
    const { boston, bangalore, keys, url } = await sites();
    await boston.run('site', 'peer', 'bangalore-host', url, keys.get(bangalore)!);
    await boston.run('mklbtype', 'LOST_AGAIN');
    for (const p of await boston.exportTo('bangalore')) unlinkSync(p);
    const actual = (await bangalore.json<Matrix>('lsepoch', 'bangalore')).bangalore!;
    await boston.run('sync_export_list', '-quiet', '1', '-ship', '-replicas', 'bangalore', '-update');
    expect((await boston.json<Matrix>('lsepoch', 'bangalore')).bangalore).not.toEqual(actual);
    const outgoing = join(boston.home, 'shipping', 'ms_ship', 'outgoing');
    const packets = readdirSync(outgoing).filter((n) => n.startsWith('sync_'));
    expect(packets.length).toBe(1);
    await bangalore.run('syncreplica', '--import', join(outgoing, packets[0]!));
    expect(await lbtypes(bangalore)).toEqual(['LOST_AGAIN']);
  });

  it('a site that is not a PEER of the sibling is refused, and nothing changes', async () => {
    const { sanfran, bangalore, keys, url } = await sites();
    // sanfran names bangalore, but bangalore does not name sanfran.
    await sanfran.run('site', 'peer', 'bangalore-host', url, keys.get(bangalore)!);
    const before = await sanfran.json<Matrix>('lsepoch');
    const refused = await sanfran.try('chepoch', '--actual', 'bangalore');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(
      /^msite: error: bangalore-host: refused: the key ed25519:\S+ is not a PEER of this site \(bangalore-host must have this site's key in a PEER line/,
    );
    expect(await sanfran.json<Matrix>('lsepoch')).toEqual(before);

    // And a sibling this site has no PEER line for is not asked at all.
    const unknown = await bangalore.try('lsepoch', '--actual', 'sanfran_hub');
    expect(unknown.stderr).toMatch(/PEER line for host not found: "sanfran_hub-host"/);
  });
});
