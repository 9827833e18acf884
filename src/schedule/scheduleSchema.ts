/**
 * The scheduler's tables in the site database. The site database owns the schema version and runs
 * this in its first migration; a later change to these tables is a new step exported from here and
 * appended to the site's list, so the schedule layer never needs to know about the site above it.
 *
 * - `schedule`: one row (id 1). Jobs, custom tasks and ACL are kept in their text formats, so an
 *   unmodified job prints back exactly as it was set; `next_job_id` is never handed out twice.
 * - `schedule_job_state`: per job, when its definition was set, the last scheduled start served, the
 *   run in progress and its LastCompletionInfo (the `lc_` columns; NULL where unknown).
 * - `schedule_run`: the run history, one row per completed run, appended by `recordCompletion`.
 */
export const SCHEDULE_SCHEMA_V1 = `
  CREATE TABLE schedule (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    jobs TEXT NOT NULL,
    tasks TEXT NOT NULL,
    acl TEXT NOT NULL,
    next_job_id INTEGER NOT NULL
  );

  CREATE TABLE schedule_job_state (
    job_id INTEGER PRIMARY KEY,
    defined_at INTEGER,
    last_scheduled_start INTEGER,
    running_process_id INTEGER,
    running_started INTEGER,
    running_runner_pid INTEGER,
    lc_process_id INTEGER,
    lc_started TEXT,
    lc_ended TEXT,
    lc_exit_status INTEGER,
    lc_messages TEXT
  );

  CREATE TABLE schedule_run (
    seq INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL,
    job_name TEXT NOT NULL,
    process_id INTEGER NOT NULL,
    started INTEGER NOT NULL,
    ended INTEGER NOT NULL,
    exit_status INTEGER NOT NULL,
    messages TEXT
  );
  CREATE INDEX schedule_run_job ON schedule_run (job_id, seq);
`;
