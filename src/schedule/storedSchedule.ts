import type { Database } from 'better-sqlite3';
import type { LastCompletionInfo } from './model.js';
import type { JobRunState } from './scheduleStore.js';

/**
 * The schedule as its tables hold it (see scheduleSchema.ts): the jobs, custom tasks and ACL as text,
 * the next job id, and the run state of each job. `ScheduleStore` parses and validates; this only
 * moves rows, so a migration can write what an older store kept without reinterpreting it.
 */
export interface StoredSchedule {
  jobs: string;
  tasks: string;
  acl: string;
  nextJobId: number;
  state: Map<number, JobRunState>;
}

interface StateRow {
  job_id: number;
  defined_at: number | null;
  last_scheduled_start: number | null;
  running_process_id: number | null;
  running_started: number | null;
  running_runner_pid: number | null;
  running_process: string | null;
  running_runner: string | null;
  lc_process_id: number | null;
  lc_started: string | null;
  lc_ended: string | null;
  lc_exit_status: number | null;
  lc_messages: string | null;
}

/** Drops the keys whose value is NULL: an absent field, as the store's objects spell it. */
function present<T extends object>(value: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) as T;
}

function stateOf(row: StateRow): JobRunState {
  const state = present<JobRunState>({ definedAt: row.defined_at, lastScheduledStart: row.last_scheduled_start });
  if (row.running_process_id !== null && row.running_started !== null) {
    state.running = present<NonNullable<JobRunState['running']>>({
      processId: row.running_process_id,
      started: row.running_started,
      runnerPid: row.running_runner_pid,
      processIdentity: row.running_process,
      runnerIdentity: row.running_runner,
    });
  }
  const lastCompletion = present<LastCompletionInfo>({
    processId: row.lc_process_id,
    started: row.lc_started,
    ended: row.lc_ended,
    exitStatus: row.lc_exit_status,
    messages: row.lc_messages,
  });
  if (Object.keys(lastCompletion).length > 0) state.lastCompletion = lastCompletion;
  return state;
}

/** The stored schedule, or undefined when none was written yet. Call it inside a transaction for a consistent read. */
export function readStoredSchedule(db: Database): StoredSchedule | undefined {
  const head = db.prepare('SELECT jobs, tasks, acl, next_job_id FROM schedule WHERE id = 1').get() as
    { jobs: string; tasks: string; acl: string; next_job_id: number } | undefined;
  if (!head) return undefined;
  const rows = db.prepare('SELECT * FROM schedule_job_state ORDER BY job_id').all() as StateRow[];
  return {
    jobs: head.jobs,
    tasks: head.tasks,
    acl: head.acl,
    nextJobId: head.next_job_id,
    state: new Map(rows.map((row) => [row.job_id, stateOf(row)])),
  };
}

/** Replaces the stored schedule with `schedule`. The caller holds the write transaction. */
export function writeStoredSchedule(db: Database, schedule: StoredSchedule): void {
  db.prepare(
    `INSERT INTO schedule (id, jobs, tasks, acl, next_job_id) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET jobs = excluded.jobs, tasks = excluded.tasks, acl = excluded.acl, next_job_id = excluded.next_job_id`,
  ).run(schedule.jobs, schedule.tasks, schedule.acl, schedule.nextJobId);
  db.prepare('DELETE FROM schedule_job_state').run();
  const insert = db.prepare(
    `INSERT INTO schedule_job_state (job_id, defined_at, last_scheduled_start, running_process_id, running_started,
       running_runner_pid, lc_process_id, lc_started, lc_ended, lc_exit_status, lc_messages)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const [jobId, s] of schedule.state) {
    const lc = s.lastCompletion;
    insert.run(
      jobId,
      s.definedAt ?? null,
      s.lastScheduledStart ?? null,
      s.running?.processId ?? null,
      s.running?.started ?? null,
      s.running?.runnerPid ?? null,
      lc?.processId ?? null,
      lc?.started ?? null,
      lc?.ended ?? null,
      lc?.exitStatus ?? null,
      lc?.messages ?? null,
    );
    // Set apart, and only when known: the import of an older home's files (site migration 1) writes
    // run states, none with identities, before the migration that adds these columns.
    if (s.running?.processIdentity !== undefined || s.running?.runnerIdentity !== undefined) {
      db.prepare('UPDATE schedule_job_state SET running_process = ?, running_runner = ? WHERE job_id = ?').run(
        s.running.processIdentity ?? null,
        s.running.runnerIdentity ?? null,
        jobId,
      );
    }
  }
}
