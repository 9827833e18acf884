import type { Database } from 'better-sqlite3';

/** One completed run of a job, as the run history keeps it. Times are ms since the epoch. */
export interface CompletedRun {
  /** Increases with every run recorded in this site. */
  seq: number;
  jobId: number;
  /** The job's name when it ran (the job may since be renamed or deleted). */
  jobName: string;
  processId: number;
  started: number;
  ended: number;
  exitStatus: number;
  messages?: string;
}

interface RunRow {
  seq: number;
  job_id: number;
  job_name: string;
  process_id: number;
  started: number;
  ended: number;
  exit_status: number;
  messages: string | null;
}

/** Appends a completed run to the history. The caller holds the write transaction. */
export function appendRun(db: Database, run: Omit<CompletedRun, 'seq'>): void {
  db.prepare(
    'INSERT INTO schedule_run (job_id, job_name, process_id, started, ended, exit_status, messages) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(run.jobId, run.jobName, run.processId, run.started, run.ended, run.exitStatus, run.messages ?? null);
}

/** Completed runs, newest first: of one job when `jobId` is given, at most `limit` of them. */
export function listRuns(db: Database, options: { jobId?: number; limit?: number } = {}): CompletedRun[] {
  const where = options.jobId === undefined ? '' : 'WHERE job_id = @jobId';
  const rows = db
    .prepare(`SELECT * FROM schedule_run ${where} ORDER BY seq DESC LIMIT @limit`)
    .all({ ...(options.jobId === undefined ? {} : { jobId: options.jobId }), limit: options.limit ?? -1 }) as RunRow[];
  return rows.map((r) => ({
    seq: r.seq,
    jobId: r.job_id,
    jobName: r.job_name,
    processId: r.process_id,
    started: r.started,
    ended: r.ended,
    exitStatus: r.exit_status,
    ...(r.messages === null ? {} : { messages: r.messages }),
  }));
}
