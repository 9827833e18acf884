import type { MsiteError } from '../core/errors.js';
import { JobFailedError } from './jobFailedError.js';
import type { LastCompletionInfo } from './model.js';
import { runIsLive, type ScheduleStore } from './scheduleStore.js';

/** How the run `schedule --wait` waited for ended. */
export interface JobWaitResult {
  id: number;
  name: string;
  /** The job was DeleteWhenCompleted and is gone. */
  deleted: boolean;
  lastCompletion: LastCompletionInfo | null;
  /** Set when the run failed: the caller shows the result, then fails with this. */
  failure?: MsiteError;
}

/**
 * How often the store is read while a run lasts. 100 ms: a read is one small SQLite query, and a
 * script waiting for a job should not wait much longer than the job.
 */
const DEFAULT_POLL_MS = 100;

/**
 * Waits until the job's current run, if any, ends (its runner or its task dies too), then reports its
 * last completion.
 *
 * @throws NotFoundError, AmbiguousJobError, ScheduleAccessError when `user` may not read the schedule.
 */
export async function waitForJob(store: ScheduleStore, ref: string, options: { user: string; pollMs?: number }): Promise<JobWaitResult> {
  store.requireAccess(options.user, 'read');
  const job = store.getJob(ref);
  const id = job.id!;
  for (;;) {
    const running = store.getRunState(id).running;
    if (!running || !runIsLive(running)) break;
    await new Promise((r) => setTimeout(r, options.pollMs ?? DEFAULT_POLL_MS));
  }
  const still = store.getJobs().find((j) => j.id === id);
  const info = still?.lastCompletion ?? null;
  const failed = info !== null && info.exitStatus !== 0;
  return {
    id,
    name: job.name,
    deleted: still === undefined,
    lastCompletion: info,
    ...(failed ? { failure: new JobFailedError(id, job.name, info.exitStatus ?? -1) } : {}),
  };
}
