import { IoError, type MsiteError } from '../core/errors.js';
import { JobFailedError } from '../schedule/jobFailedError.js';
import { Scheduler, type RunResult } from '../schedule/scheduler.js';
import type { ScheduleStore } from '../schedule/scheduleStore.js';
import type { Spawner } from '../schedule/spawner.js';
import { daemonRequest } from './daemonClient.js';
import { readDaemonFile } from './daemonFile.js';
import type { SiteHome } from './siteHome.js';

/** How `schedule --run` started a job: handed to the daemon, or run here to its end. */
export type JobRunNow =
  | { mode: 'daemon'; daemon: { pid: number; port: number }; run: { jobId: number; jobName: string; processId: number } }
  | {
      mode: 'foreground';
      /** The job's run and those of the Sequential jobs that followed it, in the order they ended. */
      results: RunResult[];
      /** Set when one of the runs failed: the caller shows the results, then fails with this. */
      failure?: MsiteError;
    };

export interface RunJobNowOptions {
  /** Checked against the scheduler ACL (Change) and sent to the daemon. */
  user: string;
  /** The environment jobs run with in the foreground (the daemon's own otherwise). */
  env: NodeJS.ProcessEnv;
  spawner: Spawner;
  /** Told why the daemon could not take the job, before it runs here instead. */
  onDaemonUnreachable?: (err: IoError) => void;
  /** Told when the job starts in the foreground, before waiting for it. */
  onForegroundStart?: (run: { jobId: number; processId: number }) => void;
}

/**
 * Starts a job now (`schedule --run`). With a daemon serving the site home, the daemon runs it and
 * this returns at once; without one (or when the daemon file names a process that does not answer:
 * a reused pid), it runs here through the same runner, Sequential successors included, until all end.
 *
 * @throws NotFoundError, AmbiguousJobError, ScheduleAccessError; a StateError when the job runs already.
 */
export async function runJobNow(home: SiteHome, store: ScheduleStore, ref: string, options: RunJobNowOptions): Promise<JobRunNow> {
  store.requireAccess(options.user, 'change');
  const job = store.getJob(ref);
  const daemon = readDaemonFile(home.daemonFile);
  if (daemon) {
    try {
      const reply = await daemonRequest(daemon, 'POST', `/api/schedule/jobs/${job.id}/run`, { user: options.user });
      const run = (reply.body as { run: { jobId: number; jobName: string; processId: number } }).run;
      return { mode: 'daemon', daemon: { pid: daemon.pid, port: daemon.port }, run };
    } catch (err) {
      if (!(err instanceof IoError)) throw err;
      options.onDaemonUnreachable?.(err);
    }
  }
  const results: RunResult[] = [];
  const scheduler = new Scheduler({ store, home: home.dir, env: options.env, spawner: options.spawner, onRunEnd: (r) => results.push(r) });
  const run = scheduler.runJob(job.id!);
  options.onForegroundStart?.(run);
  await scheduler.idle();
  const failed = results.find((r) => r.exitStatus !== 0);
  return {
    mode: 'foreground',
    results,
    ...(failed ? { failure: new JobFailedError(failed.jobId, failed.jobName, failed.exitStatus) } : {}),
  };
}
