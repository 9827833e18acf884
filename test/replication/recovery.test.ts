import { cpSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

const lbtypes = async (s: Site) => (await s.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name).sort();

describe('recovery', () => {
  it('self-healing: a lost packet is noticed from the facts a later packet carries, and resent', async () => {
    const root = tempDir();
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    for (const s of [boston, bangalore]) await s.run('chreplica', '--grace', '0');
    await boston.run('mklbtype', 'LOST');
    for (const p of await boston.exportTo('bangalore')) unlinkSync(p); // the packet never arrives
    await boston.run('mklbtype', 'AFTER');
    const p2 = await boston.exportTo('bangalore');
    const waiting = await bangalore.try('syncreplica', '--import', ...p2);
    expect(waiting.stdout).toContain('packet depends on changes not yet received');
    // bangalore's next packet (nothing new to send: a status packet) tells boston what it has.
    const status = await bangalore.exportTo('boston_hub');
    expect(status).toHaveLength(1);
    await boston.run('syncreplica', '--import', ...status);
    const resend = await boston.exportTo('bangalore');
    await bangalore.run('syncreplica', '--import', ...resend, ...p2);
    expect(await lbtypes(bangalore)).toEqual(['AFTER', 'LOST']);
  });

  it('a packet waiting here makes the next export a status packet, even within the grace period', async () => {
    const root = tempDir();
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    await boston.run('chreplica', '--grace', '0');
    await boston.run('syncreplica', '--import', ...(await bangalore.exportTo('boston_hub'))); // a recent export: no status packet due by time
    expect(await bangalore.exportTo('boston_hub')).toEqual([]);
    await boston.run('mklbtype', 'LOST');
    for (const p of await boston.exportTo('bangalore')) unlinkSync(p);
    await boston.run('mklbtype', 'AFTER');
    const p2 = await boston.exportTo('bangalore');
    await bangalore.try('syncreplica', '--import', ...p2);
    const status = await bangalore.exportTo('boston_hub');
    expect(status).toHaveLength(1);
    await boston.run('syncreplica', '--import', ...status);
    await bangalore.run('syncreplica', '--import', ...(await boston.exportTo('bangalore')), ...p2);
    expect(await lbtypes(bangalore)).toEqual(['AFTER', 'LOST']);
  });

  it('recoverpacket resets the estimate so the next export resends', async () => {
    const root = tempDir();
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    const since = new Date(Date.now() - 1).toISOString();
    await boston.run('mklbtype', 'GONE');
    for (const p of await boston.exportTo('bangalore')) unlinkSync(p);
    await boston.run('recoverpacket', '--since', since, 'bangalore');
    await bangalore.run('syncreplica', '--import', ...(await boston.exportTo('bangalore')));
    expect(await lbtypes(bangalore)).toEqual(['GONE']);
  });

  it('restorereplica: siblings resend what the restored replica lost, and old packets are refused', async () => {
    const root = tempDir();
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    const vob = join(root, 'bangalore.vob');
    await bangalore.run('mklbtype', 'BEFORE_BACKUP');
    cpSync(vob, join(root, 'backup.vob'), { recursive: true });
    await bangalore.run('mklbtype', 'AFTER_BACKUP');
    const old = await bangalore.exportTo('boston_hub');
    await boston.run('syncreplica', '--import', ...old);

    // The disk dies; the backup comes back.
    rmSync(vob, { recursive: true });
    cpSync(join(root, 'backup.vob'), vob, { recursive: true });
    expect(await lbtypes(bangalore)).toEqual(['BEFORE_BACKUP']);
    expect((await bangalore.json<{ waitingFor: string[] }>('restorereplica')).waitingFor).toEqual(['boston_hub']);
    expect((await bangalore.try('mklbtype', 'TOO_SOON')).stderr).toMatch(/is being restored: only imports may change it/);
    expect((await bangalore.run('lsreplica', '--long')).stdout).toMatch(
      /replica:bangalore \(this replica\) .* restoring: waiting for boston_hub/,
    );

    await boston.run('syncreplica', '--import', ...(await bangalore.exportTo('boston_hub')));
    const stale = await boston.try('syncreplica', '--import', ...old);
    expect(stale.stdout).toMatch(/Replica incarnation for "bangalore" is old/);

    await bangalore.run('syncreplica', '--import', ...(await boston.exportTo('bangalore')));
    expect(await lbtypes(bangalore)).toEqual(['AFTER_BACKUP', 'BEFORE_BACKUP']);
    expect((await bangalore.json<{ restoringFrom?: string[] }[]>('lsreplica')).every((r) => r.restoringFrom === undefined)).toBe(true);
    await bangalore.run('mklbtype', 'NEW');
    await boston.run('syncreplica', '--import', ...(await bangalore.exportTo('boston_hub')));
    expect(await lbtypes(boston)).toEqual(['AFTER_BACKUP', 'BEFORE_BACKUP', 'NEW']);
  });
});
