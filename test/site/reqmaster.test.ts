import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';
import { identify, peerUrl, startDaemon } from '../helpers/loopbackSites.js';

/**
 * reqmaster between sites with their daemons on loopback: bangalore asks boston_hub's site for a
 * branch over the peer channel; the master changes mastership, exports an update and ships it at once.
 */

const incoming = (s: Site): string => join(s.home, 'shipping', 'ms_ship', 'incoming');
const packetsIn = (s: Site): string[] => (existsSync(incoming(s)) ? readdirSync(incoming(s)).filter((n) => n.startsWith('sync_')) : []);

async function until(what: string, done: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sites(): Promise<{ root: string; boston: Site; sanfran: Site; bangalore: Site }> {
  const root = tempDir('msite-reqmaster-');
  const [boston, sanfran, bangalore] = (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
  await boston.run('chreplica', '--host', 'boston_hub-host', 'boston_hub');
  await boston.run('mkdir', '--auto', 'src');
  writeFileSync(join(root, 'f1'), 'one\n');
  await boston.run('mkelem', '--auto', '--from', join(root, 'f1'), 'src/f');
  await boston.run('mkbrtype', 'dev');
  await boston.run('mkbrtype', 'rel');
  await boston.run('mkbranch', 'dev', 'src/f');
  await boston.run('mkbranch', 'rel', 'src/f');
  for (const s of [sanfran, bangalore]) await s.run('syncreplica', '--import', ...(await boston.exportTo(s.name)));

  const shown = await identify([boston, sanfran, bangalore]);
  const keys = new Map([...shown].map(([s, v]) => [s, v.publicKey]));
  const urls = new Map<Site, string>();
  for (const s of [boston, sanfran, bangalore]) urls.set(s, peerUrl(await startDaemon(s)));
  // boston and bangalore know each other; boston does not know sanfran.
  await boston.run('site', 'peer', 'bangalore-host', urls.get(bangalore)!, keys.get(bangalore)!);
  await bangalore.run('site', 'peer', 'boston_hub-host', urls.get(boston)!, keys.get(boston)!);
  await sanfran.run('site', 'peer', 'boston_hub-host', urls.get(boston)!, keys.get(boston)!);
  return { root, boston, sanfran, bangalore };
}

describe('reqmaster over the peer channel', () => {
  it('bangalore asks boston_hub for a branch; the ACL allows it; after the update arrives bangalore checks out on it', async () => {
    const { root, boston, bangalore } = await sites();
    await boston.run('reqmaster', '--enable');
    writeFileSync(join(root, 'acl'), '# replicas that may ask\nbangalore\n');
    await boston.run('reqmaster', '--acl', '--set', join(root, 'acl'));
    expect((await boston.run('reqmaster', '--acl', '--get')).stdout).toBe('bangalore\n');

    expect((await bangalore.try('checkout', 'src/f@@/main/dev')).stderr).toMatch(
      /Master replica of branch "src\/f@@\/main\/dev" is "boston_hub"/,
    );
    expect((await bangalore.run('reqmaster', '--list', 'src/f@@/main/dev')).stdout).toMatch(/would be granted by replica "boston_hub"/);
    const asked = await bangalore.run('reqmaster', 'src/f@@/main/dev');
    expect(asked.stdout).toBe(
      'Change of mastership at sibling replica "boston_hub" was successful. Mastership is in transit to the new master replica.\n',
    );
    // The master gave it away at once.
    expect((await boston.try('checkout', 'src/f@@/main/dev')).stderr).toMatch(
      /Master replica of branch "src\/f@@\/main\/dev" is "bangalore"/,
    );

    await until('the update is in bangalore’s incoming bay', () => packetsIn(bangalore).length > 0);
    await bangalore.run('syncreplica', '--import', '--receive');
    await bangalore.run('checkout', 'src/f@@/main/dev');
    writeFileSync(join(root, 'f2'), 'two\n');
    await bangalore.run('checkin', '--from', join(root, 'f2'), 'src/f');
    expect((await bangalore.try('cat', 'src/f@@/main/dev/1')).stdout).toBe('two\n');
  });

  it('a denied request says why and changes nothing at either site', async () => {
    const { root, boston, sanfran, bangalore } = await sites();
    const state = async () => ({
      boston: await boston.json('lsmaster'),
      bangalore: await bangalore.json('lsmaster'),
      bostonRow: await boston.json('lsepoch', 'boston_hub'),
      bangaloreRow: await bangalore.json('lsepoch', 'bangalore'),
    });
    await boston.run('lock', 'brtype:rel');
    const before = await state();

    const disabled = await bangalore.try('reqmaster', 'src/f@@/main/dev');
    expect(disabled.status).not.toBe(0);
    expect(disabled.stderr).toMatch(
      /^msite: error: Request for mastership denied: requests for mastership are disabled in replica "boston_hub" of VOB "\/vobs\/dev"/,
    );

    await boston.run('reqmaster', '--enable');
    const notListed = await bangalore.try('reqmaster', 'src/f@@/main/dev');
    expect(notListed.stderr).toMatch(
      /Request for mastership denied: replica "bangalore" is not in the access control list of replica "boston_hub"/,
    );

    writeFileSync(join(root, 'acl'), '*\n');
    await boston.run('reqmaster', '--acl', '--set', join(root, 'acl'));
    await boston.run('reqmaster', '--deny', 'brtype:rel');
    const denied = await bangalore.try('reqmaster', 'src/f@@/main/rel');
    expect(denied.stderr).toMatch(
      /Request for mastership denied: requests for mastership of branch "src\/f@@\/main\/rel" are denied at replica "boston_hub"/,
    );

    await boston.run('reqmaster', '--allow', 'brtype:rel');
    const locked = await bangalore.try('reqmaster', 'src/f@@/main/rel');
    expect(locked.stderr).toMatch(/Request for mastership denied: branch "src\/f@@\/main\/rel" is locked at replica "boston_hub"/);

    // sanfran is not a PEER of boston's site: refused before anything is looked at.
    const stranger = await sanfran.try('reqmaster', 'src/f@@/main/dev');
    expect(stranger.stderr).toMatch(
      /Request for mastership denied: the site of master replica "boston_hub" \(boston_hub-host\) does not accept requests from this site/,
    );

    const after = await state();
    expect(after).toEqual(before);
    expect(packetsIn(bangalore)).toEqual([]);
    expect((await bangalore.try('checkout', 'src/f@@/main/rel')).stderr).toMatch(
      /Master replica of branch "src\/f@@\/main\/rel" is "boston_hub"/,
    );
  });
});
