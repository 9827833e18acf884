import type { JobDefinition, TaskDefinition } from './model.js';

/**
 * The scheduler items every site starts with, as ClearCase's installation adds them (MultiSite
 * Administrator's Guide, "Using the ClearCase Scheduler"): two tasks, and three jobs that use them and
 * ship disabled. A job is disabled by `Job.Schedule.LastDate` on or before its StartDate; enabling one is
 * removing that line (and setting the times you want) with `msite schedule --edit`.
 */

/**
 * Built-in commands a task's Pathname may name instead of a program path; the runner starts them as
 * `msite <command> <Job.Args…>`.
 */
export const BUILTIN_TASK_COMMANDS = ['sync_export_list', 'sync_receive'] as const;
export type BuiltinTaskCommand = (typeof BUILTIN_TASK_COMMANDS)[number];

export const PREDEFINED_TASKS = {
  'MultiSite Sync Export': {
    id: 13,
    pathname: 'sync_export_list',
    description: 'Export update packets (and ship or poll) with sync_export_list; the job supplies its options.',
  },
  'MultiSite Sync Receive': {
    id: 14,
    pathname: 'sync_receive',
    description: 'Import the update packets waiting in the incoming storage bays with sync_receive.',
  },
} as const;

/** The date both StartDate and LastDate carry in a shipped (disabled) job. */
export const PREDEFINED_DISABLED_SINCE = '2000-01-01';

export const PREDEFINED_JOBS = {
  'Daily MultiSite Export': {
    id: 10,
    description: 'Every night, for each replica on this host, export update packets to all sibling replicas.',
    task: 'MultiSite Sync Export',
    firstStartTime: '00:00:00',
    args: '-all',
  },
  'Daily MultiSite Shipping Poll': {
    id: 11,
    description: 'Every night, run the shipping server to send any outstanding shipping orders.',
    task: 'MultiSite Sync Export',
    firstStartTime: '04:00:00',
    args: '-poll',
  },
  'Daily MultiSite Receive': {
    id: 12,
    description: 'Every night, import all update packets in the incoming storage bays.',
    task: 'MultiSite Sync Receive',
    firstStartTime: '00:30:00',
    args: undefined,
  },
} as const;

export function predefinedTasks(): TaskDefinition[] {
  return Object.entries(PREDEFINED_TASKS).map(([name, t]) => ({
    id: t.id,
    name,
    pathname: t.pathname,
    description: t.description,
  }));
}

export function isPredefinedTask(task: { id?: number; name: string }): boolean {
  return Object.entries(PREDEFINED_TASKS).some(([name, t]) => t.id === task.id || name === task.name);
}

export function predefinedJobs(): JobDefinition[] {
  return Object.entries(PREDEFINED_JOBS).map(([name, j]) => {
    const job: JobDefinition = {
      id: j.id,
      name,
      description: j.description,
      schedule: {
        kind: 'Daily',
        frequency: 1,
        startDate: PREDEFINED_DISABLED_SINCE,
        lastDate: PREDEFINED_DISABLED_SINCE,
        firstStartTime: j.firstStartTime,
      },
      deleteWhenCompleted: false,
      task: { id: PREDEFINED_TASKS[j.task].id },
    };
    if (j.args !== undefined) job.args = j.args;
    return job;
  });
}

/** The built-in command a task runs, when its Pathname names one rather than a program. */
export function builtinCommandOf(task: TaskDefinition): BuiltinTaskCommand | undefined {
  return BUILTIN_TASK_COMMANDS.find((c) => c === task.pathname);
}
