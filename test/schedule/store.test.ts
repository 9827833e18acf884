import * as fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { IoError, NotFoundError, StateError } from '../../src/core/errors.js';
import { AmbiguousJobError } from '../../src/schedule/ambiguousJobError.js';
import { DefinitionError } from '../../src/schedule/definitionError.js';
import { ScheduleAccessError } from '../../src/schedule/scheduleAccessError.js';
import { processIdentity } from '../../src/core/processAlive.js';
import { ScheduleStore } from '../../src/schedule/scheduleStore.js';
import { readStoredSchedule } from '../../src/schedule/storedSchedule.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { printDefinition, printJob, taskNameLookup } from '../../src/schedule/print.js';
import { isEnabled } from '../../src/schedule/recurrence.js';
import { fixture, seedBlocks } from './fixtures.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
let dir: string;
let clock: ManualClock;
let opened: SiteDatabase[] = [];

/** A store on its own connection to the site database, as another process would have. */
function open(): ScheduleStore {
  const site = SiteDatabase.open(dir, { busyTimeoutMs: 200 });
  opened.push(site);
  return ScheduleStore.open(site.db, { clock, owner: 'admin' });
}

/** Files in the home besides the site database's own. */
function otherFiles(): string[] {
  return fs.readdirSync(dir).filter((f) => !/^site\.db(-wal|-shm)?$/.test(f));
}

/** Every job of the seed, as one definition file (jobs 19 and 20 share a name). */
function seedSet(): string {
  return fixture('seed-jobs.txt');
}

beforeEach(() => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'msite-')), 'home');
  clock = new ManualClock(T0);
});
afterEach(() => {
  for (const site of opened) site.close();
  opened = [];
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});

describe('ScheduleStore', () => {
  it('starts with the predefined tasks, the disabled predefined jobs and the default ACL', () => {
    const store = open();
    const { jobs, tasks, acl } = store.get();
    expect(tasks.map((t) => [t.id, t.name, t.pathname])).toEqual([
      [13, 'MultiSite Sync Export', 'sync_export_list'],
      [14, 'MultiSite Sync Receive', 'sync_receive'],
    ]);
    expect(jobs.map((j) => [j.id, j.name, j.args, isEnabled(j)])).toEqual([
      [10, 'Daily MultiSite Export', '-all', false],
      [11, 'Daily MultiSite Shipping Poll', '-poll', false],
      [12, 'Daily MultiSite Receive', undefined, false],
    ]);
    expect(acl).toEqual([
      { principal: { everyone: true }, access: 'read' },
      { principal: { user: 'admin' }, access: 'full' },
    ]);
    expect(store.getRunState(10)).toEqual({ definedAt: T0 });
    expect(otherFiles()).toEqual([]);
  });

  it('keeps a set definition across instances and prints every job back byte-identically', () => {
    const text = seedSet();
    expect(text).toBe(`${seedBlocks().join('\n\n')}\n`);
    const stored = open().set(text, { user: 'admin' });
    expect(stored.map((j) => j.id)).toEqual([17, 18, 19, 20, 15]);
    const again = open();
    expect(printDefinition({ jobs: again.getJobs() })).toBe(text);
    expect(printJob(again.getJob(19))).toBe(seedBlocks()[2]);
    expect(printJob(again.getJob(20))).toBe(seedBlocks()[3]);
    expect(again.getJob('Sync Import ALL').id).toBe(15);
    expect(again.getJob('"Sync Import ALL"').id).toBe(15);
    expect(again.getJob('17').name).toBe('Sync Export Force ALL');
    expect(() => again.getJob(10)).toThrow(NotFoundError);
    expect(() => again.getJob('Nope')).toThrow('scheduled job not found: "Nope"');
    expect(again.getRunState(20)).toEqual({ definedAt: T0 });
  });

  it('finds a job by a name only when no other job has it, else asks for the Id', () => {
    const store = open();
    store.set(seedSet());
    let caught: unknown;
    try {
      store.getJob('Shipping Server Poll');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AmbiguousJobError);
    expect((caught as AmbiguousJobError).code).toBe('AMBIGUOUS_JOB');
    expect((caught as AmbiguousJobError).toLine()).toBe(
      'scheduled job name is ambiguous: "Shipping Server Poll" names jobs 19 and 20 (name the job by its Job.Id, e.g. 19)',
    );
    expect(() => store.deleteJob('"Shipping Server Poll"')).toThrow(AmbiguousJobError);
    expect(store.getJobs()).toHaveLength(5);
    expect(store.deleteJob(19).id).toBe(19);
    expect(store.getJob('Shipping Server Poll').id).toBe(20);
  });

  it.each([
    ['a bad time', seedSet().replace('21:00:00', '25:00:00'), 'line 21: Job.Schedule.FirstStartTime must be HH:MM:SS, got "25:00:00"'],
    ['a duplicate Id', `${seedSet()}\n${fixture('seed-job-19.txt')}`, 'line 68: duplicate Job.Id 19 (first at line 28)'],
    [
      'an unknown task',
      seedSet().replace('Job.Task: 14', 'Job.Task: 77'),
      'line 64: Job.Task 77 names no known task (known: 13 "MultiSite Sync Export", 14 "MultiSite Sync Receive", 101 "Nightly Backup")',
    ],
    ['a missing Job.End', seedSet().replace(/Job\.End\n$/, ''), 'line 55: Job.Begin has no Job.End'],
    [
      'a redefined predefined task',
      `Task.Begin\nTask.Id: 13\nTask.Name: "MultiSite Sync Export"\nTask.Pathname: /bin/false\nTask.End\n${seedSet()}`,
      'line 1: task 13 is predefined and cannot be redefined',
    ],
  ])('refuses %s and changes nothing', (_what, text, message) => {
    const store = open();
    store.set(fixture('all-kinds.txt'));
    const before = readStoredSchedule(store.db);
    let caught: unknown;
    try {
      store.set(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DefinitionError);
    expect((caught as DefinitionError).message).toBe(message);
    expect(readStoredSchedule(store.db)).toEqual(before);
    expect(otherFiles()).toEqual([]);
  });

  it('assigns ids to new jobs and custom tasks, never reusing a job id', () => {
    const store = open();
    store.set(seedSet());
    const job = (name: string): string =>
      `Job.Begin\nJob.Name: "${name}"\nJob.Schedule.Daily.Frequency: 1\nJob.Schedule.FirstStartTime: 05:00:00\nJob.Task: "Cleanup"\nJob.End\n`;
    const task = 'Task.Begin\nTask.Name: "Cleanup"\nTask.Pathname: /usr/local/bin/cleanup\nTask.End\n';
    const first = store.set(`${task}${job('New')}`);
    expect(first.map((j) => [j.id, j.name])).toEqual([[21, 'New']]);
    expect(store.getTasks().map((t) => t.id)).toEqual([13, 14, 101]);
    expect(printJob(first[0]!)).toContain('Job.Id: 21\n');
    store.deleteJob(21);
    const second = store.set(job('Newer'));
    expect(second.map((j) => j.id)).toEqual([22]);
    // The task stays registered; restating it (as -get -tasks prints it) keeps its id.
    store.set(`Task.Begin\nTask.Id: 101\nTask.Name: "Cleanup"\nTask.Pathname: /opt/cleanup\nTask.End\n${job('Newer')}`);
    expect(store.getTasks().map((t) => [t.id, t.pathname])).toEqual([
      [13, 'sync_export_list'],
      [14, 'sync_receive'],
      [101, '/opt/cleanup'],
    ]);
  });

  it('records starts and completions, shown as LastCompletionInfo and kept across instances', () => {
    const store = open();
    store.set(seedSet());
    // A pid no process has (above Linux's pid_max): no identity is recorded for it.
    const task = 2 ** 22 + 4242;
    store.recordStart(20, { processId: task, started: T0, scheduledFor: T0 });
    expect(open().getRunState(20)).toEqual({
      definedAt: T0,
      lastScheduledStart: T0,
      running: { processId: task, started: T0, runnerPid: process.pid, runnerIdentity: processIdentity() },
    });
    expect(
      store.recordCompletion(20, { processId: task, started: T0, ended: T0 + 7000, exitStatus: 0, messages: '2 orders sent' }),
    ).toEqual({
      deleted: false,
    });
    const job = open().getJob(20);
    expect(job.lastCompletion).toEqual({
      processId: task,
      started: '2024-01-15T12:00:00.000Z',
      ended: '2024-01-15T12:00:07.000Z',
      exitStatus: 0,
      messages: '2 orders sent',
    });
    expect(
      printJob(job, { annotateTasks: taskNameLookup(store.getTasks()) })
        .split('\n')
        .slice(-11),
    ).toEqual([
      'Job.Task: 13',
      '# Job.Task: "MultiSite Sync Export"',
      'Job.Args: -quiet 1 -poll',
      `Job.LastCompletionInfo.ProcessId: ${task}`,
      'Job.LastCompletionInfo.Started: 2024-01-15T12:00:00.000Z',
      'Job.LastCompletionInfo.Ended: 2024-01-15T12:00:07.000Z',
      'Job.LastCompletionInfo.ExitStatus: 0',
      'Job.LastCompletionInfo.Messages.Begin:',
      '2 orders sent',
      'Job.LastCompletionInfo.Messages.End:',
      'Job.End',
    ]);
    expect(open().getRunState(20).running).toBeUndefined();
    expect(() => store.recordCompletion(99, { processId: 1, started: T0, ended: T0, exitStatus: 0 })).toThrow(NotFoundError);
  });

  it('claims a job for one run at a time, also between processes, but not after its runner died', () => {
    const store = open();
    store.set(seedSet());
    store.claimRun(20, { started: T0, scheduledFor: T0 });
    expect(open().getRunState(20)).toMatchObject({ lastScheduledStart: T0, running: { processId: 0, runnerPid: process.pid } });
    expect(() => open().claimRun(20, { started: T0 })).toThrow('job 20 "Shipping Server Poll" is already running (process 0)');
    const dead = 2 ** 22 + 4321;
    store.recordStart(20, { processId: dead, started: T0, runnerPid: dead });
    expect(() => open().claimRun(20, { started: T0 + 1 })).not.toThrow();
    expect(store.getRunState(20).running).toEqual({
      processId: 0,
      started: T0 + 1,
      runnerPid: process.pid,
      runnerIdentity: processIdentity(),
    });
    // A runner whose pid a live process reused since: its identity differs, so the run is not live.
    const db = new BetterSqlite3(path.join(dir, 'site.db'));
    db.prepare('UPDATE schedule_job_state SET running_runner = ? WHERE job_id = 20').run('another-boot:1');
    db.close();
    expect(() => open().claimRun(20, { started: T0 + 2 })).not.toThrow();
  });

  it('setting the -get output back ignores read-only fields and keeps the state of unchanged jobs', () => {
    const store = open();
    store.set(seedSet());
    store.recordCompletion(17, { processId: 7, started: T0, ended: T0 + 1000, exitStatus: 1 });
    const edited = printDefinition({ jobs: store.getJobs() }).replace('Job.Args: -quiet 1 -poll', 'Job.Args: -quiet 2 -poll');
    clock.advance(60_000);
    store.set(edited.replace('Job.LastCompletionInfo.ExitStatus: 1', 'Job.LastCompletionInfo.ExitStatus: 0'));
    expect(store.getJob(17).lastCompletion?.exitStatus).toBe(1);
    expect(store.getRunState(17).definedAt).toBe(T0);
    // Only the first "-quiet 1 -poll" (job 19's) was edited.
    expect(store.getRunState(19).definedAt).toBe(T0 + 60_000);
    expect(store.getJob(19).args).toBe('-quiet 2 -poll');
    expect(store.getRunState(20).definedAt).toBe(T0);
    expect(store.getJob(20).args).toBe('-quiet 1 -poll');
    // Unchanged jobs without completion info still print as first set.
    expect(printJob(store.getJob(15))).toBe(seedBlocks()[4]);
  });

  it('deletes a job that is DeleteWhenCompleted once it completes', () => {
    const store = open();
    store.set(fixture('all-kinds.txt'));
    expect(store.recordCompletion(33, { processId: 9, started: T0, ended: T0, exitStatus: 0 })).toEqual({ deleted: true });
    expect(() => open().getJob(33)).toThrow(NotFoundError);
    expect(open().getRunState(33)).toEqual({});
  });

  it('deletes jobs, but not one a Sequential job runs after', () => {
    const store = open();
    store.set(fixture('all-kinds.txt'));
    expect(() => store.deleteJob('Month End Export')).toThrow(StateError);
    expect(() => store.deleteJob(31)).toThrow(
      'cannot delete job 31 "Month End Export": job 32 "Receive After Export" runs after it (Sequential)',
    );
    expect(store.deleteJob(32).name).toBe('Receive After Export');
    expect(store.deleteJob(31).id).toBe(31);
    expect(
      open()
        .getJobs()
        .map((j) => j.id),
    ).toEqual([30, 33, 34]);
    expect(() => store.deleteJob(31)).toThrow(NotFoundError);
  });

  it('enforces the ACL: Read may look, Change may set, Full may change the ACL', () => {
    const store = open();
    store.setAcl('# scheduler ACL\nEveryone: Read\nUser:admin: Full\nUser:ops: Change\n', { user: 'admin' });
    expect(open().getAcl()).toEqual([
      { principal: { everyone: true }, access: 'read' },
      { principal: { user: 'admin' }, access: 'full' },
      { principal: { user: 'ops' }, access: 'change' },
    ]);
    const before = readStoredSchedule(store.db);
    expect(() => store.set(seedSet(), { user: 'guest' })).toThrow(ScheduleAccessError);
    expect(() => store.set(seedSet(), { user: 'guest' })).toThrow(
      'scheduler access refused: user "guest" has Read access in the scheduler ACL, Change is required',
    );
    expect(() => store.deleteJob(10, { user: 'guest' })).toThrow(ScheduleAccessError);
    expect(() => store.setAcl('Everyone: Full\n', { user: 'ops' })).toThrow(
      'scheduler access refused: user "ops" has Change access in the scheduler ACL, Full is required',
    );
    expect(readStoredSchedule(store.db)).toEqual(before);
    expect(() => store.requireAccess('guest', 'read')).not.toThrow();
    store.set(seedSet(), { user: 'ops' });
    expect(store.getJobs()).toHaveLength(5);

    store.setAcl('User:admin: Full\n', { user: 'admin' });
    let caught: unknown;
    try {
      store.requireAccess('guest', 'read');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ScheduleAccessError);
    expect((caught as ScheduleAccessError).code).toBe('SCHEDULE_ACCESS');
    expect((caught as ScheduleAccessError).toLine()).toBe(
      'scheduler access refused: user "guest" has no access in the scheduler ACL, Read is required (ask a user with Full access to grant Read in the scheduler ACL)',
    );
    expect(() => store.setAcl('Everyone: Read\nEveryone: Full\nUser:x: Sometimes\n')).toThrow(
      'line 2: Everyone given twice (first at line 1) (and 1 more)',
    );
  });

  it('re-reads in its write transaction: two instances do not lose each other’s changes', () => {
    const daemon = open();
    const cli = open();
    daemon.set(seedSet());
    cli.recordCompletion(17, { processId: 1, started: T0, ended: T0, exitStatus: 0 });
    daemon.recordStart(20, { processId: 2, started: T0 });
    expect(open().getJob(17).lastCompletion?.processId).toBe(1);
    expect(open().getRunState(20).running?.processId).toBe(2);
  });

  it('keeps one history row per completed run, also of a job deleted when it completed', () => {
    const store = open();
    store.set(seedSet().replace(/(Job\.Id: 20\n[\s\S]*?)Job\.DeleteWhenCompleted: FALSE/, '$1Job.DeleteWhenCompleted: TRUE'));
    store.recordCompletion(17, { processId: 1, started: T0, ended: T0 + 5, exitStatus: 0, messages: 'ok' });
    store.recordCompletion(17, { processId: 2, started: T0 + 10, ended: T0 + 20, exitStatus: 3 });
    store.recordCompletion(20, { processId: 3, started: T0, ended: T0 + 1, exitStatus: 0 });
    expect(open().getRunHistory({ jobId: 17 })).toEqual([
      { seq: 2, jobId: 17, jobName: 'Sync Export Force ALL', processId: 2, started: T0 + 10, ended: T0 + 20, exitStatus: 3 },
      { seq: 1, jobId: 17, jobName: 'Sync Export Force ALL', processId: 1, started: T0, ended: T0 + 5, exitStatus: 0, messages: 'ok' },
    ]);
    expect(store.getRunHistory({ limit: 1 })).toEqual([
      { seq: 3, jobId: 20, jobName: 'Shipping Server Poll', processId: 3, started: T0, ended: T0 + 1, exitStatus: 0 },
    ]);
    expect(store.getJobs().map((j) => j.id)).not.toContain(20);
  });

  it('waits for another writer’s transaction, then gives up with a transient error and changes nothing', () => {
    const store = open();
    const other = new BetterSqlite3(store.file);
    other.exec('BEGIN IMMEDIATE');
    const before = readStoredSchedule(store.db);
    let caught: unknown;
    try {
      store.set(seedSet());
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(IoError);
    expect((caught as IoError).transient).toBe(true);
    expect((caught as IoError).message).toBe(`schedule store busy: ${store.file} stayed locked by another process`);
    other.exec('ROLLBACK');
    other.close();
    expect(readStoredSchedule(store.db)).toEqual(before);
    expect(store.set(seedSet())).toHaveLength(5);
  });

  it('refuses a stored schedule it cannot read', () => {
    const store = open();
    store.db.prepare('UPDATE schedule SET jobs = ?').run('Job.Begin\nJob.Id: x\n');
    expect(() => store.getJobs()).toThrow(`schedule store unreadable: ${store.file}: jobs: line 1: Job.Begin has no Job.End`);
  });
});
