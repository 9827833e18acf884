import type { Database } from 'better-sqlite3';
import { SCHEDULE_SCHEMA_V1 } from '../schedule/scheduleSchema.js';
import { SHIPPING_SCHEMA_V3, SHIPPING_SCHEMA_V5 } from '../shipping/shippingSchema.js';
import { importLegacySiteFiles } from './legacySiteFiles.js';
import { VIEW_SCHEMA_V6 } from './viewSchema.js';

/**
 * The site's own tables, besides the schedule's (scheduleSchema.ts):
 *
 * - `vob`: the VOB registry. A tag is claimed (state `creating`, with the claiming process) before
 *   its storage is made and becomes `ready` once the storage is complete; `SiteHome` writes it.
 * - `order_attempt`: one row per attempt to deliver a shipping order to one destination, with its
 *   outcome and, for a failure, the error's code and message. Written by the shipping server.
 * - `delivery_log`: an index of the delivery logs, one row per packet delivered or received, and
 *   where in which log file its entry is, so the dashboard need not scan the logs. Written by the
 *   shipping server as it appends to a log.
 * - `daemon_state`: what the daemon keeps between runs (key/value). Written by the daemon.
 */
const SITE_SCHEMA_V1 = `
  CREATE TABLE vob (
    tag TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('creating', 'ready')),
    created INTEGER NOT NULL,
    claimed_by INTEGER
  );
  CREATE INDEX vob_path ON vob (path);

  CREATE TABLE order_attempt (
    seq INTEGER PRIMARY KEY,
    order_name TEXT NOT NULL,
    destination TEXT NOT NULL,
    attempted_at INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
    error_code TEXT,
    error_message TEXT
  );
  CREATE INDEX order_attempt_order ON order_attempt (order_name, destination, seq);

  CREATE TABLE delivery_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    packet TEXT NOT NULL,
    peer TEXT NOT NULL,
    log_file TEXT NOT NULL,
    log_offset INTEGER NOT NULL
  );
  CREATE INDEX delivery_log_packet ON delivery_log (packet);
  CREATE INDEX delivery_log_at ON delivery_log (at);

  CREATE TABLE daemon_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/**
 * Version 2, the site's identity and the sender's resumable uploads:
 *
 * - `site_setting`: what `msite site init` sets (host name, peer and admin ports, listen address), key/
 *   value. A table of its own rather than rows of `daemon_state`: these are the administrator's
 *   choices, read by every command, while `daemon_state` is what the daemon keeps for itself, and
 *   clearing that must never lose who the site is.
 * - `upload_resume`: where at a hop an interrupted upload of a packet (by SHA-256) continues: the
 *   path of its tus upload under the hop's URL (a path, so a hop that moves keeps its uploads).
 *   Written by the sender as soon as the hop has made the upload, removed once it is delivered.
 */
const SITE_SCHEMA_V2 = `
  CREATE TABLE site_setting (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE upload_resume (
    hop TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    upload_path TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (hop, sha256)
  ) WITHOUT ROWID;
`;

/**
 * - `vob_lock`: one row per VOB being imported into (`import:TAG`) or exported from (`export:TAG`) by
 *   sync_receive or sync_export_list, with the holding process, so a receipt handler and a scheduled
 *   job never work on one VOB at once. A row whose process is gone is stale and may be taken over.
 * - `creation_notice`: creation packets sync_receive found in a bay and told the administrators of,
 *   so each is told once, not on every run.
 */
const SYNC_SCHEMA_V4 = `
  CREATE TABLE vob_lock (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    token TEXT NOT NULL,
    command TEXT NOT NULL,
    since INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE creation_notice (packet TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
`;

/**
 * - `vob_lock.process`, `schedule_job_state.running_process` and `.running_runner`: the
 *   processIdentity (core/processAlive.ts) of a lock's holder, and of a running job's task and
 *   runner, beside their pids, so a holder whose pid was given to another process after a restart
 *   is known to be gone.
 */
const LOCK_SCHEMA_V7 = `
  ALTER TABLE vob_lock ADD COLUMN process TEXT;
  ALTER TABLE schedule_job_state ADD COLUMN running_process TEXT;
  ALTER TABLE schedule_job_state ADD COLUMN running_runner TEXT;
`;

/**
 * The migrations in order; `PRAGMA user_version` holds how many were applied. The first also imports
 * the files an older site home kept (legacySiteFiles.ts), in the same transaction.
 */
const MIGRATIONS: readonly ((db: Database, homeDir: string, now: number) => boolean)[] = [
  (db, homeDir, now) => {
    db.exec(SITE_SCHEMA_V1);
    db.exec(SCHEDULE_SCHEMA_V1);
    return importLegacySiteFiles(db, homeDir, now);
  },
  (db) => {
    db.exec(SITE_SCHEMA_V2);
    return false;
  },
  (db) => {
    db.exec(SHIPPING_SCHEMA_V3);
    return false;
  },
  (db) => {
    db.exec(SYNC_SCHEMA_V4);
    return false;
  },
  (db) => {
    db.exec(SHIPPING_SCHEMA_V5);
    return false;
  },
  (db) => {
    db.exec(VIEW_SCHEMA_V6);
    return false;
  },
  (db) => {
    db.exec(LOCK_SCHEMA_V7);
    return false;
  },
];

export const SITE_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Applies the migrations `db` lacks, in one write transaction that re-reads the version under the
 * lock, so two processes opening a new site home at once migrate it exactly once.
 *
 * @returns the version found, and whether legacy files were imported (by this call).
 */
export function applySiteMigrations(db: Database, homeDir: string, now: number): { from: number; importedLegacy: boolean } {
  return db
    .transaction(() => {
      const from = db.pragma('user_version', { simple: true }) as number;
      let importedLegacy = false;
      for (let v = from; v < SITE_SCHEMA_VERSION; v++) importedLegacy = MIGRATIONS[v]!(db, homeDir, now) || importedLegacy;
      if (from < SITE_SCHEMA_VERSION) db.pragma(`user_version = ${SITE_SCHEMA_VERSION}`);
      return { from, importedLegacy };
    })
    .immediate();
}
