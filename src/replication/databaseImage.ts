import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { tempFileFor } from '../core/atomicFile.js';
import { StorageError, writingTo } from '../core/errors.js';
import { DB_FILE, type Vob } from '../vob/vob.js';

/** A consistent copy of a VOB's database file, read in place or from a copy, until `close`. */
export interface DatabaseImage {
  size: number;
  pageSize: number;
  /** `length` bytes at `position`, into `into` when given (else a new buffer); returns them. */
  read(position: number, length: number, into?: Buffer): Buffer;
  /** How it was made: the live file under a read transaction, or a `VACUUM INTO` copy. */
  how: 'in place' | 'copy';
  /** Ends the read transaction, or removes the copy. */
  close(): void;
}

/**
 * The VOB's database as one consistent file image, for a creation packet. Read in place when it can
 * be: in a read transaction, once a checkpoint (from a second connection: SQLite refuses one inside
 * a transaction) has copied every frame of the write-ahead log into the file. Then the file holds
 * exactly the transaction's snapshot, and nothing writes into it until the transaction ends: a
 * checkpoint copies no frame past what an open reader reads (none, for a reader of the file only),
 * and writers only append to the log. Otherwise (another process reads an older snapshot and holds
 * the log's frames back) a `VACUUM INTO` copy beside `tmpDir` is made, as every export did before:
 * on the commander.js VOB (48 MB) that took 136 ms, the read in place nothing.
 *
 * Read in place, the image keeps the file's free pages and the free space in its pages, where a
 * copy leaves them out. What they held was this VOB's: rows its ops wrote (all of which travel in
 * its oplog anyway), and this replica's own records (sync records, facts), which the import
 * deletes.
 *
 * The caller must `close` it; the VOB's connection runs no transaction of its own until then.
 */
export function databaseImage(vob: Vob, tmpDir: string): DatabaseImage {
  const file = join(vob.dir, DB_FILE);
  const db = vob.db;
  db.prepare('BEGIN').run();
  let ended = false;
  const end = (): void => {
    if (!ended && db.inTransaction) db.prepare('COMMIT').run();
    ended = true;
  };
  try {
    // The read transaction starts at its first read.
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    if (logCopied(file)) {
      const size = pages * pageSize;
      const fd = openSync(file, 'r');
      if (statSync(file).size < size) {
        closeSync(fd);
        throw new StorageError(`${file} is shorter than its ${pages} pages`);
      }
      return {
        size,
        pageSize,
        read: (position, length, into) => readExactly(fd, position, length, file, into),
        how: 'in place',
        close() {
          closeSync(fd);
          end();
        },
      };
    }
    end();
  } catch (err) {
    end();
    throw err;
  }
  const copy = tempFileFor(join(tmpDir, DB_FILE));
  try {
    writingTo('write', copy, () => db.prepare('VACUUM INTO ?').run(copy));
    const fd = openSync(copy, 'r');
    const size = statSync(copy).size;
    const pageSize = readExactly(fd, 16, 2, copy).readUInt16BE(0);
    return {
      size,
      pageSize: pageSize === 1 ? 65536 : pageSize,
      read: (position, length, into) => readExactly(fd, position, length, copy, into),
      how: 'copy',
      close() {
        closeSync(fd);
        rmSync(copy, { force: true });
      },
    };
  } catch (err) {
    rmSync(copy, { force: true });
    throw err;
  }
}

/**
 * Whether every frame of the database's write-ahead log is in the database file (a passive
 * checkpoint, which waits for nobody, copied what it could; true without a log, in rollback mode).
 */
function logCopied(file: string): boolean {
  let other: BetterSqlite3.Database | undefined;
  try {
    other = new BetterSqlite3(file, { fileMustExist: true });
    const [row] = other.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    return row !== undefined && row.busy === 0 && row.log === row.checkpointed;
  } catch {
    return false;
  } finally {
    other?.close();
  }
}

function readExactly(fd: number, position: number, length: number, file: string, into?: Buffer): Buffer {
  const buf = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  if (buf.length < length) throw new RangeError(`a buffer of ${into!.length} bytes cannot take ${length}`);
  let at = 0;
  while (at < length) {
    const n = readSync(fd, buf, at, length - at, position + at);
    if (n === 0) throw new StorageError(`${file} ended while it was read into a creation packet`);
    at += n;
  }
  return buf;
}
