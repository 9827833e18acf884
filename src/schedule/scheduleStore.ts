import * as os from 'node:os';
import type { Database } from 'better-sqlite3';
import { isoTime, systemClock, type Clock } from '../core/clock.js';
import { IoError, NotFoundError, StateError, StorageError } from '../core/errors.js';
import { defaultAcl, parseAcl, printAcl, requireAccess, type AccessLevel, type AclEntry } from './acl.js';
import { DefinitionError, type DefinitionProblem } from './definitionError.js';
import { lineOf } from './itemSource.js';
import { AmbiguousJobError } from './ambiguousJobError.js';
import { processAlive, processIdentity } from '../core/processAlive.js';
import { refersTo, type JobDefinition, type LastCompletionInfo, type TaskDefinition } from './model.js';
import { parseDefinition } from './parse.js';
import { isPredefinedTask, predefinedJobs, predefinedTasks } from './predefined.js';
import { canonicalJobText, printDefinition } from './print.js';
import { appendRun, listRuns, type CompletedRun } from './runHistory.js';
import { readStoredSchedule, writeStoredSchedule } from './storedSchedule.js';
import { validateDefinition } from './validate.js';

/**
 * A site's scheduler state, in the site database's schedule tables (see scheduleSchema.ts): the job
 * definitions, the custom tasks (the predefined ones always come from code), the ACL, per job its run
 * state and LastCompletionInfo, and the history of completed runs.
 *
 * Every change is one `BEGIN IMMEDIATE` transaction that re-reads what it changes, so writers (the
 * CLI, the daemon) queue on SQLite's write lock and never lose each other's changes, and jobs and
 * their state always change together. Readers read one snapshot and wait for nobody. Jobs, tasks and
 * ACL are kept in their text formats, so an unmodified job prints back exactly as it was set.
 */

export interface ScheduleStoreOptions {
  /** Stamps definition and completion times. Default: the system clock. */
  clock?: Clock;
  /** The user given Full access in a new store's ACL. Default: the current OS user. */
  owner?: string;
}

/** What the scheduler keeps about one job besides its definition. Times are ms since the epoch. */
export interface JobRunState {
  /** When the job's present definition was set: the start of the window for missed runs. */
  definedAt?: number;
  /** The scheduled start the runner last ran (see `dueStart`). */
  lastScheduledStart?: number;
  /**
   * The run in progress: the task's process, and the process that started it and will record its end
   * (the daemon, or a `schedule --run` in the foreground). Process id 0 while it is being started.
   */
  running?: {
    processId: number;
    started: number;
    runnerPid?: number;
    /** processIdentity of the task's process and of the runner: a live process that only reused a pid is neither. */
    processIdentity?: string;
    runnerIdentity?: string;
  };
  lastCompletion?: LastCompletionInfo;
}

export interface StartRecord {
  processId: number;
  started: number;
  /** The scheduled start this run serves; absent for `--run` on demand. */
  scheduledFor?: number;
  /** The process that waits for the task and records its end. Default: this process. */
  runnerPid?: number;
}

export interface CompletionRecord {
  processId: number;
  started: number;
  ended: number;
  exitStatus: number;
  messages?: string;
}

export interface ScheduleSnapshot {
  /** With their LastCompletionInfo. */
  jobs: JobDefinition[];
  /** Predefined, then custom. */
  tasks: TaskDefinition[];
  acl: AclEntry[];
}

export interface ActingUser {
  /** When given, the ACL must grant this user the access the operation needs. */
  user?: string;
}

interface Loaded {
  jobs: JobDefinition[];
  customTasks: TaskDefinition[];
  acl: AclEntry[];
  nextJobId: number;
  state: Map<number, JobRunState>;
}

/** Custom tasks get ids from here up, clear of the standard tasks' range, as in ClearCase. */
const FIRST_CUSTOM_TASK_ID = 101;

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env['USER'] ?? 'root';
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Whether a recorded run may still end and be recorded: its runner lives, or, when the runner died
 * (a daemon killed hard), its task still runs, so starting another would overlap it.
 */
export function runIsLive(running: NonNullable<JobRunState['running']>): boolean {
  if (running.runnerPid !== undefined && processAlive(running.runnerPid, running.runnerIdentity)) return true;
  return processAlive(running.processId, running.processIdentity);
}

/**
 * Where the window of starts not yet served begins: the later of the last scheduled start that ran and
 * the time the job's present definition was set (starts before a definition never run). Undefined for
 * a job with no state.
 */
export function servedUntil(state: JobRunState): number | undefined {
  const times = [state.lastScheduledStart, state.definedAt].filter((t): t is number => t !== undefined);
  return times.length === 0 ? undefined : Math.max(...times);
}

function startedState(prev: JobRunState, start: StartRecord): JobRunState {
  const runnerPid = start.runnerPid ?? process.pid;
  // Read now, while both live: the task's process was just started (one that already ended has none).
  const runnerIdentity = processIdentity(runnerPid);
  const taskIdentity = start.processId > 0 ? processIdentity(start.processId) : undefined;
  const next: JobRunState = {
    ...prev,
    running: {
      processId: start.processId,
      started: start.started,
      runnerPid,
      ...(runnerIdentity ? { runnerIdentity } : {}),
      ...(taskIdentity ? { processIdentity: taskIdentity } : {}),
    },
  };
  if (start.scheduledFor !== undefined) next.lastScheduledStart = start.scheduledFor;
  return next;
}

const READ_ONLY_KEYS = ['created', 'lastModified', 'nextRunTime', 'lastCompletion'] as const;

export class ScheduleStore {
  /** The database file (what a watcher of the store watches). */
  readonly file: string;
  private readonly clock: Clock;

  private constructor(
    readonly db: Database,
    private readonly options: ScheduleStoreOptions,
  ) {
    this.file = db.name;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Opens the store in `db`, a database holding the schedule tables (the site database; the caller
   * keeps it and closes it). A store never written gets the predefined tasks, the disabled predefined
   * jobs and the default ACL.
   */
  static open(db: Database, options: ScheduleStoreOptions = {}): ScheduleStore {
    const store = new ScheduleStore(db, options);
    if (store.read(() => readStoredSchedule(db)) === undefined) {
      store.change(() => {
        if (readStoredSchedule(db) !== undefined) return;
        const jobs = predefinedJobs();
        const now = store.clock.now();
        store.write({
          jobs,
          customTasks: [],
          acl: defaultAcl(options.owner ?? currentUser()),
          nextJobId: Math.max(...jobs.map((j) => j.id ?? 0)) + 1,
          state: new Map(jobs.map((j) => [j.id!, { definedAt: now }])),
        });
      });
    }
    return store;
  }

  /** Every job (with its LastCompletionInfo), every task, and the ACL. */
  get(): ScheduleSnapshot {
    const loaded = this.load();
    return { jobs: this.withState(loaded), tasks: [...predefinedTasks(), ...loaded.customTasks], acl: loaded.acl };
  }

  getJobs(): JobDefinition[] {
    return this.withState(this.load());
  }

  /**
   * One job, by id (`17`, "17") or by name (`Sync Export Force ALL`, quotes optional).
   *
   * @throws NotFoundError; AmbiguousJobError when several jobs have that name.
   */
  getJob(idOrName: number | string): JobDefinition {
    const loaded = this.load();
    const job = this.find(loaded.jobs, idOrName);
    return this.withState({ ...loaded, jobs: [job] })[0]!;
  }

  getTasks(): TaskDefinition[] {
    return [...predefinedTasks(), ...this.load().customTasks];
  }

  getAcl(): AclEntry[] {
    return this.load().acl;
  }

  getRunState(jobId: number): JobRunState {
    return this.load().state.get(jobId) ?? {};
  }

  /** The run state of every job that has one, by job id. */
  getRunStates(): Map<number, JobRunState> {
    return this.load().state;
  }

  /** Completed runs, newest first: of one job when `jobId` is given, at most `limit` of them. */
  getRunHistory(options: { jobId?: number; limit?: number } = {}): CompletedRun[] {
    return this.read(() => listRuns(this.db, options));
  }

  /** @throws ScheduleAccessError unless the ACL grants `user` at least `level`. */
  requireAccess(user: string, level: AccessLevel): void {
    requireAccess(this.load().acl, user, level);
  }

  /**
   * Replaces the whole job definition with the jobs in `text` (ClearCase's `schedule -set`). Tasks in the
   * text are added to the registry, or replace the custom task with their id (or name). Everything is
   * validated first; on any problem nothing changes. Jobs without Job.Id get new ids, never reused. The
   * read-only fields (LastCompletionInfo, Created, LastModified, NextRunTime) of the text are ignored:
   * the store's own are kept.
   *
   * @returns the jobs as stored.
   * @throws DefinitionError with the lines at fault; ScheduleAccessError when `user` lacks Change.
   */
  set(text: string, options: ActingUser & { file?: string } = {}): JobDefinition[] {
    return this.change(() => {
      const cur = this.load();
      if (options.user !== undefined) requireAccess(cur.acl, options.user, 'change');
      const def = parseDefinition(text, options.file === undefined ? {} : { file: options.file });
      const registry = [...predefinedTasks(), ...cur.customTasks];
      validateDefinition(def, { tasks: registry, ...(options.file === undefined ? {} : { file: options.file }) });

      const problems: DefinitionProblem[] = [];
      const predefined = predefinedTasks();
      const customTasks = [...cur.customTasks];
      let nextTaskId = Math.max(FIRST_CUSTOM_TASK_ID, ...customTasks.map((t) => (t.id ?? 0) + 1));
      for (const task of def.tasks) {
        if (isPredefinedTask(task)) {
          // Restating a predefined task (as `-get -tasks` prints it) is harmless; changing it is not.
          const same = predefined.some(
            (p) => p.name === task.name && p.pathname === task.pathname && (task.id === undefined || task.id === p.id),
          );
          if (!same) {
            const which = task.id ?? `"${task.name}"`;
            problems.push({ line: lineOf(task), message: `task ${which} is predefined and cannot be redefined` });
          }
          continue;
        }
        const at = customTasks.findIndex((t) => (task.id !== undefined ? t.id === task.id : t.name === task.name));
        const stored = task.id !== undefined ? task : { ...task, id: at >= 0 ? customTasks[at]!.id! : nextTaskId++ };
        if (at >= 0) customTasks[at] = stored;
        else customTasks.push(stored);
        nextTaskId = Math.max(nextTaskId, stored.id! + 1);
      }
      if (problems.length > 0) throw new DefinitionError(problems, options.file);

      let nextJobId = Math.max(cur.nextJobId, ...def.jobs.map((j) => (j.id ?? 0) + 1));
      const jobs = def.jobs.map((job) => {
        let stored = job;
        if (READ_ONLY_KEYS.some((k) => job[k] !== undefined)) {
          stored = { ...job };
          for (const k of READ_ONLY_KEYS) delete stored[k];
        }
        return stored.id === undefined ? { ...stored, id: nextJobId++ } : stored;
      });

      const before = new Map(cur.jobs.map((j) => [j.id!, canonicalJobText(j)]));
      const now = this.clock.now();
      const state = new Map<number, JobRunState>();
      for (const job of jobs) {
        const prev = cur.state.get(job.id!) ?? {};
        const changed = before.get(job.id!) !== canonicalJobText(job);
        state.set(job.id!, changed ? { ...prev, definedAt: now } : prev);
      }
      this.write({ ...cur, jobs, customTasks, nextJobId, state });
      return this.withState({ ...cur, jobs, state });
    });
  }

  /**
   * Deletes one job.
   *
   * @throws NotFoundError; StateError when a Sequential job runs after it; ScheduleAccessError.
   */
  deleteJob(idOrName: number | string, options: ActingUser = {}): JobDefinition {
    return this.change(() => {
      const cur = this.load();
      if (options.user !== undefined) requireAccess(cur.acl, options.user, 'change');
      const job = this.find(cur.jobs, idOrName);
      this.refuseIfFollowed(cur.jobs, job, 'delete');
      const state = new Map(cur.state);
      state.delete(job.id!);
      this.write({ ...cur, jobs: cur.jobs.filter((j) => j !== job), state });
      return job;
    });
  }

  /**
   * Claims the job for a run about to start, so that no two runs of one job ever overlap, also between
   * processes (the daemon and a `schedule --run` in the foreground): in one write transaction, refuses when a
   * live run holds the job, else records a run with process id 0 (then `recordStart` gives the id).
   * A run left behind by a runner that died is replaced; reap it first with `recordCompletion` to keep
   * what is known of it.
   *
   * @throws StateError when the job is running; NotFoundError.
   */
  claimRun(jobId: number, start: Omit<StartRecord, 'processId'>): void {
    this.change(() => {
      const cur = this.load();
      const job = this.find(cur.jobs, jobId);
      const prev = cur.state.get(jobId) ?? {};
      if (prev.running && runIsLive(prev.running)) {
        throw new StateError(`job ${jobId} "${job.name}" is already running (process ${prev.running.processId})`, {
          data: { job: jobId, processId: prev.running.processId },
          hint: `wait for it with msite schedule --wait ${jobId}`,
        });
      }
      this.write({ ...cur, state: new Map(cur.state).set(jobId, startedState(prev, { ...start, processId: 0 })) });
    });
  }

  /** Marks a job as running (the runner calls this when it starts the task). */
  recordStart(jobId: number, start: StartRecord): void {
    this.change(() => {
      const cur = this.load();
      this.find(cur.jobs, jobId);
      const prev = cur.state.get(jobId) ?? {};
      this.write({ ...cur, state: new Map(cur.state).set(jobId, startedState(prev, start)) });
    });
  }

  /**
   * Records how a run ended as the job's LastCompletionInfo, and in the run history. A job with DeleteWhenCompleted: TRUE is
   * deleted now, unless a Sequential job still runs after it (that one is then kept waiting for it).
   *
   * @throws NotFoundError when the job was deleted meanwhile.
   */
  recordCompletion(jobId: number, record: CompletionRecord): { deleted: boolean } {
    return this.change(() => {
      const cur = this.load();
      const job = this.find(cur.jobs, jobId);
      appendRun(this.db, { jobId, jobName: job.name, ...withoutUndefined(record) });
      const state = new Map(cur.state);
      const followed = cur.jobs.some((j) => j.schedule.kind === 'Sequential' && refersTo(j.schedule.followsJob, job));
      if (job.deleteWhenCompleted === true && !followed) {
        state.delete(jobId);
        this.write({ ...cur, jobs: cur.jobs.filter((j) => j !== job), state });
        return { deleted: true };
      }
      const { running: _running, ...prev } = cur.state.get(jobId) ?? {};
      const lastCompletion: LastCompletionInfo = withoutUndefined({
        processId: record.processId,
        started: isoTime(record.started),
        ended: isoTime(record.ended),
        exitStatus: record.exitStatus,
        messages: record.messages,
      });
      state.set(jobId, { ...prev, lastCompletion });
      this.write({ ...cur, state });
      return { deleted: false };
    });
  }

  /**
   * Replaces the ACL.
   *
   * @throws DefinitionError for a bad entry; ScheduleAccessError when `user` lacks Full access.
   */
  setAcl(text: string, options: ActingUser & { file?: string } = {}): AclEntry[] {
    return this.change(() => {
      const cur = this.load();
      if (options.user !== undefined) requireAccess(cur.acl, options.user, 'full');
      const acl = parseAcl(text, options.file);
      this.write({ ...cur, acl });
      return acl;
    });
  }

  private find(jobs: readonly JobDefinition[], idOrName: number | string): JobDefinition {
    const text = String(idOrName).trim();
    const byId = typeof idOrName === 'number' || /^\d+$/.test(text);
    const name = text.replace(/^"(.*)"$/, '$1');
    const found = jobs.filter((j) => (byId ? j.id === Number(text) : j.name === name));
    if (found.length > 1)
      throw new AmbiguousJobError(
        name,
        found.map((j) => j.id!),
      );
    const job = found[0];
    if (!job) throw new NotFoundError('scheduled job', text, { hint: 'list the jobs with msite schedule --get' });
    return job;
  }

  private refuseIfFollowed(jobs: readonly JobDefinition[], job: JobDefinition, verb: string): void {
    const follower = jobs.find((j) => j.schedule.kind === 'Sequential' && refersTo(j.schedule.followsJob, job));
    if (follower) {
      throw new StateError(`cannot ${verb} job ${job.id} "${job.name}": job ${follower.id} "${follower.name}" runs after it (Sequential)`, {
        data: { job: job.id, follower: follower.id },
        hint: 'delete or reschedule that job first',
      });
    }
  }

  private withState(loaded: Pick<Loaded, 'jobs' | 'state'>): JobDefinition[] {
    return loaded.jobs.map((job) => {
      const info = loaded.state.get(job.id!)?.lastCompletion;
      return info ? { ...job, lastCompletion: info } : job;
    });
  }

  /** Runs `fn` as one write transaction (BEGIN IMMEDIATE: the write lock first, then the re-read). */
  private change<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw this.busy(err);
    }
  }

  /** Runs `fn` on one snapshot of the database. */
  private read<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).deferred();
    } catch (err) {
      throw this.busy(err);
    }
  }

  private busy(err: unknown): unknown {
    if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') return err;
    return new IoError(`schedule store busy: ${this.file} stayed locked by another process`, {
      cause: err,
      data: { file: this.file },
      hint: 'another msite command or the daemon is changing the site; try again',
    });
  }

  private load(): Loaded {
    const stored = this.read(() => readStoredSchedule(this.db));
    if (stored === undefined) {
      throw new StorageError(`schedule store unreadable: ${this.file}: it holds no schedule`, {
        hint: 'restore the site database from a backup',
      });
    }
    let jobs: JobDefinition[];
    let customTasks: TaskDefinition[];
    let acl: AclEntry[];
    try {
      jobs = parseDefinition(stored.jobs, { file: 'jobs' }).jobs;
      customTasks = parseDefinition(stored.tasks, { file: 'tasks' }).tasks;
      acl = parseAcl(stored.acl, 'acl');
    } catch (cause) {
      // Only an edit by hand gets here: everything written was validated first.
      throw new StorageError(`schedule store unreadable: ${this.file}: ${(cause as Error).message}`, {
        cause,
        hint: 'correct that part of the schedule, or restore it from a backup',
      });
    }
    return { jobs, customTasks, acl, nextJobId: stored.nextJobId, state: stored.state };
  }

  private write(data: Loaded): void {
    writeStoredSchedule(this.db, {
      jobs: printDefinition({ jobs: data.jobs }),
      tasks: printDefinition({ tasks: data.customTasks }),
      acl: printAcl(data.acl),
      nextJobId: data.nextJobId,
      state: data.state,
    });
  }
}
