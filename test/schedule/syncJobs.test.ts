import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { Scheduler, type RunResult } from '../../src/schedule/scheduler.js';
import { ScheduleStore } from '../../src/schedule/scheduleStore.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { BIN, tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

/**
 * Two site daemons' schedulers on a fake clock, each running a real `msite syncreplica` as its job's
 * task: boston_hub exports to a drop directory, bangalore imports from it.
 */
describe('scheduled export and import between two site homes', () => {
  it('moves a change from one site to the other, recording completions and failures', async () => {
    const root = tempDir();
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    const msite = join(root, 'msite.sh');
    writeFileSync(msite, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(msite, 0o755);
    const drop = join(root, 'drop');
    mkdirSync(drop);
    writeFileSync(join(root, 'v1'), 'version 1\n');
    await boston.run('mkdir', '--auto', 'src');
    await boston.run('mkelem', '--auto', '--from', join(root, 'v1'), 'src/f');

    const clock = new ManualClock(Date.parse('2024-01-15T12:00:00Z'));
    const user = os.userInfo().username;
    const scheduler = (s: Site, job: string) => {
      const site = SiteDatabase.open(s.home);
      onTestFinished(() => site.close());
      const store = ScheduleStore.open(site.db, { clock, owner: user });
      store.set(
        `Task.Begin\nTask.Name: "msite"\nTask.Pathname: ${msite}\nTask.End\n` +
          [
            'Job.Begin',
            'Job.Id: 30',
            `Job.Name: "${job}"`,
            'Job.Schedule.Daily.Frequency: 1',
            ...jobs[job]!,
            'Job.Task: "msite"',
            'Job.End',
            '',
          ].join('\n'),
      );
      return { store, scheduler: new Scheduler({ store, home: s.home, clock, timeZone: 'UTC' }) };
    };
    const jobs: Record<string, string[]> = {
      export: ['Job.Schedule.FirstStartTime: 01:00:00', `Job.Args: syncreplica -export -out ${drop} bangalore`],
      import: ['Job.Schedule.FirstStartTime: 00:30:00', `Job.Args: syncreplica -import ${drop}`],
    };
    const a = scheduler(boston, 'export');
    const b = scheduler(bangalore, 'import');

    // 00:30: bangalore imports before boston exported: the task fails and is recorded as failed.
    clock.set(Date.parse('2024-01-16T00:30:00Z'));
    const [failed] = (await b.scheduler.runDue().done) as [RunResult];
    expect(failed).toMatchObject({ exitStatus: 1, event: 'JobEndFail' });
    expect(b.store.getJob(30).lastCompletion).toMatchObject({
      exitStatus: 1,
      messages: expect.stringContaining('msite: error: no packets in'),
    });

    // 01:00: boston exports.
    clock.set(Date.parse('2024-01-16T01:00:00Z'));
    const [exported] = (await a.scheduler.runDue().done) as [RunResult];
    expect(exported).toMatchObject({ exitStatus: 0 });
    expect(a.store.getJob(30).lastCompletion?.messages).toMatch(/Wrote .*sync_boston_hub_/);

    // Next day 00:30: bangalore imports and has the file.
    clock.set(Date.parse('2024-01-17T00:30:00Z'));
    const [imported] = (await b.scheduler.runDue().done) as [RunResult];
    expect(imported).toMatchObject({ exitStatus: 0 });
    expect(b.store.getJob(30).lastCompletion?.messages).toMatch(/Applied .*sync_boston_hub_.*ops applied/);
    expect((await bangalore.run('cat', 'src/f')).stdout).toBe('version 1\n');
  });
});
