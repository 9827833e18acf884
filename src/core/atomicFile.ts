import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writingTo } from './errors.js';
import { processAlive } from './processAlive.js';

let counter = 0;
/** Read once: os.hostname() is a system call, and a view's update names a temp file for each file it writes. */
const HOST = hostname();

/**
 * Temp files are named `.<file>~msite-tmp~<pid>~<host>~<n>`: recognisably ours, and saying which
 * process on which host writes them, so a later writer can tell one left by a killed process from
 * one still being written.
 */
const TEMP_NAME = /^\..*~msite-tmp~(\d+)~([^~/]*)~\d+$/;
/** A temp file older than this is left over whoever wrote it: no msite write lasts a day. */
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * A temp file's path beside `path`, named so `removeStaleTempFiles` removes it once its writer is
 * gone: for writers that fill a file in steps of their own before renaming it into place.
 */
export function tempFileFor(path: string): string {
  return join(dirname(path), `.${basename(path)}~msite-tmp~${process.pid}~${HOST}~${++counter}`);
}

/**
 * Writes `data` to `path` so that no reader ever sees half a file and a crash leaves either the old
 * file or the new one: write a temp file beside it, fsync, rename over, fsync the directory.
 *
 * @throws PermissionError naming `path` when it may not be written; IoError naming it for other system failures.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { mode?: number } = {}): void {
  writingTo('write', path, () => writeAtomically(path, data, options));
}

function writeAtomically(path: string, data: string | Uint8Array, options: { mode?: number }): void {
  const dir = dirname(path);
  const tmp = tempFileFor(path);
  const fd = openSync(tmp, 'wx', options.mode ?? 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dir);
}

/** Makes a rename or create in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes temp files `writeFileAtomic` left in `dir` when its process was killed: those written on
 * this host by a process that no longer runs, and any older than a day. Others' files, and ours still
 * being written, are left alone. Returns the names removed.
 */
export function removeStaleTempFiles(dir: string, now: number = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const host = hostname();
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const file = join(dir, name);
    try {
      const st = lstatSync(file);
      // Update writes a symlink under a temp name too, then renames it into place.
      if (!st.isFile() && !st.isSymbolicLink()) continue;
      const orphaned = m[2] === host && !processAlive(Number(m[1]));
      if (!orphaned && now - st.mtimeMs < STALE_AFTER_MS) continue;
      rmSync(file, { force: true });
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: either way nothing to clean.
    }
  }
  return removed;
}
