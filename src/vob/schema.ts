import type { Database } from 'better-sqlite3';
import { StorageError } from '../core/errors.js';

/**
 * The VOB database schema as an ordered list of migrations. `PRAGMA user_version` holds the number
 * of migrations applied; opening a VOB applies the missing ones in one transaction, and refuses a
 * VOB written by a newer msite rather than guess at tables it does not know.
 *
 * OIDs are stored as text and tables keyed by them are WITHOUT ROWID, so the OID index is the table.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE replica (
    oid TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL,
    master TEXT NOT NULL,
    creator TEXT NOT NULL,
    public_key TEXT,
    comment TEXT NOT NULL DEFAULT '',
    lock TEXT,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE type (
    oid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    master TEXT NOT NULL,
    creator TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0,
    vtype TEXT,
    pbranch INTEGER NOT NULL DEFAULT 0,
    elkind TEXT,
    comment TEXT NOT NULL DEFAULT '',
    lock TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, name)
  ) WITHOUT ROWID;

  CREATE TABLE element (
    oid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    eltype TEXT NOT NULL,
    master TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE branch (
    oid TEXT PRIMARY KEY,
    element TEXT NOT NULL,
    brtype TEXT NOT NULL,
    parent_version TEXT,
    master TEXT,
    last_number INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX branch_element ON branch (element, brtype);
  CREATE INDEX branch_brtype ON branch (brtype);

  CREATE TABLE version (
    oid TEXT PRIMARY KEY,
    branch TEXT NOT NULL,
    number INTEGER NOT NULL,
    content TEXT,
    creator TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX version_branch ON version (branch, number);

  CREATE TABLE dirent (
    version TEXT NOT NULL,
    name TEXT NOT NULL,
    element TEXT NOT NULL,
    PRIMARY KEY (version, name)
  ) WITHOUT ROWID;
  CREATE INDEX dirent_element ON dirent (element);

  CREATE TABLE label (
    lbtype TEXT NOT NULL,
    element TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (lbtype, element)
  ) WITHOUT ROWID;
  CREATE INDEX label_version ON label (version);

  CREATE TABLE attribute (
    oid TEXT PRIMARY KEY,
    attype TEXT NOT NULL,
    object TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (object, attype)
  ) WITHOUT ROWID;

  CREATE TABLE hyperlink (
    oid TEXT PRIMARY KEY,
    hltype TEXT NOT NULL,
    from_obj TEXT NOT NULL,
    to_obj TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX hyperlink_from ON hyperlink (from_obj);
  CREATE INDEX hyperlink_to ON hyperlink (to_obj);

  CREATE TABLE checkout (
    oid TEXT PRIMARY KEY,
    branch TEXT NOT NULL,
    replica TEXT NOT NULL,
    reserved INTEGER NOT NULL,
    nmaster INTEGER NOT NULL,
    entries TEXT,
    comment TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (branch, replica)
  ) WITHOUT ROWID;

  CREATE TABLE content (
    sha TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    codec INTEGER NOT NULL,
    data BLOB
  ) WITHOUT ROWID;

  CREATE TABLE oplog (
    seq INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data BLOB NOT NULL,
    at INTEGER NOT NULL,
    discarded TEXT,
    UNIQUE (origin, id)
  );

  CREATE TABLE epoch (
    replica TEXT NOT NULL,
    origin TEXT NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (replica, origin)
  ) WITHOUT ROWID;

  CREATE TABLE sync_record (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    replica TEXT NOT NULL,
    at INTEGER NOT NULL,
    row TEXT NOT NULL,
    packet TEXT
  );
  `,
  // 2: replication state: facts other replicas reported, name conflicts met on import, sender
  // incarnations, and the requires row of each export (for recoverpacket).
  `
  CREATE TABLE fact (
    replica TEXT PRIMARY KEY,
    row TEXT NOT NULL,
    at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE conflict (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    oid TEXT NOT NULL,
    original_name TEXT NOT NULL,
    local_name TEXT NOT NULL,
    creator TEXT NOT NULL,
    at INTEGER NOT NULL
  );

  CREATE TABLE incarnation (
    replica TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;

  ALTER TABLE sync_record ADD COLUMN requires TEXT;
  ALTER TABLE replica ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;
  `,
  // 3: the oplog names its origin by a small integer (replica_index) instead of repeating the
  // 36-character OID in every row and in its unique index: a third less oplog on disk.
  `
  CREATE TABLE replica_index (idx INTEGER PRIMARY KEY, oid TEXT NOT NULL UNIQUE);
  INSERT INTO replica_index (oid) SELECT origin FROM oplog GROUP BY origin ORDER BY min(seq);
  CREATE TABLE oplog_v3 (
    seq INTEGER PRIMARY KEY,
    origin INTEGER NOT NULL,
    id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data BLOB NOT NULL,
    at INTEGER NOT NULL,
    discarded TEXT,
    UNIQUE (origin, id)
  );
  INSERT INTO oplog_v3 (seq, origin, id, kind, data, at, discarded)
    SELECT o.seq, r.idx, o.id, o.kind, o.data, o.at, o.discarded FROM oplog o JOIN replica_index r ON r.oid = o.origin;
  DROP TABLE oplog;
  ALTER TABLE oplog_v3 RENAME TO oplog;
  `,
  // 4: the name each type and replica object was given by its master (its desired name), kept
  // beside its local name, so a name freed by a rename or removal can be settled again.
  `
  ALTER TABLE type ADD COLUMN desired TEXT;
  UPDATE type SET desired = coalesce((SELECT c.original_name FROM conflict c WHERE c.oid = type.oid ORDER BY c.seq DESC LIMIT 1), name);
  ALTER TABLE replica ADD COLUMN desired TEXT;
  UPDATE replica SET desired = coalesce((SELECT c.original_name FROM conflict c WHERE c.oid = replica.oid ORDER BY c.seq DESC LIMIT 1), name);
  `,
  // 5: content is keyed by the 32 bytes of its SHA-256 rather than 64 hex digits.
  `
  CREATE TABLE content_v5 (
    sha BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    codec INTEGER NOT NULL,
    data BLOB
  ) WITHOUT ROWID;
  INSERT INTO content_v5 (sha, size, codec, data) SELECT unhex(sha), size, codec, data FROM content;
  DROP TABLE content;
  ALTER TABLE content_v5 RENAME TO content;
  `,
  // 6: the SHA-256 (32 bytes) of the content an op refers to, beside its data, so an export finds
  // the blobs it must carry without decoding every op. Older rows keep NULL and are decoded.
  `
  ALTER TABLE oplog ADD COLUMN content BLOB;
  `,
  // 7: how long each export and import took (milliseconds, monotonic clock), for the site's
  // /metrics histograms: both mostly run in child processes, so the record is where the daemon
  // reads them. Rows written before keep NULL and are left out of the histograms.
  `
  ALTER TABLE sync_record ADD COLUMN duration_ms REAL;
  `,
  // 8: what an imported history says of each version besides its bytes: how it is loaded (null: a
  // plain file; executable; symlink, its content the target) and its author, when not this replica's.
  `
  ALTER TABLE version ADD COLUMN mode TEXT;
  ALTER TABLE version ADD COLUMN author TEXT;
  `,
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings `db` to SCHEMA_VERSION. A fresh database gets every migration; an older one the missing
 * ones; a newer one is refused with a StorageError, untouched.
 */
export function migrate(db: Database, dir: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new StorageError(`cannot open VOB ${dir}: its schema version ${current} is newer than this msite supports (${SCHEMA_VERSION})`, {
      data: { dir, schemaVersion: current, supported: SCHEMA_VERSION },
      hint: 'upgrade msite',
    });
  }
  if (current === SCHEMA_VERSION) return;
  // Take the write lock first and read the version again: another process may have migrated
  // while this one waited.
  db.transaction(() => {
    const now = db.pragma('user_version', { simple: true }) as number;
    for (let v = now; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
