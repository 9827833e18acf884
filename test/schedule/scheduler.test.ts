import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { StateError } from '../../src/core/errors.js';
import { msiteInvocation } from '../../src/schedule/msiteInvocation.js';
import { Scheduler, type RunResult } from '../../src/schedule/scheduler.js';
import { printDefinition } from '../../src/schedule/print.js';
import { ScheduleStore } from '../../src/schedule/scheduleStore.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';

/**
 * The scheduler on a fake clock, running real child processes. Two site homes each run their own
 * scheduler, as two daemons would; the sync step is a stand-in script with msite's command line.
 */

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'msite-scheduler-'));
const databases: SiteDatabase[] = [];
afterAll(() => {
  for (const db of databases) db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const USER = os.userInfo().username;
const UTC = 'UTC';
const at = (iso: string): number => Date.parse(iso);
const T0 = at('2024-01-15T12:00:00Z');

function script(name: string, body: string): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}`);
  fs.chmodSync(file, 0o755);
  return file;
}

/** Logs each notification: the arguments, then the message file's contents. */
const NOTIFY_LOG = path.join(root, 'notify.log');
const NOTIFY = script(
  'notify.sh',
  `{
  echo "ARGS: $*"
  while [ $# -gt 0 ]; do
    if [ "$1" = -f ]; then cat "$2"; fi
    shift
  done
  echo "--- end"
} >> "${NOTIFY_LOG}"
`,
);

/**
 * The sync program the jobs run: a stand-in with `msite syncreplica`'s command line whose "VOB" is
 * one file, so this test is about the scheduler alone. `syncreplica --export --out DIR` copies it into
 * DIR, `syncreplica --import DIR` copies it back out, failing with status 3 when there is no packet.
 * syncJobs.test.ts runs the real `msite syncreplica` between two site homes.
 */
const SYNC_PROGRAM = script(
  'fake-msite.sh',
  `[ "$1" = syncreplica ] || { echo "unknown command $1" >&2; exit 2; }
case "$2" in
  --export)
    cp "$MSITE_HOME/vob/data.txt" "$4/packet" && echo "exported data.txt to $4/packet" ;;
  --import)
    if [ ! -f "$3/packet" ]; then echo "no packet in $3" >&2; exit 3; fi
    cp "$3/packet" "$MSITE_HOME/vob/data.txt" && echo "imported $3/packet" ;;
  *) echo "usage: syncreplica --export --out DIR | --import DIR" >&2; exit 2 ;;
esac
`,
);
const exportArgs = (drop: string): string => `syncreplica --export --out ${drop}`;
const importArgs = (drop: string): string => `syncreplica --import ${drop}`;
const siteContent = (home: string): string | undefined => {
  const file = path.join(home, 'vob', 'data.txt');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
};

interface Site {
  home: string;
  store: ScheduleStore;
  scheduler: Scheduler;
}

let n = 0;
function site(clock: ManualClock, admin: string, conf = `ADMINISTRATOR ${admin}\nNOTIFICATION-PROGRAM ${NOTIFY}\n`): Site {
  const home = path.join(root, `site${++n}`);
  fs.mkdirSync(path.join(home, 'vob'), { recursive: true });
  fs.writeFileSync(path.join(home, 'shipping.conf'), conf);
  const site = SiteDatabase.open(home);
  databases.push(site);
  const store = ScheduleStore.open(site.db, { clock, owner: USER });
  return { home, store, scheduler: new Scheduler({ store, home, clock, timeZone: UTC }) };
}

function task(name: string, pathname: string): string {
  return `Task.Begin\nTask.Name: "${name}"\nTask.Pathname: ${pathname}\nTask.End\n`;
}

function job(id: number, name: string, taskName: string, lines: readonly string[]): string {
  return ['Job.Begin', `Job.Id: ${id}`, `Job.Name: "${name}"`, ...lines, `Job.Task: "${taskName}"`, 'Job.End', ''].join('\n');
}

/** The notifications logged since the last call, split per notification. */
let seen = 0;
function newNotifications(): string[] {
  const text = fs.existsSync(NOTIFY_LOG) ? fs.readFileSync(NOTIFY_LOG, 'utf8') : '';
  const fresh = text.slice(seen);
  seen = text.length;
  return fresh.split('--- end\n').filter((s) => s !== '');
}

beforeEach(() => {
  newNotifications();
});

describe('Scheduler', () => {
  it('runs an export at site A and an import at site B at their times, recording completions and notifying', async () => {
    const clock = new ManualClock(T0);
    const a = site(clock, 'admin@a.example');
    const b = site(clock, 'admin@b.example');
    const drop = path.join(root, 'drop');
    fs.mkdirSync(drop);
    fs.writeFileSync(path.join(a.home, 'vob', 'data.txt'), 'version 1 from site A\n');
    a.store.set(
      task('Sync Export', SYNC_PROGRAM) +
        job(50, 'Export To B', 'Sync Export', [
          'Job.Schedule.Daily.Frequency: 1',
          'Job.Schedule.FirstStartTime: 01:00:00',
          `Job.Args: ${exportArgs(drop)}`,
          'Job.NotifyInfo.OnEvents: JobEndOK,JobEndFail',
          'Job.NotifyInfo.Recipients: ops@a.example',
        ]),
    );
    b.store.set(
      task('Sync Import', SYNC_PROGRAM) +
        job(60, 'Import From A', 'Sync Import', [
          'Job.Schedule.Daily.Frequency: 1',
          'Job.Schedule.FirstStartTime: 00:30:00',
          `Job.Args: ${importArgs(drop)}`,
          'Job.NotifyInfo.OnEvents: JobEndOKWithMsgs,JobEndFail',
        ]),
    );

    // Nothing is due when the jobs were just defined.
    expect(a.scheduler.runDue().runs).toEqual([]);
    expect(b.scheduler.runDue().runs).toEqual([]);

    // 00:30: B imports before A has exported anything: the task fails with status 3.
    clock.set(at('2024-01-16T00:30:00Z'));
    expect(a.scheduler.runDue().runs).toEqual([]);
    const failing = b.scheduler.runDue();
    expect(failing.runs.map((r) => [r.jobId, r.reason, r.scheduledFor])).toEqual([[60, 'scheduled', clock.now()]]);
    const [failed] = (await failing.done) as [RunResult];
    expect(failed).toMatchObject({ jobId: 60, exitStatus: 3, event: 'JobEndFail', messages: `no packet in ${drop}` });
    expect(b.store.getJob(60).lastCompletion).toEqual({
      processId: failed.processId,
      started: '2024-01-16T00:30:00.000Z',
      ended: '2024-01-16T00:30:00.000Z',
      exitStatus: 3,
      messages: `no packet in ${drop}`,
    });
    expect(failed.processId).toBeGreaterThan(0);
    let notes = newNotifications();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^ARGS: -s msite: job 60 "Import From A" failed -f \S+\/message admin@b\.example\n/);
    expect(notes[0]).toContain('Job 60 "Import From A" failed with exit status 3.');
    expect(notes[0]).toContain(`Command:     ${SYNC_PROGRAM} syncreplica --import ${drop}`);
    expect(notes[0]).toContain(`Site home:   ${b.home}`);
    expect(notes[0]).toContain(`Exit status: 3\n\nMessages:\nno packet in ${drop}\n`);
    expect(siteContent(b.home)).toBeUndefined();

    // 01:00: A exports.
    clock.set(at('2024-01-16T01:00:00Z'));
    expect(b.scheduler.runDue().runs).toEqual([]);
    const exporting = a.scheduler.runDue();
    const [exported] = (await exporting.done) as [RunResult];
    expect(exported).toMatchObject({ jobId: 50, exitStatus: 0, event: 'JobEndOKWithMsgs', deleted: false });
    expect(a.store.getJob(50).lastCompletion).toMatchObject({ exitStatus: 0, messages: `exported data.txt to ${drop}/packet` });
    notes = newNotifications();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^ARGS: -s msite: job 50 "Export To B" completed with messages -f \S+ ops@a\.example\n/);
    expect(notes[0]).toContain(`Messages:\nexported data.txt to ${drop}/packet\n`);

    // Next day 00:30: B's import succeeds and B has A's content.
    clock.set(at('2024-01-17T00:30:00Z'));
    const importing = b.scheduler.runDue();
    const [imported] = (await importing.done) as [RunResult];
    expect(imported).toMatchObject({ exitStatus: 0, messages: `imported ${drop}/packet` });
    expect(siteContent(b.home)).toBe(siteContent(a.home));
    expect(b.store.getJob(60).lastCompletion?.exitStatus).toBe(0);
    expect(newNotifications()[0]).toMatch(/^ARGS: -s msite: job 60 "Import From A" completed with messages -f \S+ admin@b\.example\n/);
    expect(b.store.getRunState(60)).toMatchObject({ lastScheduledStart: clock.now() });
    expect(b.store.getRunState(60).running).toBeUndefined();
  });

  it('runs a missed start once, for the latest one, also after a restart; starts before the definition never run', async () => {
    const clock = new ManualClock(T0);
    const s = site(clock, 'root');
    const out = path.join(root, 'missed.log');
    s.store.set(
      task('Append', script('append.sh', `echo "$MSITE_JOB_ID $*" >> ${out}\n`)) +
        job(70, 'Hourly', 'Append', [
          'Job.Schedule.Daily.Frequency: 1',
          'Job.Schedule.FirstStartTime: 00:00:00',
          'Job.Schedule.StartTimeRestartFrequency: 01:00:00',
          'Job.Args: "a b" c',
        ]),
    );
    // Three days pass without a check (the daemon was down).
    clock.set(at('2024-01-18T09:40:00Z'));
    const tick = s.scheduler.runDue();
    expect(tick.runs.map((r) => [r.jobId, r.scheduledFor])).toEqual([[70, at('2024-01-18T09:00:00Z')]]);
    await tick.done;
    expect(s.scheduler.runDue().runs).toEqual([]);
    // A restarted daemon (a new scheduler on the same store) does not run it again.
    const restarted = new Scheduler({ store: s.store, home: s.home, clock, timeZone: UTC });
    expect(restarted.runDue().runs).toEqual([]);
    clock.set(at('2024-01-18T10:00:00Z'));
    await restarted.runDue().done;
    expect(fs.readFileSync(out, 'utf8')).toBe('70 a b c\n70 a b c\n');
    expect(restarted.nextWake()).toBe(at('2024-01-18T11:00:00Z'));
    // Redefined at 11:30 after the 11:00 start was missed: that start predates the definition, so it never runs.
    clock.set(at('2024-01-18T11:30:00Z'));
    s.store.set(printDefinition({ tasks: s.store.getTasks().slice(2), jobs: s.store.getJobs().map((j) => ({ ...j, args: 'changed' })) }));
    expect(restarted.runDue().runs).toEqual([]);
    clock.set(at('2024-01-18T12:00:00Z'));
    await restarted.runDue().done;
    expect(fs.readFileSync(out, 'utf8')).toBe('70 a b c\n70 a b c\n70 changed\n');
  });

  it('never runs one job twice at once: a start during a run is skipped, a demand is refused', async () => {
    const clock = new ManualClock(T0);
    const s = site(clock, 'root');
    const gate = path.join(root, 'gate');
    s.store.set(
      task('Wait For Gate', script('gate.sh', `while [ ! -f ${gate} ]; do sleep 0.02; done\necho passed\n`)) +
        job(71, 'Slow', 'Wait For Gate', [
          'Job.Schedule.Daily.Frequency: 1',
          'Job.Schedule.FirstStartTime: 00:00:00',
          'Job.Schedule.StartTimeRestartFrequency: 00:10:00',
        ]),
    );
    clock.set(at('2024-01-16T00:00:00Z'));
    const first = s.scheduler.runDue();
    expect(first.runs).toHaveLength(1);
    clock.set(at('2024-01-16T00:10:00Z'));
    expect(s.scheduler.runDue().runs).toEqual([]);
    expect(() => s.scheduler.runJob(71)).toThrow(StateError);
    // Another process (a second scheduler, as `schedule --run` would be) is refused too.
    const other = new Scheduler({ store: s.store, home: s.home, clock, timeZone: UTC });
    expect(() => other.runJob('Slow')).toThrow('job 71 "Slow" is already running');
    expect(other.runDue().runs).toEqual([]);
    fs.writeFileSync(gate, '');
    await first.done;
    // The 00:10 start was skipped, not made up for; 00:20 runs.
    expect(s.scheduler.runDue().runs).toEqual([]);
    clock.set(at('2024-01-16T00:20:00Z'));
    const third = s.scheduler.runDue();
    expect(third.runs.map((r) => r.scheduledFor)).toEqual([clock.now()]);
    await third.done;
  });

  it('starts Sequential jobs after their predecessor, deletes DeleteWhenCompleted jobs, runs predefined tasks as msite', async () => {
    const clock = new ManualClock(T0);
    const s = site(clock, 'root');
    const out = path.join(root, 'chain.log');
    const append = script('chain.sh', `echo "$MSITE_JOB_NAME" >> ${out}\nexit $1\n`);
    s.store.set(
      task('Chain', append) +
        job(80, 'First', 'Chain', [
          'Job.Schedule.Once.Date: 2024-01-16',
          'Job.Schedule.FirstStartTime: 06:00:00',
          'Job.DeleteWhenCompleted: TRUE',
          'Job.Args: 1',
        ]) +
        job(81, 'Second', 'Chain', ['Job.Schedule.Sequential.FollowsJob: 80', 'Job.Args: 0']) +
        job(82, 'Third', 'Chain', ['Job.Schedule.Sequential.FollowsJob: "Second"', 'Job.Args: 0']) +
        job(83, 'Disabled', 'Chain', [
          'Job.Schedule.Sequential.FollowsJob: 82',
          'Job.Schedule.StartDate: 2024-01-01',
          'Job.Schedule.LastDate: 2024-01-01',
        ]),
    );
    const ended: number[] = [];
    const scheduler = new Scheduler({ store: s.store, home: s.home, clock, timeZone: UTC, onRunEnd: (r) => ended.push(r.jobId) });
    clock.set(at('2024-01-16T06:00:00Z'));
    const tick = scheduler.runDue();
    expect(tick.runs.map((r) => r.jobId)).toEqual([80]);
    await scheduler.idle();
    expect(ended).toEqual([80, 81, 82]);
    expect(fs.readFileSync(out, 'utf8')).toBe('First\nSecond\nThird\n');
    // First failed, and its successor still ran; First is not deleted while Second follows it.
    expect(s.store.getJob(80).lastCompletion?.exitStatus).toBe(1);
    expect(s.store.getJob(82).lastCompletion?.exitStatus).toBe(0);

    // A predefined task runs this msite with --home, the job's arguments after it.
    const { argv } = scheduler.commandOf(
      { name: 'x', schedule: { kind: 'Daily', frequency: 1, firstStartTime: '00:00:00' }, task: { id: 13 }, args: '-quiet 1 -all' },
      s.store.getTasks(),
    );
    expect(argv).toEqual([process.execPath, ...msiteInvocation().args, 'sync_export_list', '--home', s.home, '-quiet', '1', '-all']);
    expect(fs.existsSync(msiteInvocation().args[0]!)).toBe(true);

    // A DeleteWhenCompleted job nothing follows is deleted when it completes.
    s.store.set(
      task('Chain', append) +
        job(84, 'Once Only', 'Chain', [
          'Job.Schedule.Once.Date: 2024-01-16',
          'Job.Schedule.FirstStartTime: 07:00:00',
          'Job.DeleteWhenCompleted: TRUE',
          'Job.Args: 0',
        ]),
    );
    clock.set(at('2024-01-16T07:00:00Z'));
    const [once] = (await scheduler.runDue().done) as [RunResult];
    expect(once).toMatchObject({ jobId: 84, exitStatus: 0, deleted: true });
    expect(s.store.getJobs()).toEqual([]);
  });

  it('records what a run printed safely, a program that cannot start, and a run whose runner died', async () => {
    const clock = new ManualClock(T0);
    const s = site(clock, 'root');
    s.store.set(
      task('Tricky', script('tricky.sh', 'echo "line 1"\necho "Job.End"\necho "  Job.LastCompletionInfo.Messages.End:"\n')) +
        task('Missing', path.join(root, 'no-such-program')) +
        job(90, 'Tricky Output', 'Tricky', ['Job.Schedule.Daily.Frequency: 1', 'Job.Schedule.FirstStartTime: 03:00:00']) +
        job(91, 'Missing Program', 'Missing', ['Job.Schedule.Daily.Frequency: 1', 'Job.Schedule.FirstStartTime: 03:00:00']),
    );
    clock.set(at('2024-01-16T03:00:00Z'));
    const results = (await s.scheduler.runDue().done).sort((x, y) => x.jobId - y.jobId);
    expect(results.map((r) => [r.jobId, r.exitStatus, r.messages])).toEqual([
      [90, 0, 'line 1\n> Job.End\n>   Job.LastCompletionInfo.Messages.End:'],
      [91, 127, `cannot run ${path.join(root, 'no-such-program')}: no such file`],
    ]);
    // The store (which keeps jobs in their text form) still reads back.
    const again = SiteDatabase.open(s.home);
    expect(ScheduleStore.open(again.db).getJob(90).lastCompletion?.messages).toBe(results[0]!.messages);
    again.close();

    // A run recorded by a runner that died: recorded as of unknown outcome at the next check.
    const dead = 2 ** 22 + 999;
    s.store.recordStart(90, { processId: dead, started: clock.now(), runnerPid: dead });
    clock.set(at('2024-01-16T03:30:00Z'));
    expect(s.scheduler.runDue().runs).toEqual([]);
    expect(s.store.getRunState(90).running).toBeUndefined();
    expect(s.store.getJob(90).lastCompletion).toMatchObject({ processId: dead, exitStatus: -1 });
  });

  it('stop() ends a run that outlives the grace period and records it', async () => {
    const clock = new ManualClock(T0);
    const s = site(clock, 'root');
    s.store.set(
      task('Sleep', script('sleep.sh', 'echo sleeping\nexec sleep 30\n')) +
        job(95, 'Sleeper', 'Sleep', ['Job.Schedule.Once.Date: 2024-01-16', 'Job.Schedule.FirstStartTime: 00:00:00']),
    );
    const scheduler = new Scheduler({ store: s.store, home: s.home, clock, timeZone: UTC });
    const run = scheduler.runJob(95);
    expect(s.store.getRunState(95).running?.processId).toBe(run.processId);
    await new Promise((r) => setTimeout(r, 100));
    await scheduler.stop(50, 1_000);
    const result = await run.done;
    expect(result.exitStatus).toBe(143);
    expect(result.messages).toBe('sleeping\n[msite serve stopped: the run was ended with SIGTERM]');
    expect(s.store.getJob(95).lastCompletion?.exitStatus).toBe(143);
    expect(() => scheduler.runJob(95)).toThrow('the scheduler is stopping');
  });
});
