import { closeSync, constants, copyFileSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsyncDir } from '../core/atomicFile.js';
import { writeFailure, writingTo } from '../core/errors.js';

let counter = 0;

/**
 * Copies `src` to `dest` so that `dest` appears whole or not at all, and survives a crash once this
 * returns: copy to a temp file beside it, fsync, rename, fsync the directory. An existing `dest` is
 * replaced.
 *
 * @throws PermissionError or IoError naming `dest`.
 */
export function copyFileDurably(src: string, dest: string): void {
  const tmp = join(dirname(dest), `.${basename(dest)}~msite-tmp~${process.pid}~copy~${++counter}`);
  writingTo('write', dest, () => {
    try {
      copyFileSync(src, tmp, constants.COPYFILE_EXCL);
      const fd = openSync(tmp, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, dest);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    fsyncDir(dirname(dest));
  });
}

/**
 * Moves `src` to `dest` durably: a rename on one file system, else a durable copy and then the
 * removal of `src` (a crash in between leaves both, never neither).
 */
export function moveFileDurably(src: string, dest: string): void {
  try {
    renameSync(src, dest);
    fsyncDir(dirname(dest));
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw writeFailure(err, 'move', dest) ?? err;
  }
  copyFileDurably(src, dest);
  rmSync(src, { force: true });
}
