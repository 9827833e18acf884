import * as os from 'node:os';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { Scheduler, type RunResult } from '../../src/schedule/scheduler.js';
import { ScheduleStore } from '../../src/schedule/scheduleStore.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { tempDir } from '../helpers/cli.js';
import { family, typeNames, type Site } from '../helpers/sites.js';
import { seedBlocks } from './fixtures.js';

/**
 * Seed 000's five jobs, verbatim, at two sites whose PEERs are each other's storage bays: the
 * predefined tasks 13 and 14 run the real `msite sync_export_list` and `msite sync_receive` with each
 * job's Job.Args, on a fake clock through two simulated days, and changes made at both sites reach both.
 */
describe("seed 000's jobs under the scheduler", () => {
  it('export at 21:00 (-ship), polls from midnight to 04:00, export and import at midnight: both replicas converge', async () => {
    const root = tempDir('msite-seed-jobs-');
    const sites = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    const [boston, bangalore] = sites;
    // Each site is the host its replica names (boston_hub's, made by mkvob, is this machine's name).
    const replicas = await boston.json<{ name: string; host: string }[]>('lsreplica');
    const host = (s: Site): string => replicas.find((r) => r.name === s.name)!.host;
    const keys = new Map<Site, string>();
    for (const s of sites) {
      await s.run('site', 'init', '--host', host(s));
      keys.set(s, (await s.json<{ publicKey: string }>('site', 'show')).publicKey);
    }
    const bay = (s: Site): string => pathToFileURL(join(s.home, 'shipping', 'ms_ship')).href;
    appendFileSync(join(boston.home, 'shipping.conf'), `PEER ${host(bangalore)} ${bay(bangalore)} ${keys.get(bangalore)}\n`);
    appendFileSync(join(bangalore.home, 'shipping.conf'), `PEER ${host(boston)} ${bay(boston)} ${keys.get(boston)}\n`);

    const clock = new ManualClock(Date.parse('2024-01-15T12:00:00Z'));
    const schedulers = sites.map((s) => {
      const site = SiteDatabase.open(s.home);
      onTestFinished(() => site.close());
      const store = ScheduleStore.open(site.db, { clock, owner: os.userInfo().username });
      store.set(seedBlocks().join('\n\n') + '\n');
      return { store, scheduler: new Scheduler({ store, home: s.home, clock, timeZone: 'UTC' }) };
    });
    const commands = new Set<string>();
    const results: RunResult[] = [];
    /** Every job due at `at` at both sites, run to the end. */
    const runAt = async (at: string): Promise<void> => {
      clock.set(Date.parse(at));
      const ticks = schedulers.map((s) => s.scheduler.runDue());
      for (const t of ticks)
        for (const r of t.runs)
          commands.add(
            r.command
              .slice(2)
              .filter((w) => !w.startsWith('/'))
              .join(' '),
          );
      for (const t of ticks) results.push(...(await t.done));
    };
    // The night's half-hourly polls missed between two checks start once, at the later one (a scheduler
    // that was down does not replay them), so three checks a night run every job.
    const night = async (date: string): Promise<void> => {
      for (const time of ['00:00', '02:00', '04:00']) await runAt(`${date}T${time}:00Z`);
    };

    await boston.run('mklbtype', 'B1');
    await bangalore.run('mklbtype', 'G1');
    await runAt('2024-01-15T21:00:00Z');
    await night('2024-01-16');
    await boston.run('mklbtype', 'B2');
    await bangalore.run('mkbrtype', 'g2');
    await runAt('2024-01-16T21:00:00Z');
    await night('2024-01-17');
    await runAt('2024-01-18T00:00:00Z');

    expect([...commands].sort()).toEqual([
      'sync_export_list --home -quiet 1 -all',
      'sync_export_list --home -quiet 1 -poll',
      'sync_export_list --home -quiet 1 -ship -all',
      'sync_receive --home',
    ]);
    for (const r of results) expect(r, JSON.stringify(r)).toMatchObject({ exitStatus: 0 });
    for (const kind of ['lbtype', 'brtype']) expect(await typeNames(bangalore, kind)).toEqual(await typeNames(boston, kind));
    expect((await typeNames(boston, 'lbtype')).map((t) => t.split('=')[0])).toEqual(expect.arrayContaining(['B1', 'B2', 'G1']));
    expect((await typeNames(boston, 'brtype')).map((t) => t.split('=')[0])).toContain('g2');
    for (const s of schedulers) {
      for (const id of [15, 17, 18, 19, 20]) expect(s.store.getJob(id).lastCompletion, `job ${id}`).toMatchObject({ exitStatus: 0 });
    }
  }, 240_000);
});
