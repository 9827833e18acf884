import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { SiteDaemon } from '../../src/site/siteDaemon.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { gatherSiteMetrics } from '../../src/site/siteMetrics.js';
import { siteMetricsRegistry } from '../../src/site/siteMetricsRegistry.js';
import { shipFromSite } from '../../src/site/shipFromSite.js';
import { tempDir } from '../helpers/cli.js';
import { peerUrl, startDaemon, until } from '../helpers/loopbackSites.js';
import { parsePrometheusText, sampleValue, type MetricFamily } from '../helpers/promText.js';
import { family, type Site } from '../helpers/sites.js';

/**
 * /metrics at boston_hub after a real exchange: boston exports to bangalore (delivered to its daemon)
 * and sanfran_hub (whose PEER URL answers nothing: a failed delivery), bangalore's clashing label
 * type arrives at boston through boston's daemon and is renamed on import, two jobs run, one
 * failing, and sanfran's order, once expired, is returned. Every figure is checked against what the
 * commands said they did.
 */

const VOB = '/vobs/dev';

async function scrape(d: SiteDaemon): Promise<Map<string, MetricFamily>> {
  const res = await fetch(`${d.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

const incoming = (s: Site): string => join(s.home, 'shipping', 'ms_ship', 'incoming');
const packetsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('sync_')) : []);

/** lsepoch's figure for each sibling: ops this replica applied that the sibling's row lacks. */
async function lagByLsepoch(s: Site): Promise<Record<string, number>> {
  const rows = await s.json<Record<string, Record<string, number>>>('lsepoch');
  const own = rows[s.name]!;
  return Object.fromEntries(
    Object.entries(rows)
      .filter(([name]) => name !== s.name)
      .map(([name, row]) => [name, Object.entries(own).reduce((n, [o, id]) => n + Math.max(0, id - (row[o] ?? 0)), 0)]),
  );
}

describe('GET /metrics', () => {
  it('shows lag as lsepoch does, and the exports, imports, deliveries, jobs and renames done', async () => {
    const root = tempDir('msite-metrics-');
    const [boston, sanfran, bangalore] = (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
    // Each site is the host its replica object names (mkvob's is this machine's name).
    const hosts = new Map((await boston.json<{ name: string; host: string }[]>('lsreplica')).map((r) => [r.name, r.host]));
    const key = new Map<Site, string>();
    for (const s of [boston, sanfran, bangalore]) {
      await s.run('site', 'init', '--host', hosts.get(s.name)!, '--listen', '127.0.0.1');
      key.set(s, (await s.json<{ publicKey: string }>('site', 'show')).publicKey);
    }
    const bos = await startDaemon(boston);
    const bg = await startDaemon(bangalore);
    await boston.run('site', 'peer', 'bangalore-host', peerUrl(bg), key.get(bangalore)!);
    await boston.run('site', 'peer', 'sanfran_hub-host', 'https://127.0.0.1:1', key.get(sanfran)!);
    await bangalore.run('site', 'peer', hosts.get('boston_hub')!, peerUrl(bos), key.get(boston)!);
    const task = (name: string, status: number): string => {
      const path = join(root, `${name}.sh`);
      writeFileSync(path, `#!/bin/sh\nexit ${status}\n`);
      chmodSync(path, 0o755);
      return `Task.Begin\nTask.Name: "${name}"\nTask.Pathname: ${path}\nTask.End\n`;
    };
    const job = (id: number, name: string, t: string): string =>
      `Job.Begin\nJob.Id: ${id}\nJob.Name: "${name}"\nJob.Schedule.Once.Date: 2000-01-01\nJob.Schedule.FirstStartTime: 00:00:00\nJob.Task: "${t}"\nJob.End\n`;
    writeFileSync(
      join(root, 'jobs.def'),
      [task('fine', 0), task('broken', 3), job(60, 'Fine', 'fine'), job(61, 'Broken', 'broken')].join('\n'),
    );
    await boston.run('schedule', '--set', join(root, 'jobs.def'));
    const before = await scrape(bos);
    const count = (m: Map<string, MetricFamily>, name: string, labels: Record<string, string>): number => sampleValue(m, name, labels) ?? 0;

    await boston.run('mklbtype', 'CLASH');
    await bangalore.run('mklbtype', 'CLASH');
    // boston exports to both siblings and delivers at once: bangalore's arrives, sanfran's fails and waits.
    const exported = await boston.try('sync_export_list', '-all', '--json');
    expect(exported.status).toBe(1);
    const exports = (JSON.parse(exported.stdout) as { exports: { replica: string; result: string }[] }).exports;
    expect(exports.map((e) => [e.replica, e.result]).sort()).toEqual([
      ['bangalore', 'sent'],
      ['sanfran_hub', 'failed'], // exported; its delivery failed
    ]);
    const landed = packetsIn(incoming(bangalore));
    expect(landed.length).toBe(1);
    const landedBytes = landed.reduce((n, p) => n + statSync(join(incoming(bangalore), p)).size, 0);

    // bangalore's clashing type reaches boston's daemon and waits in its bay.
    const back = await bangalore.try('sync_export_list', '-replicas', 'boston_hub', '--json');
    expect(back, back.stderr).toMatchObject({ status: 0 });
    expect(packetsIn(incoming(boston)).length).toBe(1);
    const waiting = await scrape(bos);
    expect(sampleValue(waiting, 'msite_packets_waiting', { bay: incoming(boston) })).toBe(1);
    const received = await boston.json<{ result: string; origin: string }[]>('syncreplica', '--import', '--receive');
    const imported = received.filter((o) => o.result === 'applied').length;
    expect(imported).toBe(1);
    await boston.run('mklbtype', 'AFTER');

    for (const id of [60, 61]) {
      const res = await fetch(`${bos.url}/api/schedule/jobs/${id}/run`, { method: 'POST' });
      expect(res.status).toBe(202);
    }
    await until('both jobs ran', async () => {
      const { jobs } = (await (await fetch(`${bos.url}/api/schedule/jobs`)).json()) as { jobs: { lastCompletion: unknown }[] };
      return jobs.length === 2 && jobs.every((j) => j.lastCompletion !== null);
    });

    const after = await scrape(bos);
    for (const f of after.values()) {
      expect(f.name).toMatch(/^msite_/);
      expect(f.help, f.name).toBeTruthy();
      expect(f.type, f.name).not.toBe('untyped');
    }
    expect(sampleValue(after, 'msite_vob_up', { vob: VOB })).toBe(1);

    // Lag: the figure lsepoch shows, for each sibling (and not zero: AFTER went nowhere yet).
    const lag = await lagByLsepoch(boston);
    expect(Object.keys(lag).sort()).toEqual(['bangalore', 'sanfran_hub']);
    for (const [sibling, ops] of Object.entries(lag)) {
      expect(ops).toBeGreaterThan(0);
      expect(sampleValue(after, 'msite_ops_behind', { vob: VOB, sibling })).toBe(ops);
    }

    // One export to each sibling and one import from bangalore, each timed, and their ages.
    const delta = (name: string, labels: Record<string, string>): number => count(after, name, labels) - count(before, name, labels);
    for (const sibling of ['bangalore', 'sanfran_hub']) {
      expect(delta('msite_export_duration_seconds_count', { vob: VOB, sibling })).toBe(1);
      expect(sampleValue(after, 'msite_last_export_age_seconds', { vob: VOB, sibling })).toBeLessThan(120);
    }
    expect(delta('msite_import_duration_seconds_count', { vob: VOB, sibling: 'bangalore' })).toBe(imported);
    expect(delta('msite_import_duration_seconds_count', { vob: VOB, sibling: 'sanfran_hub' })).toBe(0);
    expect(count(after, 'msite_import_duration_seconds_sum', { vob: VOB, sibling: 'bangalore' })).toBeGreaterThan(0);
    expect(sampleValue(after, 'msite_last_import_age_seconds', { vob: VOB, sibling: 'bangalore' })).toBeLessThan(120);

    // The daemon read only the records newer than its last scrape; all of them read afresh agree.
    const site = SiteDatabase.open(boston.home);
    try {
      const fresh = gatherSiteMetrics(SiteHome.locate(boston.home, {}, boston.home), site.db, [], Date.now());
      const all = parsePrometheusText(await siteMetricsRegistry(fresh).metrics());
      for (const name of ['msite_export_duration_seconds', 'msite_import_duration_seconds'])
        expect(all.get(name)!.samples).toEqual(after.get(name)!.samples);
    } finally {
      site.close();
    }

    // Deliveries: bangalore's packet, byte for byte; sanfran's failed and its order waits.
    expect(delta('msite_deliveries_total', { host: 'bangalore-host' })).toBe(1);
    expect(delta('msite_delivery_bytes_total', { host: 'bangalore-host' })).toBe(landedBytes);
    expect(delta('msite_delivery_wire_bytes_total', { host: 'bangalore-host' })).toBeGreaterThan(landedBytes);
    expect(delta('msite_delivery_failures_total', { host: 'sanfran_hub-host' })).toBe(1);
    expect(delta('msite_delivery_failures_total', { host: 'bangalore-host' })).toBe(0);
    expect(sampleValue(after, 'msite_orders', { state: 'pending' })).toBe(1);
    expect(sampleValue(after, 'msite_orders', { state: 'returned' })).toBe(0);
    expect(sampleValue(after, 'msite_packets_waiting', { bay: incoming(boston) })).toBe(0);

    // The rename made on import, still unresolved; the jobs by name.
    expect(delta('msite_conflicts_total', { vob: VOB })).toBe(1);
    expect(sampleValue(after, 'msite_conflicts_unresolved', { vob: VOB })).toBe(1);
    expect(sampleValue(after, 'msite_job_runs_total', { job_id: '60', job: 'Fine' })).toBe(1);
    expect(sampleValue(after, 'msite_job_failures_total', { job_id: '60', job: 'Fine' })).toBe(0);
    expect(sampleValue(after, 'msite_job_runs_total', { job_id: '61', job: 'Broken' })).toBe(1);
    expect(sampleValue(after, 'msite_job_failures_total', { job_id: '61', job: 'Broken' })).toBe(1);

    // Fifteen days on, sanfran's order has expired; the shipping server then returns it to the return bay.
    const later = Date.now() + 15 * 24 * 60 * 60 * 1000;
    const home = SiteHome.locate(boston.home, {}, boston.home);
    const db = SiteDatabase.open(boston.home);
    try {
      expect(gatherSiteMetrics(home, db.db, [], later).orders).toEqual({ pending: 0, expired: 1, returning: 0, returned: 0 });
      expect((await shipFromSite(home, db, undefined, { clock: new ManualClock(later) })).returned.length).toBe(1);
    } finally {
      db.close();
    }
    const returned = await scrape(bos);
    expect(sampleValue(returned, 'msite_orders', { state: 'returned' })).toBe(1);
    expect(sampleValue(returned, 'msite_orders', { state: 'pending' })).toBe(0);

    // A VOB that cannot be opened is shown down; the scrape still answers. /metrics is read-only.
    await boston.run('mkvob', '--tag', '/vobs/broken', '--replica', 'boston_hub', join(root, 'broken.vob'));
    writeFileSync(join(root, 'broken.vob', 'vob.db'), 'not a database');
    const broken = await scrape(bos);
    expect(sampleValue(broken, 'msite_vob_up', { vob: '/vobs/broken' })).toBe(0);
    expect(sampleValue(broken, 'msite_vob_up', { vob: VOB })).toBe(1);
    expect((await fetch(`${bos.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it("is read by a parser that refuses what Prometheus' refuses", () => {
    const ok = '# HELP m_x x\n# TYPE m_x histogram\nm_x_bucket{le="1"} 1\nm_x_bucket{le="+Inf"} 2\nm_x_sum 3\nm_x_count 2\n';
    expect(sampleValue(parsePrometheusText(ok), 'm_x_count')).toBe(2);
    for (const bad of [
      'm_x 1', // no final newline
      'm-x 1\n',
      'm_x{a="1} 1\n',
      'm_x{a="\\q"} 1\n',
      'm_x one\n',
      'm_x 1\n# TYPE m_x gauge\n',
      '# TYPE m_x gauge\n# TYPE m_x gauge\n',
      'm_x 1\nm_y 1\nm_x 2\n',
      ok.replace('m_x_count 2', 'm_x_count 3'),
      ok.replace('{le="1"} 1', '{le="1"} 5'),
    ])
      expect(() => parsePrometheusText(bad), bad).toThrow();
  });
});
