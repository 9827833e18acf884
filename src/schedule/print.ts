import { sourceOf } from './itemSource.js';
import {
  formatRef,
  refersTo,
  type JobDefinition,
  type Schedule,
  type ScheduleDefinition,
  type TaskDefinition,
  type TaskRef,
} from './model.js';

/** Gives the name of the task a job runs, for `-get`'s `# Job.Task: "<name>"` annotation. */
export type TaskNameLookup = (ref: TaskRef) => string | undefined;

export interface PrintOptions {
  /** When given, a `# Job.Task: "<task name>"` comment line follows each `Job.Task:` line (as `-get` prints). */
  annotateTasks?: TaskNameLookup | undefined;
}

export function taskNameLookup(tasks: readonly TaskDefinition[]): TaskNameLookup {
  return (ref) => tasks.find((t) => refersTo(ref, t))?.name;
}

function block(key: string, text: string): string[] {
  return [`${key}.Begin:`, ...(text === '' ? [] : text.split('\n')), `${key}.End:`];
}

function scheduleLines(s: Schedule): string[] {
  const out: string[] = [];
  const put = (key: string, value: string | number | undefined): void => {
    if (value !== undefined) out.push(`Job.Schedule.${key}: ${value}`);
  };
  switch (s.kind) {
    case 'Once':
      put('Once.Date', s.date);
      break;
    case 'Daily':
      put('Daily.Frequency', s.frequency);
      break;
    case 'Weekly':
      put('Weekly.Frequency', s.frequency);
      put('Weekly.Days', s.days.join(','));
      break;
    case 'Monthly':
      put('Monthly.Frequency', s.frequency);
      put('Monthly.Day', s.day);
      break;
    case 'Sequential':
      put('Sequential.FollowsJob', formatRef(s.followsJob));
      break;
  }
  put('StartDate', s.startDate);
  put('EndDate', s.endDate);
  put('LastDate', s.lastDate);
  if (s.kind !== 'Sequential') {
    put('FirstStartTime', s.firstStartTime);
    put('StartTimeRestartFrequency', s.startTimeRestartFrequency);
    put('LastStartTime', s.lastStartTime);
  }
  return out;
}

/** The canonical text of a job (no annotation): fixed key order, no indentation, no trailing newline. */
export function canonicalJobText(job: JobDefinition): string {
  const out = ['Job.Begin'];
  const put = (key: string, value: string | number | undefined): void => {
    if (value !== undefined) out.push(value === '' ? `${key}:` : `${key}: ${value}`);
  };
  put('Job.Id', job.id);
  put('Job.Name', `"${job.name}"`);
  if (job.description !== undefined) out.push(...block('Job.Description', job.description));
  out.push(...scheduleLines(job.schedule));
  if (job.deleteWhenCompleted !== undefined) put('Job.DeleteWhenCompleted', job.deleteWhenCompleted ? 'TRUE' : 'FALSE');
  put('Job.Task', formatRef(job.task));
  put('Job.Args', job.args);
  const n = job.notify;
  if (n) {
    put('Job.NotifyInfo.OnEvents', n.onEvents?.join(','));
    put('Job.NotifyInfo.Using', n.using);
    put('Job.NotifyInfo.Recipients', n.recipients?.join(','));
  }
  put('Job.Created', job.created);
  put('Job.LastModified', job.lastModified);
  put('Job.NextRunTime', job.nextRunTime);
  const c = job.lastCompletion;
  if (c) {
    put('Job.LastCompletionInfo.ProcessId', c.processId);
    put('Job.LastCompletionInfo.Started', c.started);
    put('Job.LastCompletionInfo.Ended', c.ended);
    put('Job.LastCompletionInfo.ExitStatus', c.exitStatus);
    if (c.messages !== undefined) out.push(...block('Job.LastCompletionInfo.Messages', c.messages));
  }
  out.push('Job.End');
  return out.join('\n');
}

export function canonicalTaskText(task: TaskDefinition): string {
  const out = ['Task.Begin'];
  if (task.id !== undefined) out.push(`Task.Id: ${task.id}`);
  out.push(`Task.Name: "${task.name}"`);
  if (task.description !== undefined) out.push(...block('Task.Description', task.description));
  out.push(`Task.Pathname: ${task.pathname}`, 'Task.End');
  return out.join('\n');
}

const TASK_LINE = /^(\s*)Job\.Task\s*:/;
const ANNOTATION_LINE = /^\s*#\s*Job\.Task\s*:/;

/** Replaces any annotation in a job's text by a fresh one after its `Job.Task:` line. */
function annotate(text: string, job: JobDefinition, lookup: TaskNameLookup): string {
  const name = lookup(job.task);
  const out: string[] = [];
  let inBlock = false;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (/\.Begin:?$/.test(trimmed) && trimmed !== 'Job.Begin') inBlock = true;
    else if (/\.End:?$/.test(trimmed) && trimmed !== 'Job.End') inBlock = false;
    if (!inBlock && ANNOTATION_LINE.test(line)) continue;
    const task = inBlock ? null : TASK_LINE.exec(line);
    if (!task) {
      out.push(line);
      continue;
    }
    // Rewritten rather than kept, so a trailing "# …" comment on it does not repeat the annotation.
    out.push(`${task[1]}Job.Task: ${formatRef(job.task)}`);
    if (name !== undefined) out.push(`${task[1]}# Job.Task: "${name}"`);
  }
  return out.join('\n');
}

/**
 * A job's text without trailing newline: exactly as it was parsed when the job is unchanged since,
 * otherwise canonical.
 */
export function printJob(job: JobDefinition, options: PrintOptions = {}): string {
  const canonical = canonicalJobText(job);
  const source = sourceOf(job);
  const text = source && source.fingerprint === canonical ? source.text : canonical;
  return options.annotateTasks ? annotate(text, job, options.annotateTasks) : text;
}

/** A task's text without trailing newline: as parsed when unchanged, otherwise canonical. */
export function printTask(task: TaskDefinition): string {
  const canonical = canonicalTaskText(task);
  const source = sourceOf(task);
  return source && source.fingerprint === canonical ? source.text : canonical;
}

/**
 * A definition file: tasks first, then jobs, separated by blank lines, ending in a newline.
 * An empty definition prints as the empty string.
 */
export function printDefinition(def: Partial<ScheduleDefinition>, options: PrintOptions = {}): string {
  const blocks = [...(def.tasks ?? []).map((t) => printTask(t)), ...(def.jobs ?? []).map((j) => printJob(j, options))];
  return blocks.length === 0 ? '' : `${blocks.join('\n\n')}\n`;
}
