import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiteHome } from '../../src/site/siteHome.js';
import { takeVobLock } from '../../src/site/vobLock.js';
import { Vob } from '../../src/vob/vob.js';
import { startBinary, tempDir } from '../helpers/cli.js';
import { family, typeNames, type Site } from '../helpers/sites.js';

/**
 * sync_receive at one site: what it takes from the incoming bay, what it leaves, and its lock on each
 * VOB, which real processes (a receipt handler's and a scheduled run's) contend for.
 */

const incoming = (s: Site): string => join(s.home, 'shipping', 'ms_ship', 'incoming');
const packetsIn = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.startsWith('sync_'))
        .sort()
    : [];

/** boston_hub and bangalore, with `count` changes at boston each exported in its own packet to `dir` (bangalore's bay by default). */
async function twoSites(
  count: number,
  dir?: (i: number, s: Site) => string,
): Promise<{ root: string; boston: Site; bangalore: Site; packets: string[] }> {
  const root = tempDir('msite-receive-');
  const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
  mkdirSync(incoming(bangalore), { recursive: true });
  const packets: string[] = [];
  for (let i = 1; i <= count; i++) {
    await boston.run('mklbtype', `L${i}`);
    const out = dir?.(i, bangalore) ?? incoming(bangalore);
    mkdirSync(out, { recursive: true });
    packets.push(...(await boston.json<{ packets: string[] }>('syncreplica', '--export', '--out', out, 'bangalore')).packets);
  }
  return { root, boston, bangalore, packets };
}

function importsAt(s: Site): number {
  const vob = Vob.open(join(s.home, '..', `${s.name}.vob`), { readonly: true });
  try {
    return vob.q("SELECT count(*) FROM sync_record WHERE kind = 'import'").pluck().get() as number;
  } finally {
    vob.close();
  }
}

describe('msite sync_receive', () => {
  it('imports every packet in the bay, in any order, removes them, and a second run finds nothing', async () => {
    const { boston, bangalore, packets } = await twoSites(3);
    expect(packetsIn(incoming(bangalore)).length).toBe(3);
    const before = importsAt(bangalore);
    const r = await bangalore.try('sync_receive', '-quiet', '1');
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(await typeNames(bangalore, 'lbtype')).toEqual(await typeNames(boston, 'lbtype'));
    expect(importsAt(bangalore) - before).toBe(packets.length);
    expect(packetsIn(incoming(bangalore))).toEqual([]);
    expect((await bangalore.try('sync_receive')).status).toBe(0);
    expect(importsAt(bangalore) - before).toBe(packets.length);
  });

  it('a packet the handler cannot apply yet is deferred and kept; the scheduled run applies it once what it lacks has arrived', async () => {
    const { boston, bangalore, packets } = await twoSites(2, (i, s) => (i === 1 ? join(s.home, '..', 'late') : incoming(s)));
    const [first, second] = packets as [string, string];
    const handler = await bangalore.try('sync_receive', '-o', 'boston_hub-host', '-d', second, '-a', `${second}.order`, '-s', '-default');
    expect(handler.status).toBe(0);
    expect(handler.stderr).toMatch(/waits for changes not yet received/);
    expect(existsSync(second)).toBe(true);
    expect(await typeNames(bangalore, 'lbtype')).not.toContain(expect.stringMatching(/^L2=/));

    renameSync(first, join(incoming(bangalore), basename(first)));
    expect((await bangalore.try('sync_receive', '-quiet', '1')).status).toBe(0);
    expect(await typeNames(bangalore, 'lbtype')).toEqual(await typeNames(boston, 'lbtype'));
    expect(packetsIn(incoming(bangalore))).toEqual([]);
  });

  it('logs each run into -logdir, keeping the log only when a packet failed or -trace asks', async () => {
    const { bangalore, packets } = await twoSites(1);
    const logs = join(bangalore.home, '..', 'receive-logs');
    const logsIn = (): string[] => (existsSync(logs) ? readdirSync(logs) : []);
    expect((await bangalore.try('sync_receive', '-quiet', '1', '-logdir', logs)).status).toBe(0);
    expect(logsIn()).toEqual([]);

    expect((await bangalore.try('sync_receive', '-trace', '-logdir', logs)).status).toBe(0);
    expect(logsIn()).toEqual([expect.stringMatching(/^sync_receive\.\d{8}\.\d{6}\.\d{3}\.\d+\.log$/)]);
    rmSync(logs, { recursive: true });

    const bad = join(incoming(bangalore), basename(packets[0]!).replace(/_(\d+)$/, '_9$1'));
    writeFileSync(bad, 'not a packet');
    const failed = await bangalore.try('sync_receive', '-quiet', '1', '-logdir', logs);
    expect(failed.status).not.toBe(0);
    const [log] = logsIn();
    expect(log).toBeDefined();
    expect(readFileSync(join(logs, log!), 'utf8')).toContain(`error: ${bad}:`);
  });

  it('waits for every fragment of a packet before importing any of them', async () => {
    const root = tempDir('msite-fragments-');
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    mkdirSync(incoming(bangalore), { recursive: true });
    for (let i = 0; i < 30; i++) await boston.run('mklbtype', `F${i}`, '-c', 'x'.repeat(200));
    const { packets } = await boston.json<{ packets: string[] }>(
      'syncreplica',
      '--export',
      '--out',
      incoming(bangalore),
      '--maxsize',
      '2k',
      'bangalore',
    );
    expect(packets.length).toBeGreaterThan(1);
    const last = packets[packets.length - 1]!;
    const aside = join(root, 'aside');
    renameSync(last, aside);
    const waiting = await bangalore.json<{ waitingForFragments: string[]; vobs: unknown[] }>('sync_receive');
    expect(waiting.waitingForFragments.sort()).toEqual(packets.slice(0, -1).sort());
    expect(waiting.vobs).toEqual([]);
    renameSync(aside, last);
    await bangalore.run('sync_receive');
    expect(await typeNames(bangalore, 'lbtype')).toEqual(await typeNames(boston, 'lbtype'));
    expect(packetsIn(incoming(bangalore))).toEqual([]);
  });

  it('leaves a creation packet in the bay and tells the administrators once', async () => {
    const root = tempDir('msite-creation-');
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    mkdirSync(incoming(bangalore), { recursive: true });
    const { packets } = await boston.json<{ packets: string[] }>('mkreplica', '--export', '--out', incoming(bangalore), 'tokyo-host:tokyo');
    const log = join(root, 'notified');
    const program = join(root, 'notify.sh');
    writeFileSync(program, `#!/bin/sh\nprintf '%s|' "$@" >> ${log}; echo >> ${log}\n`, { mode: 0o755 });
    writeFileSync(join(bangalore.home, 'shipping.conf'), `ADMINISTRATOR ccadmin\nNOTIFICATION-PROGRAM ${program}\n`);
    for (let run = 0; run < 2; run++) {
      const r = await bangalore.try('sync_receive');
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`${packets[0]} is a replica-creation packet`);
    }
    expect(existsSync(packets[0]!)).toBe(true);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.length).toBe(1);
    expect(calls[0]).toMatch(/^-s\|msite sync_receive: replica-creation packet waiting\|-f\|[^|]+\|ccadmin\|$/);
  });

  it('one import per VOB across processes: a handler and a scheduled run started together wait for the holder; no packet is imported twice', async () => {
    const { boston, bangalore, packets } = await twoSites(3);
    const home = SiteHome.locate(bangalore.home, {}, process.cwd());
    const before = importsAt(bangalore);

    // Held by another live process (this one): -lockwait 0 fails at once, naming it, and changes nothing.
    const held = await takeVobLock(home, 'import:/vobs/dev', { waitMs: 0, command: 'test' });
    const refused = await bangalore.try('sync_receive', '-lockwait', '0');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(`^msite: error: import of VOB /vobs/dev is locked by process ${process.pid} \\(test, since .*\\)`),
    );
    expect(importsAt(bangalore)).toBe(before);

    // The handler (for the last packet) and the scheduled run start together while it is held: both wait.
    const last = packets[packets.length - 1]!;
    const handler = startBinary(
      ['sync_receive', '-o', 'boston_hub-host', '-d', last, '-a', `${last}.order`, '-s', '-default'],
      bangalore.home,
    );
    const scheduled = startBinary(['sync_receive', '-quiet', '1'], bangalore.home);
    await new Promise((r) => setTimeout(r, 2500));
    expect(importsAt(bangalore)).toBe(before);
    expect(packetsIn(incoming(bangalore)).length).toBe(3);
    held.release();
    const [h, s] = await Promise.all([handler, scheduled]);
    expect(h.status, h.stderr).toBe(0);
    expect(s.status, s.stderr).toBe(0);
    expect(await typeNames(bangalore, 'lbtype')).toEqual(await typeNames(boston, 'lbtype'));
    expect(importsAt(bangalore) - before).toBe(packets.length);
    expect(packetsIn(incoming(bangalore))).toEqual([]);
  }, 60_000);

  it('takes over the lock of a process that died holding it', async () => {
    const { boston, bangalore } = await twoSites(1);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    SiteHome.locate(bangalore.home, {}, process.cwd()).withDatabase((site) =>
      site.db
        .prepare("INSERT INTO vob_lock (name, pid, token, command, since) VALUES ('import:/vobs/dev', ?, 'gone', 'sync_receive', 0)")
        .run(dead),
    );
    expect((await bangalore.try('sync_receive', '-lockwait', '0')).status).toBe(0);
    expect(await typeNames(bangalore, 'lbtype')).toEqual(await typeNames(boston, 'lbtype'));
  });
});
