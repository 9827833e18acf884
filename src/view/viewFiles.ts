import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fstatSync,
  createReadStream,
  createWriteStream,
  readFileSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { tempFileFor } from '../core/atomicFile.js';
import { writingTo } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import type { Vob } from '../vob/vob.js';

/** Mode of a loaded file that is not checked out: read-only, as ClearCase loads it. */
export const READONLY_MODE = 0o444;
/** Mode of a checked-out file. */
export const WRITABLE_MODE = 0o644;
/** Versions at least this large are copied into the view a chunk at a time, not read whole. */
export const STREAM_FROM_BYTES = 8 * 1024 * 1024;

/** Size and mtime of a file as the view records them, to tell later whether it may have changed. */
export interface FileStamp {
  size: number;
  mtime: number;
}

export function stampOf(st: Stats): FileStamp {
  return { size: st.size, mtime: st.mtimeMs };
}

/** The file's stats without following a final symlink, or undefined when nothing is there. */
export function statOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Puts `bytes` at `path` as a whole: written to a temp file beside it and renamed over, so a reader
 * (or a crash) sees the old file or the new one, never half. Not fsynced: a view is a copy of
 * versions the VOB keeps, and update tells a file a crash lost from one it wrote by its hash.
 */
export function writeViewFile(path: string, bytes: Uint8Array, mode: number): FileStamp {
  return writingTo('write', path, () => {
    const tmp = tempFileFor(path);
    // The mode is asked for at creation and narrowed by the umask, as git's checkout does.
    const fd = openSync(tmp, 'wx', mode);
    let stamp: FileStamp;
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      // The rename keeps the mtime, so the stamp is taken here, without another look-up by path.
      stamp = stampOf(fstatSync(fd));
    } catch (err) {
      closeSync(fd);
      unlinkSync(tmp);
      throw err;
    }
    closeSync(fd);
    renameSync(tmp, path);
    return stamp;
  });
}

/** writeViewFile for a version of any size: its content streamed from the pool into the temp file. */
export async function streamViewFile(vob: Vob, sha: string, path: string, mode: number): Promise<FileStamp> {
  const tmp = tempFileFor(path);
  const out = createWriteStream(tmp, { flags: 'wx', mode });
  try {
    for await (const chunk of vob.pool.chunks(sha)) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    try {
      unlinkSync(tmp);
    } catch {
      // Never created, or already gone.
    }
    throw err;
  }
  return writingTo('write', path, () => {
    chmodSync(tmp, mode);
    renameSync(tmp, path);
    return stampOf(lstatSync(path));
  });
}

/** Copies the version `sha` into the view at `path`, streaming it when large. */
export async function loadVersionFile(vob: Vob, sha: string, path: string, mode: number): Promise<FileStamp> {
  if (vob.pool.sizeOf(sha) >= STREAM_FROM_BYTES) return streamViewFile(vob, sha, path, mode);
  return writeViewFile(path, vob.pool.get(sha), mode);
}

/** The SHA-256 of a file in the view, read whole when small and a chunk at a time when large. */
export async function hashViewFile(path: string, size: number): Promise<string> {
  if (size < STREAM_FROM_BYTES) return sha256Hex(readFileSync(path));
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * What became of a loaded file since update wrote it: `same` (its stamp, or else its hash, is what
 * was written), `changed` (hijacked: different bytes and no checkout), or `missing`. Only a file
 * whose size or mtime moved is read.
 */
export async function fileState(
  path: string,
  recorded: { size: number | null; mtime: number | null; sha: string | null },
): Promise<{ state: 'same' | 'changed' | 'missing'; stamp?: FileStamp; sha?: string }> {
  const st = statOrUndefined(path);
  if (!st || !st.isFile()) return { state: 'missing' };
  const stamp = stampOf(st);
  if (stamp.size === recorded.size && stamp.mtime === recorded.mtime) return { state: 'same', stamp };
  const sha = await hashViewFile(path, st.size);
  return { state: sha === recorded.sha ? 'same' : 'changed', stamp, sha };
}

/** `NAME.keep`, or `NAME.keep.N` for the first N free: never overwrites an earlier keep. */
export function keepName(file: string): string {
  let name = `${file}.keep`;
  for (let n = 1; statOrUndefined(name); n++) name = `${file}.keep.${n}`;
  return name;
}
