/**
 * The scheduler's definitions, recurrence and store: what `msite schedule` and the daemon's scheduler
 * are built on. Running tasks is not here.
 */
export * from './model.js';
export { DefinitionError, type DefinitionProblem } from './definitionError.js';
export { ScheduleAccessError } from './scheduleAccessError.js';
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
export {
  nextStarts,
  nextStart,
  previousStart,
  dueStart,
  isEnabled,
  withEnabled,
  followsJob,
} from './recurrence.js';
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
} from './scheduleStore.js';
export { withFileLock, type FileLockOptions } from './fileLock.js';
