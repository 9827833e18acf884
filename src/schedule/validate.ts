import { DefinitionError, type DefinitionProblem } from './definitionError.js';
import { lineOf } from './itemSource.js';
import { formatRef, refersTo, type JobDefinition, type ScheduleDefinition, type TaskDefinition } from './model.js';
import { parseDefinition } from './parse.js';
import { predefinedTasks } from './predefined.js';
import { splitArgs } from './splitArgs.js';

export interface ValidateOptions {
  /** The task registry jobs may name, besides the definition's own tasks. Default: the predefined tasks. */
  tasks?: readonly TaskDefinition[];
  /** Named in error messages. */
  file?: string;
}

/** The registry with the definition's tasks laid over it (same id, or same name when it has no id). */
export function mergeTasks(registry: readonly TaskDefinition[], own: readonly TaskDefinition[]): TaskDefinition[] {
  const merged = [...registry];
  for (const task of own) {
    const at = merged.findIndex((t) => (task.id !== undefined ? t.id === task.id : t.name === task.name));
    if (at >= 0) merged[at] = task;
    else merged.push(task);
  }
  return merged;
}

function duplicates<T>(
  items: readonly T[],
  keyOf: (item: T) => string | number | undefined,
  report: (item: T, first: T, key: string | number) => void,
): void {
  const seen = new Map<string | number, T>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === undefined) continue;
    const first = seen.get(key);
    if (first !== undefined) report(item, first, key);
    else seen.set(key, item);
  }
}

/**
 * Checks the rules between the items of a whole definition: unique task ids and names, unique job ids
 * (job names may repeat), Job.Args that split into words (quotes closed), every
 * `Job.Task` names a known task, every Sequential predecessor is a job of the set, and no chain of
 * Sequential jobs loops (such jobs could never start).
 *
 * @throws DefinitionError listing every problem with its line.
 */
export function validateDefinition(def: ScheduleDefinition, options: ValidateOptions = {}): void {
  const problems: DefinitionProblem[] = [];
  const at = (item: object, key: string | undefined, message: string): void => {
    problems.push({ line: lineOf(item, key), message });
  };

  const firstAt = (item: object, key: string): string => `(first at line ${lineOf(item, key)})`;
  duplicates(
    def.tasks,
    (t) => t.id,
    (t, first, id) => {
      at(t, 'Task.Id', `duplicate Task.Id ${id} ${firstAt(first, 'Task.Id')}`);
    },
  );
  duplicates(
    def.tasks,
    (t) => t.name,
    (t, first, name) => {
      at(t, 'Task.Name', `duplicate Task.Name "${name}" ${firstAt(first, 'Task.Name')}`);
    },
  );
  duplicates(
    def.jobs,
    (j) => j.id,
    (j, first, id) => {
      at(j, 'Job.Id', `duplicate Job.Id ${id} ${firstAt(first, 'Job.Id')}`);
    },
  );
  // Job names may repeat: ClearCase identifies jobs by Id, and the MultiSite guide itself defines two
  // "Shipping Server Poll" jobs. A reference by a shared name is refused where it is made instead.
  for (const job of def.jobs) {
    const words = job.args === undefined ? [] : splitArgs(job.args);
    if (!Array.isArray(words)) at(job, 'Job.Args', `Job.Args cannot be split into arguments: ${words.error}`);
  }

  const tasks = mergeTasks(options.tasks ?? predefinedTasks(), def.tasks);
  for (const job of def.jobs) {
    if (!tasks.some((t) => refersTo(job.task, t))) {
      const known = tasks.map((t) => `${t.id ?? '?'} "${t.name}"`).join(', ');
      at(job, 'Job.Task', `Job.Task ${formatRef(job.task)} names no known task (known: ${known})`);
    }
  }

  const predecessor = new Map<JobDefinition, JobDefinition>();
  for (const job of def.jobs) {
    if (job.schedule.kind !== 'Sequential') continue;
    const ref = job.schedule.followsJob;
    const matches = def.jobs.filter((j) => refersTo(ref, j));
    const found = matches[0];
    const key = 'Job.Schedule.Sequential.FollowsJob';
    if (!found) at(job, key, `${key} ${formatRef(ref)} is no job in this definition`);
    else if (matches.length > 1) {
      const ids = matches.map((j) => j.id ?? '(new)').join(', ');
      at(job, key, `${key} ${formatRef(ref)} names ${matches.length} jobs (Job.Id ${ids}): follow one by its Job.Id`);
    } else if (found === job) at(job, key, 'a Sequential job cannot follow itself');
    else predecessor.set(job, found);
  }
  const reported = new Set<JobDefinition>();
  for (const start of predecessor.keys()) {
    const chain: JobDefinition[] = [];
    let cur: JobDefinition | undefined = start;
    while (cur && !chain.includes(cur)) {
      chain.push(cur);
      cur = predecessor.get(cur);
    }
    if (cur !== start || reported.has(start)) continue;
    chain.forEach((j) => reported.add(j));
    const names = [...chain, start].map((j) => `"${j.name}"`).join(' → ');
    at(start, 'Job.Schedule.Sequential.FollowsJob', `Sequential jobs form a loop and would never start: ${names}`);
  }

  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    throw new DefinitionError(problems, options.file);
  }
}

/** Parses and validates a whole definition text; the usual entry point for a file a user gives. */
export function loadDefinition(text: string, options: ValidateOptions = {}): ScheduleDefinition {
  const def = parseDefinition(text, options.file === undefined ? {} : { file: options.file });
  validateDefinition(def, options);
  return def;
}
