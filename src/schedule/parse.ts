import { DefinitionError, type DefinitionProblem } from './definitionError.js';
import { attachSource } from './itemSource.js';
import { parseLocalDate } from './localDate.js';
import {
  NOTIFY_EVENTS,
  WEEKDAYS,
  type ItemRef,
  type JobDefinition,
  type LastCompletionInfo,
  type NotifyEvent,
  type NotifyInfo,
  type Schedule,
  type ScheduleDates,
  type ScheduleDefinition,
  type ScheduleTimes,
  type TaskDefinition,
  type Weekday,
} from './model.js';
import { canonicalJobText, canonicalTaskText } from './print.js';
import { parseTimeOfDay } from './timeOfDay.js';

/**
 * The hand parser for the `Job.Begin … Job.End` / `Task.Begin … Task.End` text format.
 *
 * Key spellings. Confirmed by the MultiSite docs and the seed: Id, Name, Description.Begin/End,
 * Schedule.Daily.Frequency, Schedule.FirstStartTime, Schedule.StartTimeRestartFrequency,
 * Schedule.LastStartTime, Schedule.LastDate, DeleteWhenCompleted, Task, Args, NotifyInfo.Recipients,
 * LastCompletionInfo.Messages.Begin/End. The others are unconfirmed; we use ClearCase's own words for
 * them, as `cleartool schedule -get` is remembered and quoted in public scripts, so an administrator's
 * existing files read unchanged:
 *   Schedule.Weekly.Frequency / Schedule.Weekly.Days (`Monday,Friday`; 3-letter forms accepted),
 *   Schedule.Monthly.Frequency / Schedule.Monthly.Day (1–31),
 *   Schedule.Sequential.FollowsJob (a job id or quoted name),
 *   Schedule.StartDate / Schedule.EndDate (`YYYY-MM-DD`, or ClearCase's `DD-Mon-YYYY`),
 *   NotifyInfo.OnEvents (JobBegin, JobEndOK, JobEndOKWithMsgs, JobEndFail, JobDeleted, JobModified),
 *   NotifyInfo.Using (`email`),
 *   LastCompletionInfo.ProcessId / Started / Ended / ExitStatus, Created, LastModified, NextRunTime.
 * `Schedule.Once.Date` is msite's own: ClearCase's Once carries only a date and no source shows its key;
 * we named it like the other kinds (`Schedule.<Kind>.<Field>`).
 *
 * Lines may be indented. Whole-line `#` comments and blank lines are ignored outside multi-line values,
 * and so is a trailing `# …` after a `Job.Task:` value (what `-get` writes there, see print.ts).
 */

export interface ParseOptions {
  /** Named in error messages. */
  file?: string;
}

type Kind = 'Job' | 'Task';

interface Field {
  value: string;
  line: number;
}

interface Item {
  kind: Kind;
  line: number;
  fields: Map<string, Field>;
  blocks: Map<string, Field>;
}

const JOB_KEYS = new Set([
  'Job.Id',
  'Job.Name',
  'Job.Schedule.Once.Date',
  'Job.Schedule.Daily.Frequency',
  'Job.Schedule.Weekly.Frequency',
  'Job.Schedule.Weekly.Days',
  'Job.Schedule.Monthly.Frequency',
  'Job.Schedule.Monthly.Day',
  'Job.Schedule.Sequential.FollowsJob',
  'Job.Schedule.StartDate',
  'Job.Schedule.EndDate',
  'Job.Schedule.LastDate',
  'Job.Schedule.FirstStartTime',
  'Job.Schedule.StartTimeRestartFrequency',
  'Job.Schedule.LastStartTime',
  'Job.DeleteWhenCompleted',
  'Job.Task',
  'Job.Args',
  'Job.NotifyInfo.OnEvents',
  'Job.NotifyInfo.Using',
  'Job.NotifyInfo.Recipients',
  'Job.Created',
  'Job.LastModified',
  'Job.NextRunTime',
  'Job.LastCompletionInfo.ProcessId',
  'Job.LastCompletionInfo.Started',
  'Job.LastCompletionInfo.Ended',
  'Job.LastCompletionInfo.ExitStatus',
]);
const TASK_KEYS = new Set(['Task.Id', 'Task.Name', 'Task.Pathname']);
const BLOCK_KEYS: Record<Kind, readonly string[]> = {
  Job: ['Job.Description', 'Job.LastCompletionInfo.Messages'],
  Task: ['Task.Description'],
};

/** Which key selects which schedule kind. */
const KIND_KEYS: ReadonlyArray<readonly [Schedule['kind'], readonly string[]]> = [
  ['Once', ['Job.Schedule.Once.Date']],
  ['Daily', ['Job.Schedule.Daily.Frequency']],
  ['Weekly', ['Job.Schedule.Weekly.Frequency', 'Job.Schedule.Weekly.Days']],
  ['Monthly', ['Job.Schedule.Monthly.Frequency', 'Job.Schedule.Monthly.Day']],
  ['Sequential', ['Job.Schedule.Sequential.FollowsJob']],
];
const TIME_KEYS = ['Job.Schedule.FirstStartTime', 'Job.Schedule.StartTimeRestartFrequency', 'Job.Schedule.LastStartTime'] as const;

/** Reads a job or task reference: a number is an id, a quoted string a name. Undefined if neither. */
export function parseRef(value: string): ItemRef | undefined {
  if (/^\d+$/.test(value)) {
    const id = Number(value);
    return id >= 1 && Number.isSafeInteger(id) ? { id } : undefined;
  }
  const quoted = /^"([^"]+)"$/.exec(value);
  return quoted ? { name: quoted[1]! } : undefined;
}

/** Splits `13  # Job.Task: "x"` or `"My task" # …` into the reference text and drops the comment. */
function stripTaskComment(value: string): string {
  if (value.startsWith('"')) {
    const close = value.indexOf('"', 1);
    if (close > 0 && /^\s*(#.*)?$/.test(value.slice(close + 1))) return value.slice(0, close + 1);
    return value;
  }
  const hash = value.indexOf('#');
  return (hash < 0 ? value : value.slice(0, hash)).trim();
}

function quote(value: string): string {
  return JSON.stringify(value);
}

/**
 * Parses a whole definition text into jobs and tasks, checking every rule that concerns one item
 * (keys, values, required fields). Rules between items (unique ids and names, tasks and predecessors
 * that exist) are `validateDefinition`'s.
 *
 * @throws DefinitionError listing every problem, each with its line.
 */
export function parseDefinition(text: string, options: ParseOptions = {}): ScheduleDefinition {
  // Problems with a line come first, by line; what that leaves missing in an item (reported at its
  // Begin line) after them, so the first message names the line to fix.
  const problems: Array<DefinitionProblem & { missing: boolean }> = [];
  let current: Item | undefined;
  const problem = (line: number, message: string): void => {
    problems.push({ line, message, missing: current !== undefined && line === current.line });
  };

  const lines: string[] = [];
  const starts: number[] = [];
  for (let at = 0; at <= text.length;) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl;
    starts.push(at);
    lines.push(text.slice(at, end).replace(/\r$/, ''));
    at = end + 1;
    if (nl < 0) break;
  }
  const rawBetween = (first: number, last: number): string =>
    text.slice(starts[first - 1] ?? 0, (starts[last - 1] ?? 0) + (lines[last - 1]?.length ?? 0));

  const def: ScheduleDefinition = { jobs: [], tasks: [] };
  let item: Item | undefined;

  const finish = (endLine: number): void => {
    if (!item) return;
    current = item;
    const built = item.kind === 'Job' ? buildJob(item, problem) : buildTask(item, problem);
    if (built) {
      const keyLines = new Map<string, number>([...item.fields, ...item.blocks].map(([k, f]) => [k, f.line]));
      const fingerprint = item.kind === 'Job' ? canonicalJobText(built as JobDefinition) : canonicalTaskText(built as TaskDefinition);
      attachSource(built, { text: rawBetween(item.line, endLine), line: item.line, keyLines, fingerprint });
      if (item.kind === 'Job') def.jobs.push(built as JobDefinition);
      else def.tasks.push(built as TaskDefinition);
    }
    item = undefined;
    current = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;

    const begin = /^(Job|Task)\.Begin$/.exec(trimmed);
    if (begin) {
      if (item) {
        problem(item.line, `${item.kind}.Begin has no ${item.kind}.End before the ${begin[1]}.Begin at line ${lineNo}`);
        item = undefined;
      }
      item = { kind: begin[1] as Kind, line: lineNo, fields: new Map(), blocks: new Map() };
      continue;
    }
    if (!item) {
      problem(lineNo, `expected Job.Begin or Task.Begin, got ${quote(trimmed)}`);
      continue;
    }
    if (trimmed === `${item.kind}.End`) {
      finish(lineNo);
      continue;
    }
    if (/^(Job|Task)\.End$/.test(trimmed)) {
      problem(lineNo, `${trimmed} inside a ${item.kind.toLowerCase()} that began at line ${item.line}`);
      continue;
    }

    const blockBegin = /^([A-Za-z][A-Za-z0-9.]*)\.Begin:?$/.exec(trimmed);
    if (blockBegin) {
      const key = blockBegin[1]!;
      if (!BLOCK_KEYS[item.kind].includes(key)) {
        problem(lineNo, `unknown key ${key}.Begin in a ${item.kind.toLowerCase()}`);
        continue;
      }
      // Everything up to the matching .End line is literal text, comments and indentation included.
      const body: string[] = [];
      let j = i + 1;
      let closed = false;
      for (; j < lines.length; j++) {
        const t = lines[j]!.trim();
        if (t === `${key}.End:` || t === `${key}.End`) {
          closed = true;
          break;
        }
        if (t === `${item.kind}.End`) break;
        body.push(lines[j]!);
      }
      if (!closed) {
        problem(lineNo, `${key}.Begin: has no ${key}.End:`);
        i = j - 1;
        continue;
      }
      const previous = item.blocks.get(key);
      if (previous) problem(lineNo, `${key} given twice (first at line ${previous.line})`);
      else item.blocks.set(key, { value: body.join('\n'), line: lineNo });
      i = j;
      continue;
    }

    const kv = /^([A-Za-z][A-Za-z0-9.]*)\s*:(.*)$/.exec(trimmed);
    if (!kv) {
      problem(lineNo, `expected "Key: value", got ${quote(trimmed)}`);
      continue;
    }
    const key = kv[1]!;
    const keys = item.kind === 'Job' ? JOB_KEYS : TASK_KEYS;
    if (!keys.has(key)) {
      problem(lineNo, `unknown key ${key} in a ${item.kind.toLowerCase()}`);
      continue;
    }
    const previous = item.fields.get(key);
    if (previous) {
      problem(lineNo, `${key} given twice (first at line ${previous.line})`);
      continue;
    }
    item.fields.set(key, { value: kv[2]!.trim(), line: lineNo });
  }
  if (item) problem(item.line, `${item.kind}.Begin has no ${item.kind}.End`);

  if (problems.length > 0) {
    problems.sort((a, b) => Number(a.missing) - Number(b.missing) || a.line - b.line);
    throw new DefinitionError(
      problems.map(({ line, message }) => ({ line, message })),
      options.file,
    );
  }
  return def;
}

type Report = (line: number, message: string) => void;

function buildTask(item: Item, problem: Report): TaskDefinition | undefined {
  const { report, count } = problemCounter(problem);
  const task: Partial<TaskDefinition> = {};
  const id = item.fields.get('Task.Id');
  if (id) task.id = positiveInt(id, 'Task.Id', 'a positive whole number', report);
  const name = item.fields.get('Task.Name');
  if (name) task.name = itemName(name, 'Task.Name', report);
  else report(item.line, 'task has no Task.Name');
  const path = item.fields.get('Task.Pathname');
  if (!path) report(item.line, 'task has no Task.Pathname');
  else if (path.value === '') report(path.line, 'Task.Pathname must name a program, got ""');
  else task.pathname = path.value;
  const description = item.blocks.get('Task.Description');
  if (description) task.description = description.value;
  return count() === 0 ? (task as TaskDefinition) : undefined;
}

function problemCounter(problem: Report): { report: Report; count: () => number } {
  let n = 0;
  return {
    report: (line, message) => {
      n++;
      problem(line, message);
    },
    count: () => n,
  };
}

function positiveInt(field: Field, key: string, what: string, report: Report, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const n = /^\d+$/.test(field.value) ? Number(field.value) : NaN;
  if (!(n >= 1 && n <= max)) {
    report(field.line, `${key} must be ${what}, got ${quote(field.value)}`);
    return undefined;
  }
  return n;
}

function itemName(field: Field, key: string, report: Report): string | undefined {
  const m = /^"(.*)"$/.exec(field.value);
  const name = m ? m[1]! : field.value;
  if (name.trim() === '' || name.includes('"')) {
    report(field.line, `${key} must be a non-empty name in double quotes, got ${quote(field.value)}`);
    return undefined;
  }
  return name;
}

function date(field: Field | undefined, key: string, report: Report): string | undefined {
  if (!field) return undefined;
  const d = parseLocalDate(field.value);
  if (d === undefined) {
    report(field.line, `${key} must be a date YYYY-MM-DD (or DD-Mon-YYYY), got ${quote(field.value)}`);
  }
  return d;
}

function time(field: Field | undefined, key: string, report: Report): number | undefined {
  if (!field) return undefined;
  const t = parseTimeOfDay(field.value);
  if (t === undefined) report(field.line, `${key} must be HH:MM:SS, got ${quote(field.value)}`);
  return t;
}

function weekdays(field: Field, report: Report): Weekday[] | undefined {
  const words = field.value.split(/[\s,]+/).filter((w) => w !== '');
  const found = new Set<number>();
  for (const w of words) {
    const word = w.toLowerCase();
    const i = WEEKDAYS.findIndex((d) => d.toLowerCase() === word || d.slice(0, 3).toLowerCase() === word);
    if (i < 0) {
      report(field.line, `Job.Schedule.Weekly.Days must list days of the week (Sunday … Saturday), got ${quote(w)}`);
      return undefined;
    }
    found.add(i);
  }
  if (found.size === 0) {
    report(field.line, 'Job.Schedule.Weekly.Days must list at least one day of the week');
    return undefined;
  }
  return [...found].sort((a, b) => a - b).map((i) => WEEKDAYS[i]!);
}

function dateTime(field: Field | undefined, key: string, report: Report): string | undefined {
  if (!field) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
  if (!iso.test(field.value) || Number.isNaN(Date.parse(field.value))) {
    report(field.line, `${key} must be an ISO-8601 date and time, got ${quote(field.value)}`);
    return undefined;
  }
  return field.value;
}

function buildJob(item: Item, problem: Report): JobDefinition | undefined {
  const { report, count } = problemCounter(problem);
  const f = (key: string): Field | undefined => item.fields.get(key);

  const job: Partial<JobDefinition> = {};
  const id = f('Job.Id');
  if (id) job.id = positiveInt(id, 'Job.Id', 'a positive whole number', report);
  const name = f('Job.Name');
  if (name) job.name = itemName(name, 'Job.Name', report);
  else report(item.line, 'job has no Job.Name');
  const description = item.blocks.get('Job.Description');
  if (description) job.description = description.value;

  // Schedule kind: exactly one.
  const kinds = KIND_KEYS.map(([kind, keys]) => ({
    kind,
    fields: keys.map((k) => f(k)).filter((x) => x !== undefined),
  })).filter((k) => k.fields.length > 0);
  const chosen = kinds[0];
  for (const other of kinds.slice(1)) {
    const at = other.fields[0]!;
    const where = chosen!.fields[0]!.line;
    report(at.line, `a job has one schedule kind: ${other.kind} given here conflicts with ${chosen!.kind} at line ${where}`);
  }
  if (!chosen) {
    report(
      item.line,
      'job has no schedule: give Job.Schedule.Once.Date, Job.Schedule.Daily.Frequency, Job.Schedule.Weekly.Days, ' +
        'Job.Schedule.Monthly.Day or Job.Schedule.Sequential.FollowsJob',
    );
  }

  const dates: ScheduleDates = {};
  const startDate = date(f('Job.Schedule.StartDate'), 'Job.Schedule.StartDate', report);
  const endDate = date(f('Job.Schedule.EndDate'), 'Job.Schedule.EndDate', report);
  const lastDate = date(f('Job.Schedule.LastDate'), 'Job.Schedule.LastDate', report);
  if (startDate !== undefined) dates.startDate = startDate;
  if (endDate !== undefined) dates.endDate = endDate;
  if (lastDate !== undefined) dates.lastDate = lastDate;
  if (startDate !== undefined && endDate !== undefined && endDate < startDate) {
    const line = f('Job.Schedule.EndDate')!.line;
    report(line, `Job.Schedule.EndDate ${endDate} is before Job.Schedule.StartDate ${startDate}`);
  }

  const first = time(f('Job.Schedule.FirstStartTime'), 'Job.Schedule.FirstStartTime', report);
  const every = f('Job.Schedule.StartTimeRestartFrequency');
  const restart = time(every, 'Job.Schedule.StartTimeRestartFrequency', report);
  if (restart === 0) report(every!.line, 'Job.Schedule.StartTimeRestartFrequency must be longer than 00:00:00');
  const lastField = f('Job.Schedule.LastStartTime');
  const last = time(lastField, 'Job.Schedule.LastStartTime', report);
  if (first !== undefined && last !== undefined && last < first) {
    const firstText = f('Job.Schedule.FirstStartTime')!.value;
    report(lastField!.line, `Job.Schedule.LastStartTime ${lastField!.value} is before Job.Schedule.FirstStartTime ${firstText}`);
  }

  let schedule: Schedule | undefined;
  if (chosen?.kind === 'Sequential') {
    for (const key of TIME_KEYS) {
      const tf = f(key);
      if (tf) {
        report(tf.line, `${key} does not apply to a Sequential schedule (it starts when its predecessor completes)`);
      }
    }
    const follows = f('Job.Schedule.Sequential.FollowsJob')!;
    const ref = parseRef(follows.value);
    if (!ref) {
      const got = quote(follows.value);
      report(follows.line, `Job.Schedule.Sequential.FollowsJob must be a job id or a quoted job name, got ${got}`);
    } else schedule = { kind: 'Sequential', followsJob: ref, ...dates };
  } else if (chosen) {
    const firstField = f('Job.Schedule.FirstStartTime');
    if (!firstField) report(item.line, `a ${chosen.kind} schedule needs Job.Schedule.FirstStartTime`);
    const times: ScheduleTimes = { firstStartTime: firstField?.value ?? '' };
    if (every) times.startTimeRestartFrequency = every.value;
    if (lastField) times.lastStartTime = lastField.value;
    const frequency = (key: string, unit: string): number | undefined => {
      const ff = f(key);
      return ff ? positiveInt(ff, key, `a whole number of ${unit} from 1`, report) : 1;
    };
    switch (chosen.kind) {
      case 'Once': {
        const d = date(f('Job.Schedule.Once.Date'), 'Job.Schedule.Once.Date', report);
        if (d !== undefined) schedule = { kind: 'Once', date: d, ...dates, ...times };
        break;
      }
      case 'Daily': {
        const n = frequency('Job.Schedule.Daily.Frequency', 'days');
        if (n !== undefined) schedule = { kind: 'Daily', frequency: n, ...dates, ...times };
        break;
      }
      case 'Weekly': {
        const n = frequency('Job.Schedule.Weekly.Frequency', 'weeks');
        const daysField = f('Job.Schedule.Weekly.Days');
        if (!daysField) report(item.line, 'a Weekly schedule needs Job.Schedule.Weekly.Days');
        const days = daysField ? weekdays(daysField, report) : undefined;
        if (n !== undefined && days) schedule = { kind: 'Weekly', frequency: n, days, ...dates, ...times };
        break;
      }
      case 'Monthly': {
        const n = frequency('Job.Schedule.Monthly.Frequency', 'months');
        const dayField = f('Job.Schedule.Monthly.Day');
        if (!dayField) report(item.line, 'a Monthly schedule needs Job.Schedule.Monthly.Day');
        const day = dayField ? positiveInt(dayField, 'Job.Schedule.Monthly.Day', 'a day of the month from 1 to 31', report, 31) : undefined;
        if (n !== undefined && day !== undefined) schedule = { kind: 'Monthly', frequency: n, day, ...dates, ...times };
        break;
      }
    }
  }
  if (schedule) job.schedule = schedule;

  const del = f('Job.DeleteWhenCompleted');
  if (del) {
    const v = del.value.toUpperCase();
    if (v === 'TRUE' || v === 'FALSE') job.deleteWhenCompleted = v === 'TRUE';
    else report(del.line, `Job.DeleteWhenCompleted must be TRUE or FALSE, got ${quote(del.value)}`);
  }

  const task = f('Job.Task');
  if (!task) report(item.line, 'job has no Job.Task');
  else {
    const value = stripTaskComment(task.value);
    const ref = parseRef(value);
    if (ref) job.task = ref;
    else report(task.line, `Job.Task must be a task id or a quoted task name, got ${quote(value)}`);
  }
  const args = f('Job.Args');
  if (args) job.args = args.value;

  const notify: NotifyInfo = {};
  const events = f('Job.NotifyInfo.OnEvents');
  if (events) {
    const list = events.value.split(/[\s,]+/).filter((e) => e !== '');
    const known: NotifyEvent[] = [];
    for (const e of list) {
      const match = NOTIFY_EVENTS.find((k) => k.toLowerCase() === e.toLowerCase());
      if (match) {
        if (!known.includes(match)) known.push(match);
      } else {
        report(events.line, `Job.NotifyInfo.OnEvents: unknown event ${quote(e)} (known: ${NOTIFY_EVENTS.join(', ')})`);
      }
    }
    notify.onEvents = known;
  }
  const using = f('Job.NotifyInfo.Using');
  if (using) {
    if (using.value.toLowerCase() === 'email') notify.using = 'email';
    else report(using.line, `Job.NotifyInfo.Using must be email, got ${quote(using.value)}`);
  }
  const recipients = f('Job.NotifyInfo.Recipients');
  if (recipients) {
    const list = recipients.value.split(/[\s,]+/).filter((r) => r !== '');
    if (list.length === 0) report(recipients.line, 'Job.NotifyInfo.Recipients must list at least one address');
    notify.recipients = list;
  }
  if (events || using || recipients) job.notify = notify;

  const created = f('Job.Created');
  if (created) job.created = created.value;
  const modified = f('Job.LastModified');
  if (modified) job.lastModified = modified.value;
  const next = f('Job.NextRunTime');
  if (next) job.nextRunTime = next.value;

  const info: LastCompletionInfo = {};
  const pid = f('Job.LastCompletionInfo.ProcessId');
  if (pid) {
    const n = /^\d+$/.test(pid.value) ? Number(pid.value) : NaN;
    if (Number.isSafeInteger(n)) info.processId = n;
    else report(pid.line, `Job.LastCompletionInfo.ProcessId must be a process id, got ${quote(pid.value)}`);
  }
  const started = dateTime(f('Job.LastCompletionInfo.Started'), 'Job.LastCompletionInfo.Started', report);
  if (started !== undefined) info.started = started;
  const ended = dateTime(f('Job.LastCompletionInfo.Ended'), 'Job.LastCompletionInfo.Ended', report);
  if (ended !== undefined) info.ended = ended;
  const status = f('Job.LastCompletionInfo.ExitStatus');
  if (status) {
    // ClearCase prints the status in hex (0x0); both forms are read, decimal is written.
    const v = status.value;
    const n = /^-?\d+$/.test(v) ? Number(v) : /^0x[0-9a-f]+$/i.test(v) ? parseInt(v.slice(2), 16) : NaN;
    if (Number.isSafeInteger(n)) info.exitStatus = n;
    else report(status.line, `Job.LastCompletionInfo.ExitStatus must be a number, got ${quote(status.value)}`);
  }
  const messages = item.blocks.get('Job.LastCompletionInfo.Messages');
  if (messages) info.messages = messages.value;
  if (Object.keys(info).length > 0 || [...item.fields.keys()].some((k) => k.startsWith('Job.LastCompletionInfo.'))) {
    job.lastCompletion = info;
  }

  return count() === 0 ? (job as JobDefinition) : undefined;
}
