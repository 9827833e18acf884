import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { systemClock, type Clock } from '../core/clock.js';
import { IoError } from '../core/errors.js';
import { processAlive } from './processAlive.js';

/**
 * A lock between processes on one host (the CLI and the daemon), as a file created with O_EXCL.
 * A lock whose holder is dead, or that is older than `staleMs`, is broken: a crashed process must not
 * wedge the scheduler.
 */
export interface FileLockOptions {
  /** How long to wait for the lock before giving up. Default 10 s. */
  timeoutMs?: number;
  /** Age after which a lock is taken to be abandoned even if its process seems alive. Default 60 s. */
  staleMs?: number;
  /** Wall clock for lock ages; the system clock by default (a test's fake clock would age no lock). */
  clock?: Clock;
}

interface LockContent {
  pid: number;
  host: string;
  at: number;
  token: string;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function readLock(file: string): LockContent | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid === 'number' && typeof parsed.at === 'number') {
      return { pid: parsed.pid, at: parsed.at, host: String(parsed.host ?? ''), token: String(parsed.token ?? '') };
    }
  } catch {
    // Unreadable or half-written: judged by the file's age below.
  }
  return undefined;
}

function isStale(file: string, staleMs: number, now: number): boolean {
  const content = readLock(file);
  if (content) {
    if (content.host === os.hostname() && content.pid !== process.pid && !processAlive(content.pid)) return true;
    return now - content.at > staleMs;
  }
  try {
    return now - fs.statSync(file).mtimeMs > staleMs;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` holding the lock file `file`.
 *
 * @throws IoError (transient) when the lock stays held by a live process for `timeoutMs`.
 */
export function withFileLock<T>(file: string, fn: () => T, options: FileLockOptions = {}): T {
  const { timeoutMs = 10_000, staleMs = 60_000, clock = systemClock } = options;
  const token = randomUUID();
  const begin = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      try {
        fs.writeFileSync(fd, JSON.stringify({ pid: process.pid, host: os.hostname(), at: clock.now(), token }));
      } finally {
        fs.closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (isStale(file, staleMs, clock.now())) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (performance.now() - begin >= timeoutMs) {
      const holder = readLock(file);
      throw new IoError(`lock not acquired: ${file} is held by process ${holder?.pid ?? 'unknown'}`, {
        data: { file, holder: holder?.pid },
        hint: 'another msite command or the daemon is changing the schedule; try again',
      });
    }
    sleep(Math.min(5 * 2 ** Math.min(attempt, 4), 50));
  }
  try {
    return fn();
  } finally {
    // Only our own lock is removed: after a stale-lock break another process may hold it now.
    if (readLock(file)?.token === token) fs.rmSync(file, { force: true });
  }
}
