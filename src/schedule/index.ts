/**
 * The scheduler: job and task definitions, recurrence, the store, and the runner that starts jobs at
 * their times (`Scheduler`), for `msite schedule` and the site daemon.
 */
export * from './model.js';
export { DefinitionError, type DefinitionProblem } from './definitionError.js';
export { ScheduleAccessError } from './scheduleAccessError.js';
export { AmbiguousJobError } from './ambiguousJobError.js';
export { splitArgs } from './splitArgs.js';
export { processAlive } from '../core/processAlive.js';
export { parseDefinition, parseRef, type ParseOptions } from './parse.js';
export {
  printDefinition,
  printJob,
  printTask,
  canonicalJobText,
  canonicalTaskText,
  taskNameLookup,
  type PrintOptions,
  type TaskNameLookup,
} from './print.js';
export { validateDefinition, loadDefinition, mergeTasks, type ValidateOptions } from './validate.js';
export { sourceOf, lineOf, type ItemSource } from './itemSource.js';
export { nextStarts, nextStart, previousStart, dueStart, isEnabled, withEnabled, followsJob } from './recurrence.js';
export { hostTimeZone, instantOfLocal, localDayNumber, wallClockOf, type WallClock } from './timeZone.js';
export { parseLocalDate, dayNumber, dateOfDayNumber } from './localDate.js';
export { parseTimeOfDay, formatTimeOfDay } from './timeOfDay.js';
export {
  PREDEFINED_TASKS,
  PREDEFINED_JOBS,
  PREDEFINED_DISABLED_SINCE,
  BUILTIN_TASK_COMMANDS,
  predefinedTasks,
  predefinedJobs,
  isPredefinedTask,
  builtinCommandOf,
  type BuiltinTaskCommand,
} from './predefined.js';
export {
  ACCESS_LEVELS,
  defaultAcl,
  parseAcl,
  printAcl,
  accessOf,
  requireAccess,
  type AccessLevel,
  type AclEntry,
  type AclPrincipal,
} from './acl.js';
export {
  ScheduleStore,
  type ScheduleStoreOptions,
  type ScheduleSnapshot,
  type JobRunState,
  type StartRecord,
  type CompletionRecord,
  type ActingUser,
  runIsLive,
  servedUntil,
} from './scheduleStore.js';
export { SCHEDULE_SCHEMA_V1 } from './scheduleSchema.js';
export { readStoredSchedule, writeStoredSchedule, type StoredSchedule } from './storedSchedule.js';
export { appendRun, listRuns, type CompletedRun } from './runHistory.js';
export {
  Scheduler,
  RUN_REASONS,
  DEFAULT_NOTIFY_EVENTS,
  UNKNOWN_EXIT_STATUS,
  wantsNotification,
  type SchedulerOptions,
  type Run,
  type RunReason,
  type RunResult,
  type EndEvent,
  type Tick,
} from './scheduler.js';
export { childProcessSpawner, type Spawner, type SpawnOptions, type SpawnedProcess, type ProcessExit } from './spawner.js';
export { Notifier, siteNotifier, DEFAULT_MAIL_PROGRAM, type Notification, type NotifierOptions, type NotifyOutcome } from './notifier.js';
export { jobStatus, formatJobStatus, localTimeText, JOB_STATES, type JobState, type JobStatus } from './jobStatus.js';
export { JobFailedError } from './jobFailedError.js';
export { msiteInvocation, type CommandLine } from './msiteInvocation.js';
