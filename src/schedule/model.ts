/**
 * The scheduler's data model: what a `Job.Begin … Job.End` or `Task.Begin … Task.End` block means.
 *
 * Dates are local calendar dates written `YYYY-MM-DD` and times of day are `HH:MM:SS`, both in the host's
 * local time, as ClearCase's scheduler reads them. They stay strings here so a job prints and serialises
 * (--json) as the administrator wrote it; `local-date.ts` and `time-of-day.ts` turn them into numbers.
 */

/** A job or task named by its numeric id, or by its name as written in quotes. */
export type ItemRef = { readonly id: number } | { readonly name: string };
export type TaskRef = ItemRef;
export type JobRef = ItemRef;

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Events that can trigger a notification (ClearCase's names; the key spelling is unconfirmed). */
export const NOTIFY_EVENTS = ['JobBegin', 'JobEndOK', 'JobEndOKWithMsgs', 'JobEndFail', 'JobDeleted', 'JobModified'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** Date bounds every schedule kind may carry. */
export interface ScheduleDates {
  /** First local date on which the job may run (inclusive). */
  startDate?: string;
  /** Last local date on which the job may run (inclusive). */
  endDate?: string;
  /**
   * ClearCase's `LastDate`: when it is on or before `startDate` the job is disabled (this is how the
   * predefined MultiSite jobs ship); otherwise it bounds the job like `endDate`.
   */
  lastDate?: string;
}

/** Start times within a day, for every kind that runs by the clock. */
export interface ScheduleTimes {
  firstStartTime: string;
  /** Repeat interval within a day, from firstStartTime. */
  startTimeRestartFrequency?: string;
  /** Last start of the day (inclusive) when repeating; the end of the day when absent. */
  lastStartTime?: string;
}

export interface OnceSchedule extends ScheduleDates, ScheduleTimes {
  readonly kind: 'Once';
  date: string;
}
export interface DailySchedule extends ScheduleDates, ScheduleTimes {
  readonly kind: 'Daily';
  /** Every n days, counted from startDate. */
  frequency: number;
}
export interface WeeklySchedule extends ScheduleDates, ScheduleTimes {
  readonly kind: 'Weekly';
  /** Every n weeks (weeks begin on Sunday), counted from the week of startDate. */
  frequency: number;
  days: Weekday[];
}
export interface MonthlySchedule extends ScheduleDates, ScheduleTimes {
  readonly kind: 'Monthly';
  /** Every n months, counted from the month of startDate. */
  frequency: number;
  /** Day of the month, 1–31; a month shorter than that runs on its last day. */
  day: number;
}
export interface SequentialSchedule extends ScheduleDates {
  readonly kind: 'Sequential';
  /** The job after whose completion this one starts. */
  followsJob: JobRef;
}

export type PeriodicSchedule = OnceSchedule | DailySchedule | WeeklySchedule | MonthlySchedule;
export type Schedule = PeriodicSchedule | SequentialSchedule;
export type ScheduleKind = Schedule['kind'];

export interface NotifyInfo {
  onEvents?: NotifyEvent[];
  /** How to notify; only `email` exists. */
  using?: string;
  recipients?: string[];
}

/** Read-only: what the scheduler recorded about the job's last run. Times are ISO-8601 strings. */
export interface LastCompletionInfo {
  processId?: number;
  started?: string;
  ended?: string;
  exitStatus?: number;
  messages?: string;
}

export interface JobDefinition {
  /** Assigned by the store when absent. */
  id?: number;
  name: string;
  description?: string;
  schedule: Schedule;
  deleteWhenCompleted?: boolean;
  task: TaskRef;
  /** The task's argument string, passed through word-split as the task's arguments. */
  args?: string;
  notify?: NotifyInfo;
  /** Read-only fields: kept when parsed, never taken from a definition a user sets. */
  created?: string;
  lastModified?: string;
  nextRunTime?: string;
  lastCompletion?: LastCompletionInfo;
}

export interface TaskDefinition {
  id?: number;
  name: string;
  /** Program to run: an absolute path, or the name of a built-in msite command (see predefined.ts). */
  pathname: string;
  description?: string;
}

/** A definition file's content: any number of jobs and tasks. */
export interface ScheduleDefinition {
  jobs: JobDefinition[];
  tasks: TaskDefinition[];
}

export function isPeriodic(schedule: Schedule): schedule is PeriodicSchedule {
  return schedule.kind !== 'Sequential';
}

/** True when `ref` names `item` (by id, or by exact name). */
export function refersTo(ref: ItemRef, item: { id?: number; name: string }): boolean {
  return 'id' in ref ? item.id === ref.id : item.name === ref.name;
}

/** `13` or `"MultiSite Sync Export"`, as the text format writes a reference. */
export function formatRef(ref: ItemRef): string {
  return 'id' in ref ? String(ref.id) : `"${ref.name}"`;
}
