import { cpSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

const lbtypes = (s: Site) =>
  s
    .json<{ name: string }[]>('lstype', '--kind', 'lbtype')
    .map((t) => t.name)
    .sort();

describe('recovery', () => {
  it('self-healing: a lost packet is noticed from the facts a later packet carries, and resent', () => {
    const root = tempDir();
    const [boston, bangalore] = family(root, ['boston_hub', 'bangalore']) as [Site, Site];
    for (const s of [boston, bangalore]) s.run('chreplica', '--grace', '0');
    boston.run('mklbtype', 'LOST');
    for (const p of boston.exportTo('bangalore')) unlinkSync(p); // the packet never arrives
    boston.run('mklbtype', 'AFTER');
    const p2 = boston.exportTo('bangalore');
    const waiting = bangalore.try('syncreplica', '--import', ...p2);
    expect(waiting.stdout).toContain('packet depends on changes not yet received');
    // bangalore's next packet (nothing new to send: a status packet) tells boston what it has.
    const status = bangalore.exportTo('boston_hub');
    expect(status).toHaveLength(1);
    boston.run('syncreplica', '--import', ...status);
    const resend = boston.exportTo('bangalore');
    bangalore.run('syncreplica', '--import', ...resend, ...p2);
    expect(lbtypes(bangalore)).toEqual(['AFTER', 'LOST']);
  });

  it('a packet waiting here makes the next export a status packet, even within the grace period', () => {
    const root = tempDir();
    const [boston, bangalore] = family(root, ['boston_hub', 'bangalore']) as [Site, Site];
    boston.run('chreplica', '--grace', '0');
    boston.run('syncreplica', '--import', ...bangalore.exportTo('boston_hub')); // a recent export: no status packet due by time
    expect(bangalore.exportTo('boston_hub')).toEqual([]);
    boston.run('mklbtype', 'LOST');
    for (const p of boston.exportTo('bangalore')) unlinkSync(p);
    boston.run('mklbtype', 'AFTER');
    const p2 = boston.exportTo('bangalore');
    bangalore.try('syncreplica', '--import', ...p2);
    const status = bangalore.exportTo('boston_hub');
    expect(status).toHaveLength(1);
    boston.run('syncreplica', '--import', ...status);
    bangalore.run('syncreplica', '--import', ...boston.exportTo('bangalore'), ...p2);
    expect(lbtypes(bangalore)).toEqual(['AFTER', 'LOST']);
  });

  it('recoverpacket resets the estimate so the next export resends', () => {
    const root = tempDir();
    const [boston, bangalore] = family(root, ['boston_hub', 'bangalore']) as [Site, Site];
    const since = new Date(Date.now() - 1).toISOString();
    boston.run('mklbtype', 'GONE');
    for (const p of boston.exportTo('bangalore')) unlinkSync(p);
    boston.run('recoverpacket', '--since', since, 'bangalore');
    bangalore.run('syncreplica', '--import', ...boston.exportTo('bangalore'));
    expect(lbtypes(bangalore)).toEqual(['GONE']);
  });

  it('restorereplica: siblings resend what the restored replica lost, and old packets are refused', () => {
    const root = tempDir();
    const [boston, bangalore] = family(root, ['boston_hub', 'bangalore']) as [Site, Site];
    const vob = join(root, 'bangalore.vob');
    bangalore.run('mklbtype', 'BEFORE_BACKUP');
    cpSync(vob, join(root, 'backup.vob'), { recursive: true });
    bangalore.run('mklbtype', 'AFTER_BACKUP');
    const old = bangalore.exportTo('boston_hub');
    boston.run('syncreplica', '--import', ...old);

    // The disk dies; the backup comes back.
    rmSync(vob, { recursive: true });
    cpSync(join(root, 'backup.vob'), vob, { recursive: true });
    expect(lbtypes(bangalore)).toEqual(['BEFORE_BACKUP']);
    expect(bangalore.json<{ waitingFor: string[] }>('restorereplica').waitingFor).toEqual(['boston_hub']);
    expect(bangalore.try('mklbtype', 'TOO_SOON').stderr).toMatch(/is being restored: only imports may change it/);
    expect(bangalore.run('lsreplica', '--long').stdout).toMatch(/replica:bangalore \(this replica\) .* restoring: waiting for boston_hub/);

    boston.run('syncreplica', '--import', ...bangalore.exportTo('boston_hub'));
    const stale = boston.try('syncreplica', '--import', ...old);
    expect(stale.stdout).toMatch(/Replica incarnation for "bangalore" is old/);

    bangalore.run('syncreplica', '--import', ...boston.exportTo('bangalore'));
    expect(lbtypes(bangalore)).toEqual(['AFTER_BACKUP', 'BEFORE_BACKUP']);
    expect(bangalore.json<{ restoringFrom?: string[] }[]>('lsreplica').every((r) => r.restoringFrom === undefined)).toBe(true);
    bangalore.run('mklbtype', 'NEW');
    boston.run('syncreplica', '--import', ...bangalore.exportTo('boston_hub'));
    expect(lbtypes(boston)).toEqual(['AFTER_BACKUP', 'BEFORE_BACKUP', 'NEW']);
  });
});
