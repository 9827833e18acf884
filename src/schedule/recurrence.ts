import { dayNumber, daysInMonth, weekdayOfDayNumber, ymdOfDayNumber } from './localDate.js';
import { WEEKDAYS, type JobDefinition, type JobRef, type PeriodicSchedule, type Schedule } from './model.js';
import { SECONDS_PER_DAY, secondsOf } from './timeOfDay.js';
import { hostTimeZone, instantOfLocal, localDayNumber } from './timeZone.js';

/**
 * When jobs start. All times of day and dates are local to a time zone: the host's (TZ) unless one is
 * passed. Rules, where ClearCase documents none:
 *
 * - Daily every n days counts calendar days from StartDate; Weekly every n weeks counts Sunday-based
 *   weeks from the week of StartDate; Monthly every n months counts from the month of StartDate. Without
 *   a StartDate the count starts at 1970-01-01, so the answer never depends on when it is asked.
 * - Monthly on day 29–31 runs on the last day of shorter months (day 31 → 30 April, 28/29 February).
 * - With StartTimeRestartFrequency the job starts at FirstStartTime and every interval after it, on the
 *   wall clock, up to LastStartTime inclusive, or the end of the day.
 * - DST, spring forward: a start in the skipped hour runs at the first instant after it (02:30 → 03:00);
 *   several skipped starts collapse into that one. Fall back: a start in the repeated hour runs at its
 *   first occurrence only, so no start runs twice.
 * - StartDate, EndDate and LastDate bound the days (inclusive); a job whose LastDate is on or before its
 *   StartDate is disabled and never runs. Sequential jobs have no clock times: see `followsJob`.
 */

const EPOCH_DAY = 0;

/** False when the job is disabled: its LastDate is on or before its StartDate (how predefined jobs ship). */
export function isEnabled(job: JobDefinition): boolean {
  const { startDate, lastDate } = job.schedule;
  return !(startDate !== undefined && lastDate !== undefined && lastDate <= startDate);
}

/** A copy of the job, enabled (LastDate removed) or disabled (LastDate set to StartDate). */
export function withEnabled(job: JobDefinition, enabled: boolean, today?: string): JobDefinition {
  const schedule: Schedule = { ...job.schedule };
  if (enabled) {
    if (!isEnabled(job)) delete schedule.lastDate;
  } else if (isEnabled(job)) {
    schedule.startDate ??= today ?? '2000-01-01';
    schedule.lastDate = schedule.startDate;
  }
  return { ...job, schedule };
}

/** The job a Sequential job runs after (the runner starts it when that one completes); else undefined. */
export function followsJob(job: JobDefinition): JobRef | undefined {
  return job.schedule.kind === 'Sequential' ? job.schedule.followsJob : undefined;
}

/** First and last local day (day numbers) on which the job may run. */
function dayBounds(s: Schedule): { first: number; last: number } {
  let first = s.startDate !== undefined ? dayNumber(s.startDate) : -Infinity;
  let last = Infinity;
  if (s.endDate !== undefined) last = Math.min(last, dayNumber(s.endDate));
  if (s.lastDate !== undefined) last = Math.min(last, dayNumber(s.lastDate));
  if (s.kind === 'Once') {
    const d = dayNumber(s.date);
    first = Math.max(first, d);
    last = Math.min(last, d);
  }
  return { first, last };
}

function monthIndex(day: number): number {
  const { year, month } = ymdOfDayNumber(day);
  return year * 12 + month - 1;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** Whether the schedule runs on local day `day` (bounds aside). */
function runsOnDay(s: PeriodicSchedule, day: number): boolean {
  const anchor = s.startDate !== undefined ? dayNumber(s.startDate) : EPOCH_DAY;
  switch (s.kind) {
    case 'Once':
      return day === dayNumber(s.date);
    case 'Daily':
      return mod(day - anchor, s.frequency) === 0;
    case 'Weekly': {
      const weekday = WEEKDAYS[weekdayOfDayNumber(day)]!;
      if (!s.days.includes(weekday)) return false;
      const weekOf = (d: number): number => Math.floor((d - weekdayOfDayNumber(d)) / 7);
      return mod(weekOf(day) - weekOf(anchor), s.frequency) === 0;
    }
    case 'Monthly': {
      if (mod(monthIndex(day) - monthIndex(anchor), s.frequency) !== 0) return false;
      const { year, month, day: dom } = ymdOfDayNumber(day);
      return dom === Math.min(s.day, daysInMonth(year, month));
    }
  }
}

/** Seconds after local midnight at which the schedule starts on a day it runs. */
function startSeconds(s: PeriodicSchedule): number[] {
  const first = secondsOf(s.firstStartTime);
  if (s.startTimeRestartFrequency === undefined) return [first];
  const every = secondsOf(s.startTimeRestartFrequency);
  const last = s.lastStartTime !== undefined ? secondsOf(s.lastStartTime) : SECONDS_PER_DAY - 1;
  const out: number[] = [];
  for (let t = first; t <= last; t += every) out.push(t);
  return out;
}

/** The start instants on one local day, ascending, without the duplicates DST gaps produce. */
function startsOnDay(s: PeriodicSchedule, day: number, tz: string): number[] {
  const out: number[] = [];
  for (const secs of startSeconds(s)) {
    const t = instantOfLocal(day, secs, tz);
    if (out.length === 0 || t > out[out.length - 1]!) out.push(t);
  }
  return out;
}

/** How many days in a row may run nothing before we conclude nothing more will run. */
function scanLimit(s: PeriodicSchedule): number {
  return s.kind === 'Once' ? 1 : 400 * s.frequency;
}

/**
 * The next `count` start times of the job at or after `fromMs`, ascending (ms since the epoch). Fewer
 * when the job ends first; none for a disabled or Sequential job.
 *
 * @param tz IANA zone the job's dates and times are in; default the host's (TZ).
 */
export function nextStarts(job: JobDefinition, fromMs: number, count: number, tz: string = hostTimeZone()): number[] {
  const s = job.schedule;
  if (count <= 0 || s.kind === 'Sequential' || !isEnabled(job)) return [];
  const { first, last } = dayBounds(s);
  const out: number[] = [];
  let idle = 0;
  const limit = scanLimit(s);
  for (let day = Math.max(first, localDayNumber(fromMs, tz)); day <= last && idle <= limit; day++) {
    idle++;
    if (!runsOnDay(s, day)) continue;
    for (const t of startsOnDay(s, day, tz)) {
      if (t < fromMs) continue;
      out.push(t);
      idle = 0;
      if (out.length === count) return out;
    }
  }
  return out;
}

/**
 * The first start strictly after `afterMs`, or undefined when the job will not start again.
 *
 * @param tz IANA zone; default the host's (TZ).
 */
export function nextStart(job: JobDefinition, afterMs: number, tz: string = hostTimeZone()): number | undefined {
  return nextStarts(job, Math.floor(afterMs) + 1, 1, tz)[0];
}

/**
 * The latest start at or before `atMs`, or undefined when there is none.
 *
 * @param tz IANA zone; default the host's (TZ).
 */
export function previousStart(job: JobDefinition, atMs: number, tz: string = hostTimeZone()): number | undefined {
  const s = job.schedule;
  if (s.kind === 'Sequential' || !isEnabled(job)) return undefined;
  const { first, last } = dayBounds(s);
  const limit = scanLimit(s);
  let idle = 0;
  for (let day = Math.min(last, localDayNumber(atMs, tz)); day >= first && idle <= limit; day--) {
    idle++;
    if (!runsOnDay(s, day)) continue;
    const starts = startsOnDay(s, day, tz).filter((t) => t <= atMs);
    const latest = starts[starts.length - 1];
    if (latest !== undefined) return latest;
  }
  return undefined;
}

/**
 * The missed-run rule for the runner: the latest start in (sinceMs, nowMs], or undefined when none fell
 * in that window. However many starts were missed (the daemon was down, the host slept), the job runs
 * once to catch up, for the latest of them; then it follows `nextStart(job, nowMs)`. `sinceMs` is the
 * start last run or, for a job never run, the time its definition was set.
 *
 * @param tz IANA zone; default the host's (TZ).
 */
export function dueStart(job: JobDefinition, sinceMs: number, nowMs: number, tz: string = hostTimeZone()): number | undefined {
  const latest = previousStart(job, nowMs, tz);
  return latest !== undefined && latest > sinceMs ? latest : undefined;
}
