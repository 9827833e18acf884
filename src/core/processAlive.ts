/**
 * Whether a process with this id exists on this host. Ids of 0 or less are never alive: `kill(0)`
 * would signal our own process group, and the runner records 0 for a program that never started.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
