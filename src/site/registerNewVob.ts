import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Vob } from '../vob/vob.js';
import type { SiteHome } from './siteHome.js';

/** What was at a storage path before this process made a VOB there: what to remove if it fails. */
function occupancy(abs: string): 'absent' | 'empty-dir' | 'occupied' {
  if (!existsSync(abs)) return 'absent';
  return statSync(abs).isDirectory() && readdirSync(abs).length === 0 ? 'empty-dir' : 'occupied';
}

/** Removes what this process created at `abs`: all of it if nothing was there, else the contents of the empty directory it found. */
function removeCreated(abs: string, before: 'absent' | 'empty-dir' | 'occupied'): void {
  if (before === 'absent') rmSync(abs, { recursive: true, force: true });
  else if (before === 'empty-dir' && existsSync(abs)) {
    for (const name of readdirSync(abs)) rmSync(join(abs, name), { recursive: true, force: true });
  }
}

/**
 * Makes a new VOB storage at `dir` with `create` and registers it under `tag`: the tag is claimed
 * first (so a taken tag is refused before any storage exists, and of several processes creating one
 * tag exactly one goes on), then the storage is made, then the tag is marked ready. On any failure
 * the storage this process made and its claim are removed, and the error is rethrown.
 *
 * @returns the open VOB (a promise of it when `create` returns one); the caller closes it.
 * @throws AlreadyExistsError when the tag (or the storage) is taken; whatever `create` throws.
 */
export function registerNewVob<R extends Vob | Promise<Vob>>(home: SiteHome, tag: string, dir: string, create: (dir: string) => R): R {
  const abs = resolve(dir);
  home.claimTag(tag, abs);
  const before = occupancy(abs);
  const fail = (err: unknown, vob?: Vob): never => {
    vob?.close();
    // A storage path that held something was refused by `create` before it wrote anything.
    if (before !== 'occupied') removeCreated(abs, before);
    home.releaseClaim(tag);
    throw err;
  };
  const ready = (vob: Vob): Vob => {
    try {
      home.markReady(tag, vob.dir);
      return vob;
    } catch (err) {
      return fail(err, vob);
    }
  };
  let made: R;
  try {
    made = create(abs);
  } catch (err) {
    return fail(err);
  }
  // A `create` that reads a packet as a stream (mkreplica --import) finishes later.
  if (made instanceof Promise) return made.then(ready, (err: unknown) => fail(err)) as R;
  return ready(made) as R;
}
