import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardState } from '../../src/site/dashboardState.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

const snapshotOf = (s: Site) => dashboardState(SiteHome.locate(s.home, {}, s.home));

describe('dashboard state', () => {
  it('lag by lsepoch, a deferred packet with what it lacks, and a rename with its remedy until the master renames', async () => {
    const root = tempDir('msite-dash-state-');
    const [boston, sanfran] = (await family(root, ['boston_hub', 'sanfran_hub'])) as [Site, Site];
    await boston.run('mklbtype', 'V2.0');
    await sanfran.run('mklbtype', 'V2.0');
    await boston.run('syncreplica', '--import', ...(await sanfran.exportTo('boston_hub')));
    // Two packets in a row from sanfran; only the second reaches boston's bay: it waits for the first.
    await sanfran.run('mklbtype', 'A');
    const [first] = await sanfran.exportTo('boston_hub');
    await sanfran.run('mklbtype', 'B');
    const [second] = await sanfran.exportTo('boston_hub');
    const bay = join(boston.home, 'shipping', 'ms_ship', 'incoming');
    mkdirSync(bay, { recursive: true });
    copyFileSync(second!, join(bay, basename(second!)));

    const s = snapshotOf(boston);
    expect(s.problems).toEqual([]);
    const [vob] = s.vobs;
    expect(vob!.replicas.map((r) => [r.name, r.self])).toEqual([
      ['boston_hub', true],
      ['sanfran_hub', false],
    ]);
    const lsepoch = await boston.json<Record<string, Record<string, number>>>('lsepoch');
    const sibling = vob!.siblings[0]!;
    expect(sibling.row).toEqual(lsepoch['sanfran_hub']);
    // boston's own V2.0 has not been sent to sanfran.
    expect(sibling.lagOps).toBe(lsepoch['boston_hub']!['boston_hub']! - lsepoch['sanfran_hub']!['boston_hub']!);
    expect(sibling.lagOps).toBeGreaterThan(0);
    expect(sibling.lastImportAt).not.toBeNull();
    expect(vob!.packets.map((g) => [g.state, g.count])).toEqual([['deferred', 1]]);
    expect(vob!.packets[0]!.packets[0]!.reason).toMatch(/^requires ops up to \d+ from sanfran_hub; this replica has \d+$/);
    expect(vob!.openConflicts).toBe(1);
    expect(vob!.conflicts[0]).toMatchObject({
      kind: 'lbtype',
      originalName: 'V2.0',
      localName: 'sanfran_hub_V2.0',
      creator: 'sanfran_hub',
      master: 'sanfran_hub',
      masterHost: 'sanfran_hub-host',
      resolved: false,
      remedy: ['msite rename --vob /vobs/dev lbtype:V2.0 V2.0_sanfran_hub', 'msite sync_export_list --replicas /vobs/dev'],
    });

    // The remedy, run at the master: once its update is imported, the names agree.
    await sanfran.run('rename', 'lbtype:V2.0', 'V2.0_sanfran_hub');
    await boston.run('syncreplica', '--import', first!);
    await boston.run('syncreplica', '--import', '--receive');
    await boston.run('syncreplica', '--import', ...(await sanfran.exportTo('boston_hub')));
    const after = snapshotOf(boston).vobs[0]!;
    expect(after.openConflicts).toBe(0);
    expect(after.conflicts[0]).toMatchObject({ localName: 'V2.0_sanfran_hub', resolved: true, remedy: [] });
    expect(after.packets).toEqual([]);
  });
});
