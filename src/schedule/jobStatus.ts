import { isoTime } from '../core/clock.js';
import { formatRef, refersTo, type LastCompletionInfo } from './model.js';
import { dueStart, isEnabled, nextStart } from './recurrence.js';
import { runIsLive, servedUntil, type ScheduleStore } from './scheduleStore.js';
import { hostTimeZone, wallClockOf } from './timeZone.js';

/** What a job is doing, as `schedule --status` and the daemon's API report it. */
export const JOB_STATES = {
  /** Has a next start. */
  scheduled: 'scheduled',
  /** A run is in progress. */
  running: 'running',
  /** Sequential: starts when its predecessor's run ends. */
  waiting: 'waiting',
  /** LastDate on or before StartDate (how the predefined jobs ship). */
  disabled: 'disabled',
  /** Will not start again (a Once job that ran, an EndDate passed). */
  finished: 'finished',
} as const;
export type JobState = (typeof JOB_STATES)[keyof typeof JOB_STATES];

export interface JobStatus {
  id: number;
  name: string;
  state: JobState;
  /** `13 "MultiSite Sync Export"`. */
  task: string;
  running: { processId: number; started: string } | null;
  /** ISO time of the next scheduled start. */
  nextStart: string | null;
  /** A start that came while no runner was checking: it runs at the next check. */
  missedStart: string | null;
  /** The predecessor of a Sequential job, as written (`31` or `"Month End Export"`). */
  follows: string | null;
  lastCompletion: LastCompletionInfo | null;
}

/**
 * The status of one job at `now`.
 *
 * @param timeZone IANA zone of the job times; default the host's.
 * @throws NotFoundError, AmbiguousJobError
 */
export function jobStatus(store: ScheduleStore, idOrName: number | string, now: number, timeZone: string = hostTimeZone()): JobStatus {
  const job = store.getJob(idOrName);
  const state = store.getRunState(job.id!);
  const task = store.getTasks().find((t) => refersTo(job.task, t));
  const running = state.running && runIsLive(state.running) ? state.running : undefined;
  const next = nextStart(job, now, timeZone);
  const since = servedUntil(state);
  const missed = since === undefined || running ? undefined : dueStart(job, since, now, timeZone);
  const follows = job.schedule.kind === 'Sequential' ? formatRef(job.schedule.followsJob) : null;
  let s: JobState;
  if (running) s = JOB_STATES.running;
  else if (!isEnabled(job)) s = JOB_STATES.disabled;
  else if (follows !== null) s = JOB_STATES.waiting;
  else if (next !== undefined || missed !== undefined) s = JOB_STATES.scheduled;
  else s = JOB_STATES.finished;
  return {
    id: job.id!,
    name: job.name,
    state: s,
    task: task ? `${task.id ?? '?'} "${task.name}"` : formatRef(job.task),
    running: running ? { processId: running.processId, started: isoTime(running.started) } : null,
    nextStart: next === undefined ? null : isoTime(next),
    missedStart: missed === undefined ? null : isoTime(missed),
    follows,
    lastCompletion: job.lastCompletion ?? null,
  };
}

/** `2024-01-15 12:00:00`, local to `timeZone`. */
export function localTimeText(iso: string, timeZone: string = hostTimeZone()): string {
  const w = wallClockOf(Date.parse(iso), timeZone);
  const p = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
}

/** The text `schedule --status` prints; times are local. */
export function formatJobStatus(status: JobStatus, timeZone: string = hostTimeZone()): string {
  const t = (iso: string): string => localTimeText(iso, timeZone);
  const lines = [`Job ${status.id} "${status.name}"`];
  const row = (label: string, value: string): void => {
    lines.push(`  ${`${label}:`.padEnd(17)}${value}`);
  };
  row('State', status.running ? `running (process ${status.running.processId}, since ${t(status.running.started)})` : status.state);
  row('Task', status.task);
  if (status.follows !== null) row('Next start', `when job ${status.follows} ends`);
  else row('Next start', status.nextStart === null ? 'none' : t(status.nextStart));
  if (status.missedStart !== null) row('Missed start', `${t(status.missedStart)} (runs at the daemon's next check)`);
  const c = status.lastCompletion;
  if (!c) {
    row('Last completion', 'none');
  } else {
    const span = [c.started, c.ended]
      .filter((x): x is string => x !== undefined)
      .map(t)
      .join(' to ');
    const parts = [
      c.exitStatus === undefined ? 'exit status unknown' : `exit status ${c.exitStatus}`,
      ...(span === '' ? [] : [span]),
      ...(c.processId === undefined ? [] : [`process ${c.processId}`]),
    ];
    row('Last completion', parts.join(', '));
    if (c.messages !== undefined && c.messages !== '') {
      lines.push('  Messages:', ...c.messages.split('\n').map((l) => `    ${l}`));
    }
  }
  return lines.join('\n');
}
