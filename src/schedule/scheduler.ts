import { watch, type FSWatcher } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { isoTime, systemClock, type Clock } from '../core/clock.js';
import { NotFoundError, StateError, toMsiteError } from '../core/errors.js';
import { dayNumber } from './localDate.js';
import { formatRef, refersTo, type JobDefinition, type NotifyEvent, type TaskDefinition } from './model.js';
import { msiteInvocation, type CommandLine } from './msiteInvocation.js';
import { siteNotifier, type Notifier, type NotifyOutcome } from '../shipping/notifier.js';
import { builtinCommandOf } from './predefined.js';
import { dueStart, isEnabled, nextStart } from './recurrence.js';
import { runIsLive, servedUntil, type JobRunState, type ScheduleStore } from './scheduleStore.js';
import { childProcessSpawner, type ProcessExit, type SpawnedProcess, type SpawnOptions, type Spawner } from '../core/spawner.js';
import { splitArgs } from './splitArgs.js';
import { hostTimeZone, localDayNumber } from './timeZone.js';

/**
 * The runner: starts jobs at their times as child processes, records how they ended, notifies, and
 * starts Sequential jobs after their predecessors.
 *
 * Rules:
 * - **When.** A job runs for the latest of its scheduled starts that fell in (its last scheduled start,
 *   now] (`dueStart`); a job that never ran counts from when its definition was set. So a start missed
 *   while no daemon ran (or the host slept) runs **once**, on the next check, for the latest missed
 *   start, however many were missed; starts before the definition was set never run.
 * - **One at a time.** Never two runs of one job, also between processes: the store's `claimRun` refuses
 *   a job whose run is live. A start that falls while the job still runs is skipped (logged), so a job
 *   longer than its interval does not run back to back.
 * - **Sequential** jobs start when their predecessor's run ends, whatever its exit status, if they are
 *   enabled and within their dates that day. A predecessor that ends while the daemon is stopping does
 *   not start them.
 * - **Output.** Standard output and error, interleaved, become `LastCompletionInfo.Messages` (the last
 *   `maxMessageBytes`, without the final newline; a line that would end the Messages block is quoted
 *   with "> ").
 * - **Exit status** is the program's; 128 + n when signal n ended it; 127/126 when it could not be
 *   started; -1 when its runner died and the outcome is unknown (recorded at the next check).
 * - **Notifications** (Job.NotifyInfo): OnEvents JobBegin, JobEndOK (any successful end),
 *   JobEndOKWithMsgs (a successful end with output), JobEndFail (non-zero status). Without OnEvents, a
 *   job with Recipients is notified on JobEndOKWithMsgs and JobEndFail; without Recipients, shipping.conf's
 *   ADMINISTRATOR is. One notification per event.
 *
 * Tests drive it with a fake clock through `runDue(now)`; the daemon calls `start()`, which uses real
 * timers: a timeout to the next start (at most `maxTimerMs`), and a re-check whenever the store changes.
 */

export const RUN_REASONS = { scheduled: 'scheduled', demand: 'demand', sequential: 'sequential' } as const;
export type RunReason = (typeof RUN_REASONS)[keyof typeof RUN_REASONS];

/** Notify on these when a job names Recipients but no OnEvents. */
export const DEFAULT_NOTIFY_EVENTS: readonly NotifyEvent[] = ['JobEndOKWithMsgs', 'JobEndFail'];

/** Exit status recorded for a run whose runner died before it could see the end. */
export const UNKNOWN_EXIT_STATUS = -1;

export interface SchedulerOptions {
  store: ScheduleStore;
  /** The site home: tasks get it as $MSITE_HOME and `--home`, and run in it. */
  home: string;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: real child processes. */
  spawner?: Spawner;
  /** IANA zone the job times are in. Default: the host's. */
  timeZone?: string;
  /** How to start msite for the predefined tasks. Default: this Node and this msite's bin/msite.js. */
  msite?: CommandLine;
  /** Default: shipping.conf's NOTIFICATION-PROGRAM of `home`, through `spawner`. */
  notifier?: Notifier;
  logger?: Logger;
  /** Output kept per run. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Longest sleep between checks with real timers. Default 60 s. */
  maxTimerMs?: number;
  /** Environment the tasks start from. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Called with each run's result once it is recorded and notified, before Sequential jobs start. */
  onRunEnd?: (result: RunResult) => void;
}

/** One run of a job, from its start. */
export interface Run {
  readonly jobId: number;
  readonly jobName: string;
  readonly reason: RunReason;
  /** The scheduled start it serves (reason `scheduled`). */
  readonly scheduledFor?: number;
  /** 0 when the program could not be started. */
  readonly processId: number;
  readonly started: number;
  /** The program and arguments started. */
  readonly command: readonly string[];
  /** Resolves when the run is recorded and notified; never rejects. */
  readonly done: Promise<RunResult>;
}

export type EndEvent = Extract<NotifyEvent, 'JobEndOK' | 'JobEndOKWithMsgs' | 'JobEndFail'>;

export interface RunResult {
  jobId: number;
  jobName: string;
  processId: number;
  started: number;
  ended: number;
  exitStatus: number;
  messages: string;
  event: EndEvent;
  /** The job was DeleteWhenCompleted and is now gone. */
  deleted: boolean;
  /** Absent when the job asked for no notification of this end. */
  notified?: NotifyOutcome;
}

/** What one check started. */
export interface Tick {
  runs: Run[];
  /** Resolves when those runs are recorded (not the Sequential runs they start: see `idle`). */
  done: Promise<RunResult[]>;
}

interface ActiveRun extends Run {
  child: SpawnedProcess;
  killedBy?: string;
}

const EVENT_WORDS: Record<NotifyEvent, string> = {
  JobBegin: 'started',
  JobEndOK: 'completed',
  JobEndOKWithMsgs: 'completed with messages',
  JobEndFail: 'failed',
  JobDeleted: 'deleted',
  JobModified: 'modified',
};

export class Scheduler {
  private readonly store: ScheduleStore;
  private readonly clock: Clock;
  private readonly spawner: Spawner;
  private readonly tz: string;
  private readonly logger: Logger;
  private readonly notifier: Notifier;
  private readonly maxMessageBytes: number;
  private readonly maxTimerMs: number;
  private readonly createdAt: number;
  private readonly runs = new Map<number, ActiveRun>();
  /** Per job, the latest start skipped because the job was running. */
  private readonly skipped = new Map<number, number>();
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;

  constructor(private readonly options: SchedulerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.spawner = options.spawner ?? childProcessSpawner;
    this.tz = options.timeZone ?? hostTimeZone();
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
    this.maxTimerMs = options.maxTimerMs ?? 60_000;
    this.notifier = options.notifier ?? siteNotifier(options.home, this.spawner, { logger: this.logger, clock: this.clock });
    this.createdAt = this.clock.now();
  }

  /** The runs in progress in this process. */
  active(): Run[] {
    return [...this.runs.values()];
  }

  /**
   * One check at `now`: records runs whose runner died, and starts every job that is due (see the rules
   * above). Reads the store afresh, so definitions set meanwhile apply.
   */
  runDue(now: number = this.clock.now()): Tick {
    const started: Run[] = [];
    if (!this.stopping) {
      const { jobs, tasks } = this.store.get();
      const states = this.store.getRunStates();
      for (const job of jobs) {
        const id = job.id!;
        const state = states.get(id) ?? {};
        const busy = this.runs.has(id) || (state.running !== undefined && runIsLive(state.running));
        if (!busy && state.running) this.reap(job, state.running, now);
        if (job.schedule.kind === 'Sequential' || !isEnabled(job)) continue;
        const since = Math.max(servedUntil(state) ?? this.createdAt, this.skipped.get(id) ?? -Infinity);
        const due = dueStart(job, since, now, this.tz);
        if (due === undefined) continue;
        if (busy) {
          this.skipped.set(id, due);
          this.logger.warn({ job: id, scheduledFor: isoTime(due) }, 'start skipped: the previous run is still going');
          continue;
        }
        const run = this.tryStart(job, tasks, RUN_REASONS.scheduled, due);
        if (run) started.push(run);
      }
    }
    return { runs: started, done: Promise.all(started.map((r) => r.done)) };
  }

  /**
   * Starts one job now (`schedule --run`, or the daemon's API).
   *
   * @throws NotFoundError, AmbiguousJobError; StateError when it is running or the scheduler stops.
   */
  runJob(idOrName: number | string): Run {
    if (this.stopping) throw new StateError('the scheduler is stopping: no new runs start');
    const job = this.store.getJob(idOrName);
    const mine = this.runs.get(job.id!);
    if (mine) {
      throw new StateError(`job ${job.id} "${job.name}" is already running (process ${mine.processId})`, {
        hint: `wait for it with msite schedule --wait ${job.id}`,
      });
    }
    return this.launch(job, this.store.getTasks(), RUN_REASONS.demand);
  }

  /** Resolves when no run of this scheduler is in progress, Sequential successors included. */
  async idle(): Promise<void> {
    while (this.runs.size > 0) await Promise.all([...this.runs.values()].map((r) => r.done));
  }

  /** The earliest start after `now` of any job, for the timer; undefined when none will start. */
  nextWake(now: number = this.clock.now()): number | undefined {
    let next: number | undefined;
    for (const job of this.store.getJobs()) {
      const t = nextStart(job, now, this.tz);
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /** Runs with real timers until `stop`: checks now, then at each next start, and when the store changes. */
  start(): void {
    this.stopping = false;
    try {
      // A commit writes the database's WAL beside it: watch the directory for changes to those files.
      const base = basename(this.store.file);
      this.watcher = watch(dirname(this.store.file), (_event, name) => {
        if (name === null || name.startsWith(base)) this.wake();
      });
      this.watcher.on('error', (err) => this.logger.warn({ err: err.message }, 'schedule store watch failed'));
    } catch (err) {
      this.logger.warn({ err: toMsiteError(err).message }, 'cannot watch the schedule store; checking every minute');
    }
    this.loop();
  }

  /**
   * Stops starting runs, waits up to `graceMs` for those in progress, then ends them (SIGTERM, then
   * SIGKILL after `killMs`), and resolves when every run is recorded.
   */
  async stop(graceMs = 5_000, killMs = 2_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    clearTimeout(this.wakeTimer);
    this.watcher?.close();
    this.watcher = undefined;
    const all = (): Promise<unknown> => Promise.all([...this.runs.values()].map((r) => r.done));
    if (this.runs.size === 0) return;
    if (await settlesWithin(all(), graceMs)) return;
    for (const run of this.runs.values()) {
      run.killedBy = 'SIGTERM';
      run.child.kill('SIGTERM');
    }
    if (await settlesWithin(all(), killMs)) return;
    for (const run of this.runs.values()) {
      run.killedBy = 'SIGKILL';
      run.child.kill('SIGKILL');
    }
    await all();
  }

  private loop(): void {
    clearTimeout(this.timer);
    if (this.stopping) return;
    let delay = this.maxTimerMs;
    try {
      const tick = this.runDue();
      if (tick.runs.length > 0) this.logger.info({ jobs: tick.runs.map((r) => r.jobId) }, 'jobs started');
      const now = this.clock.now();
      const next = this.nextWake(now);
      if (next !== undefined) delay = Math.max(0, Math.min(this.maxTimerMs, next - now));
    } catch (err) {
      // A bad moment (the store locked too long, a disk error) must not end the daemon: retry later.
      this.logger.error({ err: toMsiteError(err).message }, 'scheduler check failed');
    }
    this.timer = setTimeout(() => this.loop(), delay);
  }

  private wake(): void {
    if (this.stopping) return;
    clearTimeout(this.wakeTimer);
    // Several changes in a row (our own writes among them) make one check.
    this.wakeTimer = setTimeout(() => this.loop(), 50);
  }

  private tryStart(job: JobDefinition, tasks: readonly TaskDefinition[], reason: RunReason, scheduledFor?: number): Run | undefined {
    try {
      return this.launch(job, tasks, reason, scheduledFor);
    } catch (err) {
      this.logger.warn({ job: job.id, err: toMsiteError(err).message }, 'job not started');
      return undefined;
    }
  }

  /** The program and arguments a job runs. */
  commandOf(job: JobDefinition, tasks: readonly TaskDefinition[]): { task: TaskDefinition; argv: string[] } {
    const task = tasks.find((t) => refersTo(job.task, t));
    if (!task) throw new NotFoundError('task', formatRef(job.task), { hint: 'see msite schedule --get --tasks' });
    const words = job.args === undefined ? [] : splitArgs(job.args);
    if (!Array.isArray(words)) throw new StateError(`job ${job.id} "${job.name}": Job.Args cannot be split: ${words.error}`);
    const builtin = builtinCommandOf(task);
    if (builtin === undefined) return { task, argv: [task.pathname, ...words] };
    const msite = this.options.msite ?? msiteInvocation();
    return { task, argv: [msite.command, ...msite.args, builtin, '--home', this.options.home, ...words] };
  }

  private launch(job: JobDefinition, tasks: readonly TaskDefinition[], reason: RunReason, scheduledFor?: number): Run {
    const id = job.id!;
    const { task, argv } = this.commandOf(job, tasks);
    const started = this.clock.now();
    const claim = { started, runnerPid: process.pid, ...(scheduledFor === undefined ? {} : { scheduledFor }) };
    this.store.claimRun(id, claim);
    const env = { ...(this.options.env ?? process.env), MSITE_HOME: this.options.home, MSITE_JOB_ID: String(id), MSITE_JOB_NAME: job.name };
    const child = spawnOrFail(this.spawner, argv, { env, cwd: this.options.home });
    const output = new OutputTail(this.maxMessageBytes);
    child.onOutput((chunk) => output.push(chunk));
    try {
      this.store.recordStart(id, { ...claim, processId: child.pid });
    } catch (err) {
      // Deleted meanwhile: the run goes on and its end is logged, not recorded.
      this.logger.warn({ job: id, err: toMsiteError(err).message }, 'run start not recorded');
    }
    this.logger.info({ job: id, name: job.name, reason, processId: child.pid, argv }, 'job started');
    const begin = wantsNotification(job, 'JobBegin')
      ? this.notify(job, 'JobBegin', this.beginBody(job, task, argv, child.pid, started))
      : undefined;

    // `run` is assigned before `done` first resumes: the process exit is never synchronous.
    let run!: ActiveRun;
    const done = (async (): Promise<RunResult> => {
      const exit = await child.exit;
      await begin;
      return this.finish(run, job, task, argv, exit, output);
    })();
    run = { jobId: id, jobName: job.name, reason, processId: child.pid, started, command: argv, child, done };
    if (scheduledFor !== undefined) run = { ...run, scheduledFor };
    this.runs.set(id, run);
    return run;
  }

  private async finish(
    run: ActiveRun,
    job: JobDefinition,
    task: TaskDefinition,
    argv: readonly string[],
    exit: ProcessExit,
    output: OutputTail,
  ): Promise<RunResult> {
    const ended = this.clock.now();
    const notes: string[] = [];
    if (exit.startError !== undefined) notes.push(exit.startError);
    if (run.killedBy !== undefined) notes.push(`[msite serve stopped: the run was ended with ${run.killedBy}]`);
    const messages = [output.text(), ...notes].filter((m) => m !== '').join('\n');
    const result: RunResult = {
      jobId: run.jobId,
      jobName: run.jobName,
      processId: run.processId,
      started: run.started,
      ended,
      exitStatus: exit.status,
      messages,
      event: exit.status !== 0 ? 'JobEndFail' : messages.trim() !== '' ? 'JobEndOKWithMsgs' : 'JobEndOK',
      deleted: false,
    };
    try {
      const record = { processId: run.processId, started: run.started, ended, exitStatus: exit.status, messages };
      result.deleted = this.store.recordCompletion(run.jobId, record).deleted;
    } catch (err) {
      this.logger.warn({ job: run.jobId, err: toMsiteError(err).message }, 'run end not recorded');
    }
    this.logger.info({ job: run.jobId, status: exit.status, processId: run.processId, deleted: result.deleted }, 'job ended');
    if (wantsNotification(job, result.event)) {
      result.notified = await this.notify(job, result.event, this.endBody(job, task, argv, result));
    }
    this.runs.delete(run.jobId);
    try {
      this.options.onRunEnd?.(result);
    } catch (err) {
      this.logger.error({ err: toMsiteError(err).message }, 'onRunEnd listener failed');
    }
    if (!this.stopping) this.startSuccessors(job, ended);
    return result;
  }

  private startSuccessors(job: JobDefinition, now: number): void {
    let jobs: JobDefinition[];
    let tasks: TaskDefinition[];
    try {
      ({ jobs, tasks } = this.store.get());
    } catch (err) {
      this.logger.error({ err: toMsiteError(err).message }, 'cannot read the schedule to start Sequential jobs');
      return;
    }
    for (const next of jobs) {
      const s = next.schedule;
      if (s.kind !== 'Sequential' || !refersTo(s.followsJob, job) || !isEnabled(next)) continue;
      const today = localDayNumber(now, this.tz);
      const last = Math.min(...[s.endDate, s.lastDate].map((d) => (d === undefined ? Infinity : dayNumber(d))));
      if ((s.startDate !== undefined && today < dayNumber(s.startDate)) || today > last) continue;
      this.tryStart(next, tasks, RUN_REASONS.sequential);
    }
  }

  /** A run whose runner died: its end can never be seen, so record it as of unknown outcome. */
  private reap(job: JobDefinition, running: NonNullable<JobRunState['running']>, now: number): void {
    try {
      this.store.recordCompletion(job.id!, {
        processId: running.processId,
        started: running.started,
        ended: now,
        exitStatus: UNKNOWN_EXIT_STATUS,
        messages: `the run's outcome is unknown: its runner (process ${running.runnerPid ?? 'unknown'}) ended before it did`,
      });
      this.logger.warn({ job: job.id, processId: running.processId }, 'recorded a run whose runner died');
    } catch (err) {
      this.logger.warn({ job: job.id, err: toMsiteError(err).message }, 'cannot record a run whose runner died');
    }
  }

  private notify(job: JobDefinition, event: NotifyEvent, body: string): Promise<NotifyOutcome> {
    const subject = `msite: job ${job.id} "${job.name}" ${EVENT_WORDS[event]}`;
    return this.notifier.send({ subject, body, recipients: job.notify?.recipients ?? [] });
  }

  private header(job: JobDefinition, task: TaskDefinition, argv: readonly string[], pid: number, started: number): string[] {
    return [
      `Job:         ${job.id} "${job.name}"`,
      `Task:        ${task.id ?? '?'} "${task.name}"`,
      `Command:     ${argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')}`,
      `Site home:   ${this.options.home}`,
      `Host:        ${hostname()}`,
      `Process:     ${pid}`,
      `Started:     ${isoTime(started)}`,
    ];
  }

  private beginBody(job: JobDefinition, task: TaskDefinition, argv: readonly string[], pid: number, started: number): string {
    return [`Job ${job.id} "${job.name}" started.`, '', ...this.header(job, task, argv, pid, started), ''].join('\n');
  }

  private endBody(job: JobDefinition, task: TaskDefinition, argv: readonly string[], r: RunResult): string {
    const outcome = r.exitStatus === 0 ? EVENT_WORDS[r.event] : `failed with exit status ${r.exitStatus}`;
    return [
      `Job ${job.id} "${job.name}" ${outcome}.`,
      '',
      ...this.header(job, task, argv, r.processId, r.started),
      `Ended:       ${isoTime(r.ended)}`,
      `Exit status: ${r.exitStatus}`,
      ...(r.deleted ? ['The job was deleted (DeleteWhenCompleted).'] : []),
      '',
      'Messages:',
      r.messages === '' ? '(none)' : r.messages,
      '',
    ].join('\n');
  }
}

/**
 * Whether a job's NotifyInfo asks for `event`. JobEndOK covers every successful end, JobEndOKWithMsgs
 * only those with output; without OnEvents, Recipients get DEFAULT_NOTIFY_EVENTS.
 */
export function wantsNotification(job: JobDefinition, event: NotifyEvent): boolean {
  const n = job.notify;
  if (!n || (n.onEvents === undefined && n.recipients === undefined)) return false;
  const events = n.onEvents ?? DEFAULT_NOTIFY_EVENTS;
  return events.includes(event) || (event === 'JobEndOKWithMsgs' && events.includes('JobEndOK'));
}

/** Spawns, turning a synchronous refusal (bad arguments) into a process that failed to start. */
function spawnOrFail(spawner: Spawner, argv: readonly string[], options: SpawnOptions): SpawnedProcess {
  try {
    return spawner.spawn(argv[0]!, argv.slice(1), options);
  } catch (err) {
    const startError = `cannot run ${argv[0]}: ${toMsiteError(err).message}`;
    return { pid: 0, onOutput: () => {}, exit: Promise.resolve({ status: 127, startError }), kill: () => {} };
  }
}

/** Resolves true when `p` settles within `ms`, false otherwise. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last `max` bytes of a run's output, as Messages text. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > 2 * this.max) this.compact();
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const keep = all.subarray(Math.max(0, all.length - this.max));
    this.dropped += all.length - keep.length;
    this.chunks = [keep];
    this.size = keep.length;
  }

  /** Without the final newline; lines that would close the Messages block are quoted. */
  text(): string {
    if (this.size > this.max) this.compact();
    let text = Buffer.concat(this.chunks).toString('utf8').replace(/\r\n/g, '\n').replace(/\n$/, '');
    if (this.dropped > 0) text = `[… ${this.dropped} earlier bytes of output omitted]\n${text}`;
    return text
      .split('\n')
      .map((line) => (/^\s*(Job\.End|Job\.LastCompletionInfo\.Messages\.End:?)\s*$/.test(line) ? `> ${line}` : line))
      .join('\n');
  }
}
