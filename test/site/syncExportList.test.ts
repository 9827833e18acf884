import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, typeNames, type Site } from '../helpers/sites.js';

/**
 * sync_export_list at boston_hub, with MultiSite's own spelling of its options. bangalore's bay is a
 * PEER directory; sanfran_hub has no PEER line, so a delivery to it fails.
 */

const bayDir = (s: Site, sub: string): string => join(s.home, 'shipping', 'ms_ship', sub);
const packetsIn = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.startsWith('sync_'))
        .sort()
    : [];
const ordersIn = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.startsWith('sh_o_'))
        .sort()
    : [];

async function sites(): Promise<{ root: string; boston: Site; sanfran: Site; bangalore: Site }> {
  const root = tempDir('msite-export-list-');
  const [boston, sanfran, bangalore] = (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
  const replicas = await boston.json<{ name: string; host: string }[]>('lsreplica');
  for (const s of [boston, sanfran, bangalore]) await s.run('site', 'init', '--host', replicas.find((r) => r.name === s.name)!.host);
  const key = (await bangalore.json<{ publicKey: string }>('site', 'show')).publicKey;
  appendFileSync(
    join(boston.home, 'shipping.conf'),
    `PEER bangalore-host ${pathToFileURL(join(bangalore.home, 'shipping', 'ms_ship')).href} ${key}\n`,
  );
  await boston.run('mklbtype', 'NEW');
  return { root, boston, sanfran, bangalore };
}

describe('msite sync_export_list', () => {
  it('-quiet 1 -ship -all stores packets and orders in the bay; -quiet 1 -poll delivers what it can; a sibling with nothing to receive is skipped', async () => {
    const { boston, bangalore } = await sites();
    const stored = await boston.try('sync_export_list', '-quiet', '1', '-ship', '-all', '--json');
    expect(stored.status).toBe(0);
    const result = JSON.parse(stored.stdout) as { exports: { replica: string; result: string; orders: string[] }[] };
    expect(result.exports.map((e) => [e.replica, e.result])).toEqual([
      ['bangalore', 'sent'],
      ['sanfran_hub', 'sent'],
    ]);
    expect(ordersIn(bayDir(boston, 'outgoing')).length).toBe(2);
    expect(packetsIn(bayDir(bangalore, 'incoming'))).toEqual([]);

    // The poll delivers bangalore's and fails sanfran's (no PEER): one failure, exit status 1.
    const polled = await boston.try('sync_export_list', '-quiet', '1', '-poll');
    expect(polled.status).toBe(1);
    expect(polled.stderr).toMatch(/sanfran_hub-host/);
    expect(packetsIn(bayDir(bangalore, 'incoming')).length).toBe(1);
    await bangalore.run('sync_receive');
    expect(await typeNames(bangalore, 'lbtype')).toEqual(await typeNames(boston, 'lbtype'));

    // Nothing new: nothing is exported again; -update cannot ask a sibling reached only as a directory.
    const again = await boston.try('sync_export_list', '-all', '-update', '--json');
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(
      /msite: warning: -update: cannot ask \w+@\/vobs\/dev for its actual row: .*; exporting by this site's estimate/,
    );
    expect((JSON.parse(again.stdout) as { exports: { result: string }[] }).exports.map((e) => e.result)).toEqual([
      'up-to-date',
      'up-to-date',
    ]);
  });

  it('exit status is the number of failed exports, and the run log is kept on failure or -trace only', async () => {
    const { boston, bangalore } = await sites();
    const logs = join(boston.home, 'log', 'sync_logs');
    const failed = await boston.try('sync_export_list', '-quiet', '1', '-all');
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(
      /^msite: error: sync_export_list: 1 of 2 exports failed \(see .*sync_logs\/sync_export_list\..*\.log\)$/m,
    );
    expect(failed.stderr).not.toMatch(/ops in/);
    const kept = readdirSync(logs);
    expect(kept.length).toBe(1);
    expect(readFileSync(join(logs, kept[0]!), 'utf8')).toMatch(
      /bangalore@\/vobs\/dev: \d+ ops in 1 packet for bangalore-host[\s\S]*error: /,
    );
    // bangalore got its packet all the same; sanfran's order waits in the bay for a poll.
    expect(packetsIn(bayDir(bangalore, 'incoming')).length).toBe(1);
    expect(ordersIn(bayDir(boston, 'outgoing')).length).toBe(1);

    await boston.run('mklbtype', 'LATER');
    const traced = await boston.try('sync_export_list', '-quiet', '2', '-replicas', 'bangalore@/vobs/dev', '-trace');
    expect(traced).toMatchObject({ status: 0, stderr: '' });
    expect(readdirSync(logs).length).toBe(2);
    await boston.run('mklbtype', 'QUIET');
    expect(await boston.try('sync_export_list', '-replicas', 'bangalore', '-logdir', join(boston.home, 'elsewhere'))).toMatchObject({
      status: 0,
    });
    expect(readdirSync(logs).length).toBe(2);
    expect(readdirSync(join(boston.home, 'elsewhere'))).toEqual([]);
  });

  it('a script file: settings stay in force for the replicas: lines after them', async () => {
    const { root, boston, bangalore } = await sites();
    const script = join(root, 'export.list');
    writeFileSync(script, '# nightly\nship\nsclass: -default\nreplicas: bangalore@/vobs/dev\n');
    expect(await boston.try('sync_export_list', '-quiet', '1', script)).toMatchObject({ status: 0, stderr: '' });
    expect(ordersIn(bayDir(boston, 'outgoing')).length).toBe(1);
    expect(packetsIn(bayDir(bangalore, 'incoming'))).toEqual([]);
    writeFileSync(script, 'replicas: bangalore@/vobs/dev\nfrobnicate\n');
    const bad = await boston.try('sync_export_list', script);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/export\.list:2: unknown setting "frobnicate"/);
    expect(ordersIn(bayDir(boston, 'outgoing')).length).toBe(1);
  });

  it('refuses a command line that selects nothing, or two ways', async () => {
    const { boston } = await sites();
    expect((await boston.try('sync_export_list')).stderr).toMatch(/give one of -all, -replicas LIST and a script file/);
    expect((await boston.try('sync_export_list', '-all', '-replicas', 'bangalore')).status).toBe(2);
    expect((await boston.try('sync_export_list', '-quiet', '3', '-all')).stderr).toMatch(/bad -quiet "3"/);
    expect((await boston.try('sync_export_list', '-poll', '-all')).status).toBe(2);
  });
});
