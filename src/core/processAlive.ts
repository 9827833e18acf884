import { readFileSync } from 'node:fs';

/** The kernel's id of this boot, read once: process start times count from the boot. */
let bootId: string | null | undefined;

function currentBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

/**
 * What tells process `pid` apart from a later one given the same id: the boot it runs in and its
 * start time in clock ticks since that boot (`/proc/<pid>/stat`, field 22), as `boot:ticks`.
 * Undefined where there is no /proc (not Linux) or no such process. A record of who holds something
 * (a lock row, the daemon's claim) keeps it beside the pid: after a restart a pid is soon reused,
 * and an unrelated live process must not pass for the holder.
 */
export function processIdentity(pid: number = process.pid): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const boot = currentBootId();
  if (boot === null) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself: the
  // fields after it are counted from the last ')'. Field 3 is the first after it; 22 the 20th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = fields[19];
  return ticks && /^\d+$/.test(ticks) ? `${boot}:${ticks}` : undefined;
}

/**
 * Whether a process with this id exists on this host. Ids of 0 or less are never alive: `kill(0)`
 * would signal our own process group, and the runner records 0 for a program that never started.
 * With `identity` (processIdentity's, recorded when the process took what it holds), a process
 * that has the id but not the identity is another one that reused the id: not alive. Without one,
 * or where identities cannot be read, the id alone decides.
 */
export function processAlive(pid: number, identity?: string | null): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!identity) return true;
  const now = processIdentity(pid);
  // No /proc: the id alone decides. A process gone since the kill above: not alive.
  return now === undefined ? currentBootId() === null : now === identity;
}
