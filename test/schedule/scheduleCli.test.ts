import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { json, msite, ok, tempDir } from '../helpers/cli.js';
import { fixture } from './fixtures.js';
import { storedSchedule } from '../helpers/storedSchedule.js';

/** `msite schedule` through the real CLI. */

const USER = userInfo().username;
const dir = tempDir('msite-schedule-cli-');
const SEED = fixture('seed-jobs.txt');

function file(name: string, text: string, mode?: number): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  if (mode !== undefined) chmodSync(p, mode);
  return p;
}

/** The seed text as `--get` prints it: a task annotation after each Job.Task line. */
function annotated(text: string): string {
  return text.replace(/^Job\.Task: (13|14)$/gm, (line, id: string) => {
    const name = id === '13' ? 'MultiSite Sync Export' : 'MultiSite Sync Receive';
    return `${line}\n# Job.Task: "${name}"`;
  });
}

function oneErrorLine(r: { status: number; stderr: string }, status: number, message: RegExp): void {
  expect(r.status).toBe(status);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^msite: error: /);
  expect(r.stderr).toMatch(message);
}

describe('msite schedule: the seed', () => {
  const home = join(dir, 'seed-home');
  const seedFile = file('seed-jobs.txt', SEED);

  beforeAll(async () => {
    await ok(['schedule', '--set', seedFile], { home });
  });

  it('sets every job of seed 000 in one --set and prints them back identically with --get', async () => {
    const home = mkdtempSync(join(dir, 'seed-set-'));
    expect((await ok(['schedule', '--set', seedFile], { home })).stdout).toBe('Schedule set: 5 jobs (17, 18, 19, 20, 15).\n');
    const got = (await ok(['schedule', '--get'], { home })).stdout;
    expect(got).toBe(annotated(SEED));
    // Without -get's annotation lines, byte for byte the file that was set.
    expect(got.replace(/^# Job\.Task: .*\n/gm, '')).toBe(SEED);
    // What --get prints sets back to the same schedule.
    await ok(['schedule', '--set', file('got.txt', got)], { home });
    expect((await ok(['schedule', '--get'], { home })).stdout).toBe(got);
  });

  it('--set - reads the definition from standard input', async () => {
    const home = mkdtempSync(join(dir, 'seed-stdin-'));
    expect((await ok(['schedule', '--set', '-'], { home, stdin: SEED })).stdout).toBe('Schedule set: 5 jobs (17, 18, 19, 20, 15).\n');
    expect((await ok(['schedule', '--get'], { home })).stdout).toBe(annotated(SEED));
  });

  it('prints one job, in MultiSite spelling, with its task annotated', async () => {
    const out = (await ok(['schedule', '-get', '-job', '20'], { home })).stdout;
    expect(out).toBe(`${annotated(fixture('seed-job-20.txt').slice(0, -1))}\n`);
    expect(out).toContain('Job.Task: 13\n# Job.Task: "MultiSite Sync Export"\n');
    expect((await ok(['schedule', '--get', '--job', 'Sync Import ALL'], { home })).stdout).toContain('Job.Id: 15\n');
    oneErrorLine(
      await msite(['schedule', '--get', '--job', 'Shipping Server Poll'], { home }),
      1,
      /scheduled job name is ambiguous: "Shipping Server Poll" names jobs 19 and 20 \(name the job by its Job\.Id, e\.g\. 19\)/,
    );
    const one = await json<{ id: number; name: string; schedule: unknown; task: unknown }>(['schedule', '--get', '--job', '19'], { home });
    expect(one).toMatchObject({
      id: 19,
      name: 'Shipping Server Poll',
      task: { id: 13 },
      schedule: { kind: 'Daily', firstStartTime: '04:00:00' },
    });
    const tasks = await json<{ tasks: Array<{ id: number; name: string }> }>(['schedule', '--get', '--tasks'], { home });
    expect(tasks.tasks.map((t) => [t.id, t.name])).toEqual([
      [13, 'MultiSite Sync Export'],
      [14, 'MultiSite Sync Receive'],
    ]);
    expect((await ok(['schedule', '-get', '-acl'], { home })).stdout).toBe(`Everyone: Read\nUser:${USER}: Full\n`);
  });

  it('refuses bad definitions with the line in one error line, exit 1, and changes nothing', async () => {
    const before = (await ok(['schedule', '--get'], { home })).stdout;
    const store = storedSchedule(home);
    const job = (...lines: string[]): string =>
      [
        'Job.Begin',
        'Job.Id: 40',
        'Job.Name: "New"',
        'Job.Schedule.Daily.Frequency: 1',
        'Job.Schedule.FirstStartTime: 02:00:00',
        'Job.Task: 13',
        ...lines,
        'Job.End',
        '',
      ].join('\n');
    const cases: Array<[string, string, RegExp]> = [
      ['unknown-key.txt', job('Job.Frequency: 2'), /unknown-key\.txt: line 7: unknown key Job\.Frequency in a job \(fix the definition/],
      [
        'bad-time.txt',
        SEED.replace('21:00:00', '21:60:00'),
        /bad-time\.txt: line 21: Job\.Schedule\.FirstStartTime must be HH:MM:SS, got "21:60:00"/,
      ],
      ['no-end.txt', `${SEED}${job().replace('Job.End\n', '')}`, /no-end\.txt: line 66: Job\.Begin has no Job\.End/],
      [
        'duplicate-id.txt',
        `${SEED}\n${fixture('seed-job-19.txt')}`,
        /duplicate-id\.txt: line 68: duplicate Job\.Id 19 \(first at line 28\)/,
      ],
      ['unknown-task.txt', job().replace('Job.Task: 13', 'Job.Task: 77'), /unknown-task\.txt: line 6: Job\.Task 77 names no known task/],
      [
        'unknown-predecessor.txt',
        `${SEED}\nJob.Begin\nJob.Name: "After"\nJob.Schedule.Sequential.FollowsJob: 99\nJob.Task: 14\nJob.End\n`,
        /unknown-predecessor\.txt: line 69: Job\.Schedule\.Sequential\.FollowsJob 99 is no job in this definition/,
      ],
    ];
    for (const [name, text, message] of cases) {
      oneErrorLine(await msite(['schedule', '--set', file(name, text)], { home }), 1, message);
      expect(storedSchedule(home)).toEqual(store);
    }
    expect((await ok(['schedule', '--get'], { home })).stdout).toBe(before);
  });
});

describe('msite schedule: running, waiting, deleting, editing and the ACL', () => {
  /** A site home of the test's own with jobs 40 "Greet" and 41 "Fail", the runs' log and the notifications' log. */
  async function runHome(): Promise<{ home: string; out: string; notified: string }> {
    const caseDir = mkdtempSync(join(dir, 'run-'));
    const home = join(caseDir, 'home');
    const out = join(caseDir, 'runs.log');
    const notified = join(caseDir, 'notified.log');
    const file = (name: string, text: string, mode?: number): string => {
      const p = join(caseDir, name);
      writeFileSync(p, text);
      if (mode !== undefined) chmodSync(p, mode);
      return p;
    };
    const notify = file('notify.sh', `#!/bin/sh\necho "$*" >> ${notified}\n`, 0o755);
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'shipping.conf'), `ADMINISTRATOR admin@site.example\nNOTIFICATION-PROGRAM ${notify}\n`);
    const hello = file('hello.sh', `#!/bin/sh\necho "hello $1 ($MSITE_JOB_ID)" | tee -a ${out}\nexit \${2:-0}\n`, 0o755);
    const def = [
      `Task.Begin\nTask.Name: "Hello"\nTask.Pathname: ${hello}\nTask.End\n`,
      'Job.Begin\nJob.Id: 40\nJob.Name: "Greet"\nJob.Schedule.Daily.Frequency: 1\nJob.Schedule.FirstStartTime: 03:00:00\nJob.Task: "Hello"\nJob.Args: "big world"\nJob.End\n',
      'Job.Begin\nJob.Id: 41\nJob.Name: "Fail"\nJob.Schedule.Daily.Frequency: 1\nJob.Schedule.FirstStartTime: 03:00:00\nJob.Task: "Hello"\nJob.Args: fail 3\nJob.NotifyInfo.OnEvents: JobEndFail,JobDeleted\nJob.End\n',
    ].join('\n');
    await ok(['schedule', '--set', file('run-def.txt', def)], { home });
    return { home, out, notified };
  }

  it('--run without a daemon runs the job here, records it, and --status/--wait report it', async () => {
    const { home, out, notified } = await runHome();
    const r = await ok(['schedule', '--run', '40'], { home });
    expect(r.stderr).toMatch(/^msite schedule: no daemon serves .*: running job 40 here \(process \d+\)\n$/);
    expect(r.stdout).toMatch(/^Job 40 "Greet" completed \(process \d+\)\.\nMessages:\n {2}hello big world \(40\)\n$/);
    const status = await json<{ state: string; lastCompletion: { exitStatus: number; messages: string }; nextStart: string }>(
      ['schedule', '--status', 'Greet'],
      { home },
    );
    expect(status).toMatchObject({ state: 'scheduled', lastCompletion: { exitStatus: 0, messages: 'hello big world (40)' } });
    expect(new Date(status.nextStart).getHours()).toBe(3);
    const text = (await ok(['schedule', '-status', '40'], { home })).stdout;
    expect(text).toMatch(
      /^Job 40 "Greet"\n {2}State: +scheduled\n {2}Task: +101 "Hello"\n {2}Next start: +\d{4}-\d\d-\d\d 03:00:00\n {2}Last completion: +exit status 0, .* process \d+\n {2}Messages:\n {4}hello big world \(40\)\n$/,
    );
    expect((await ok(['schedule', '--wait', '40'], { home })).stdout).toMatch(/^Job 40 "Greet" ended at .* with exit status 0\.\n$/);

    // A stale daemon.json (its process is gone) is ignored.
    writeFileSync(join(home, 'daemon.json'), JSON.stringify({ pid: 2 ** 22 + 77, port: 9 }));
    const failed = await msite(['schedule', '-run', 'Fail'], { home });
    expect(failed.status).toBe(1);
    // The progress line, then the one error line.
    expect(failed.stderr).toMatch(
      /^msite schedule: no daemon serves .*\nmsite: error: job 41 "Fail" failed: exit status 3 \(see its messages with msite schedule --status 41\)\n$/,
    );
    expect(failed.stdout).toMatch(/^Job 41 "Fail" failed with exit status 3 \(process \d+\)\.\nMessages:\n {2}hello fail \(41\)\n$/);
    oneErrorLine(await msite(['schedule', '--wait', '41'], { home }), 1, /job 41 "Fail" failed: exit status 3/);
    expect(readFileSync(out, 'utf8')).toBe('hello big world (40)\nhello fail (41)\n');
    expect(readFileSync(notified, 'utf8')).toMatch(/^-s msite: job 41 "Fail" failed -f \S+ admin@site\.example\n$/);
  });

  it('--edit sets what the editor saved, and refuses a bad edit without a terminal', async () => {
    const { home } = await runHome();
    const good = file('editor-good.sh', '#!/bin/sh\nsed -i "s/03:00:00/05:30:00/" "$1"\n', 0o755);
    expect((await ok(['schedule', '--edit'], { home, env: { EDITOR: good } })).stdout).toBe('Schedule set: 2 jobs (40, 41).\n');
    expect((await ok(['schedule', '--get', '--job', '40'], { home })).stdout).toContain('Job.Schedule.FirstStartTime: 05:30:00\n');
    const before = (await ok(['schedule', '--get'], { home })).stdout;
    const bad = file('editor-bad.sh', '#!/bin/sh\nsed -i "s/Job.Args: fail 3/Job.Argz: fail 3/" "$1"\n', 0o755);
    oneErrorLine(
      await msite(['schedule', '--edit'], { home, env: { EDITOR: bad } }),
      1,
      /edited definition: line \d+: unknown key Job\.Argz in a job/,
    );
    const same = file('editor-same.sh', '#!/bin/sh\ntrue\n', 0o755);
    expect((await msite(['schedule', '--edit'], { home, env: { EDITOR: same } })).stderr).toBe('msite schedule: no change\n');
    expect((await ok(['schedule', '--get'], { home })).stdout).toBe(before);
  });

  it('--delete removes a job; usage errors exit 2', async () => {
    const { home, notified } = await runHome();
    expect((await ok(['schedule', '-delete', '41'], { home })).stdout).toBe('Deleted job 41 "Fail".\n');
    expect(readFileSync(notified, 'utf8').split('\n')[0]).toMatch(/^-s msite: job 41 "Fail" deleted -f \S+ admin@site\.example$/);
    oneErrorLine(await msite(['schedule', '--status', '41'], { home }), 1, /scheduled job not found: "41"/);
    oneErrorLine(await msite(['schedule'], { home }), 2, /schedule needs an action/);
    oneErrorLine(await msite(['schedule', '--get', '--delete', '40'], { home }), 2, /schedule takes one action, got --get and --delete/);
  });

  it('refuses --set to a user without Change access, and changes nothing', async () => {
    const { home } = await runHome();
    await ok(['schedule', '--set', '--acl', file('acl.txt', 'Everyone: Read\nUser:someone-else: Full\n')], { home });
    const before = (await ok(['schedule', '--get'], { home })).stdout;
    oneErrorLine(
      await msite(['schedule', '--set', file('def2.txt', SEED)], { home }),
      1,
      new RegExp(`scheduler access refused: user "${USER}" has Read access in the scheduler ACL, Change is required`),
    );
    oneErrorLine(await msite(['schedule', '--run', '40'], { home }), 1, /Change is required/);
    expect((await ok(['schedule', '--get'], { home })).stdout).toBe(before);
  });
});
