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
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { tempFileFor } from '../core/atomicFile.js';
import { writingTo } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import { CHUNK_BYTES, type StagedBlob } from '../vob/contentPool.js';
import type { VersionMode } from '../vob/ops/schemas.js';
import type { Vob } from '../vob/vob.js';

/** Mode of a loaded file that is not checked out: read-only, as ClearCase loads it. */
export const READONLY_MODE = 0o444;
/** Mode of a checked-out file. */
export const WRITABLE_MODE = 0o644;

/**
 * The permission bits a version of `mode` is written with: read-only unless checked out, as
 * ClearCase loads files, with the execute bits of an executable version (0555 loaded, 0755 checked
 * out). Asked for at creation, so the umask narrows them as it does for git's checkout.
 */
export function fileModeFor(mode: VersionMode, writable: boolean): number {
  const base = writable ? WRITABLE_MODE : READONLY_MODE;
  return mode === 'executable' ? base | 0o111 : base;
}

/**
 * The version mode of what is at a path, from its lstat: `symlink` for a symbolic link (its target is
 * the content), `executable` for a file with any execute bit, as git and clearfsimport take it.
 */
export function versionModeOf(st: Stats): VersionMode {
  if (st.isSymbolicLink()) return 'symlink';
  return (st.mode & 0o111) !== 0 ? 'executable' : null;
}

/** A symbolic link's target as bytes, the way a version holds it (not decoded, never followed). */
export function readLinkBytes(path: string): Buffer {
  return readlinkSync(path, { encoding: 'buffer' });
}
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
    // The rename keeps the mtime, so the stamp is taken before it, without another look-up by path.
    const stamp = writeAndStamp(fd, tmp, bytes);
    renameSync(tmp, path);
    return stamp;
  });
}

/**
 * Writes all of `bytes` to `fd`, just created at `path` by the caller, and closes it; its stamp. A
 * failed write removes the file: one cut short is not left behind.
 */
function writeAndStamp(fd: number, path: string, bytes: Uint8Array): FileStamp {
  let stamp: FileStamp;
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    stamp = stampOf(fstatSync(fd));
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    throw err;
  }
  closeSync(fd);
  return stamp;
}

/**
 * Creates `path` holding `bytes` where nothing is yet (nearly every file of a fresh view): one open,
 * write, fstat and close, with the mode asked for at creation, no temp name and no rename (measured
 * on 10,000 small files: the rename and the temp name were a tenth of an update). Undefined,
 * writing nothing, when something is at `path` after all: the caller leaves it as anything in the way.
 * Not atomic and not fsynced: a crash can leave the file short, which updateView's mark of the files
 * it is writing lets the next update tell from a view-private file (see `WRITING_KEY` there).
 */
export function writeNewViewFile(path: string, bytes: Uint8Array, mode: number): FileStamp | undefined {
  return writingTo('write', path, () => {
    let fd: number;
    try {
      fd = openSync(path, 'wx', mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    }
    return writeAndStamp(fd, path, bytes);
  });
}

/** writeNewViewFile for a symbolic link: made at `path` directly; undefined when something is there. */
export function writeNewViewSymlink(path: string, target: Uint8Array): FileStamp | undefined {
  return writingTo('write', path, () => {
    try {
      symlinkSync(Buffer.from(target.buffer, target.byteOffset, target.byteLength), path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    }
    return stampOf(lstatSync(path));
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

/**
 * Puts a symbolic link to `target` at `path` as writeViewFile puts a file: made under a temp name
 * and renamed over whatever was there (a file, or an older link), so the name never goes missing.
 * The target is written as it is, wherever it points: the view never follows it.
 */
export function writeViewSymlink(path: string, target: Uint8Array): FileStamp {
  return writingTo('write', path, () => {
    const tmp = tempFileFor(path);
    symlinkSync(Buffer.from(target.buffer, target.byteOffset, target.byteLength), tmp);
    try {
      const stamp = stampOf(lstatSync(tmp));
      renameSync(tmp, path);
      return stamp;
    } catch (err) {
      unlinkSync(tmp);
      throw err;
    }
  });
}

/**
 * Copies a version into the view at `path` as its mode says: a symbolic link, or a file (streamed
 * when large) with the permission bits fileModeFor gives, writable when checked out.
 */
export async function loadVersionFile(
  vob: Vob,
  version: { content: string | null; mode: VersionMode },
  path: string,
  writable: boolean,
): Promise<FileStamp> {
  const sha = version.content!;
  if (version.mode === 'symlink') return writeViewSymlink(path, vob.pool.get(sha));
  const mode = fileModeFor(version.mode, writable);
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

/** What is at `path` as a version holds it: a symbolic link's target (not followed), else the file's bytes. */
export function readViewContent(path: string): Buffer {
  return lstatSync(path).isSymbolicLink() ? readLinkBytes(path) : readFileSync(path);
}

/** The SHA-256 of what is at `path` as a version holds it: a symbolic link's target, else the file's bytes. */
export async function hashViewEntry(path: string, st: Stats): Promise<string> {
  return st.isSymbolicLink() ? sha256Hex(readLinkBytes(path)) : hashViewFile(path, st.size);
}

/** Whether what `st` describes is the kind of thing a version of `mode` is loaded as: a link for a symlink, else a file. */
export function isLoadedKind(st: Stats, mode: VersionMode | undefined): boolean {
  return mode === 'symlink' ? st.isSymbolicLink() : st.isFile();
}

/**
 * What became of a loaded file since update wrote it: `same` (its stamp, or else its hash, is what
 * was written), `changed` (hijacked: different bytes and no checkout), or `missing`. Only a file
 * whose size or mtime moved is read. A loaded symbolic link is judged by its target, never followed;
 * a file where a link was loaded, or a link where a file was, is changed. Permission bits are not
 * content: a file chmod-ed by hand is the same file.
 */
export async function fileState(
  path: string,
  recorded: { size: number | null; mtime: number | null; sha: string | null; mode?: VersionMode },
): Promise<{ state: 'same' | 'changed' | 'missing'; stamp?: FileStamp; sha?: string }> {
  const st = statOrUndefined(path);
  if (!st || !(st.isFile() || st.isSymbolicLink())) return { state: 'missing' };
  if (!isLoadedKind(st, recorded.mode)) return { state: 'changed' };
  const stamp = stampOf(st);
  if (stamp.size === recorded.size && stamp.mtime === recorded.mtime) return { state: 'same', stamp };
  const sha = await hashViewEntry(path, st);
  return { state: sha === recorded.sha ? 'same' : 'changed', stamp, sha };
}

/**
 * Stages what is at `path` (lstat `st`) in the VOB's pool as a version holds it, with the mode it is
 * checked in with: a symbolic link's target (the link not followed), else the file's bytes, read a
 * chunk at a time. The caller commits the blob in its transaction, or discards it.
 */
export async function stageViewFile(vob: Vob, path: string, st: Stats): Promise<{ staged: StagedBlob; mode: VersionMode }> {
  const chunks = st.isSymbolicLink()
    ? (async function* () {
        yield readLinkBytes(path);
      })()
    : (async function* () {
        for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) yield chunk as Buffer;
      })();
  return { staged: await vob.pool.stage(chunks), mode: versionModeOf(st) };
}

/** `NAME.keep`, or `NAME.keep.N` for the first N free: never overwrites an earlier keep. */
export function keepName(file: string): string {
  let name = `${file}.keep`;
  for (let n = 1; statOrUndefined(name); n++) name = `${file}.keep.${n}`;
  return name;
}
