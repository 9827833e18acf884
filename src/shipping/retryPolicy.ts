/**
 * When a failed delivery is tried again, as data (pg-boss's retryDelay/retryBackoff idea as a table):
 * the n-th failure waits `delaysMs[n-1]`, the last entry repeating. A permanent failure (one an
 * administrator must fix: a missing PEER line, a refused packet) waits `permanentDelayMs`, so the
 * order is tried again by itself once fixed, without hammering the peer meanwhile.
 */
export interface RetryPolicy {
  delaysMs: readonly number[];
  permanentDelayMs: number;
}

const MINUTE = 60_000;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  delaysMs: [1 * MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 4 * 60 * MINUTE],
  permanentDelayMs: 4 * 60 * MINUTE,
};

/** When the destination is next due after its `attempts`-th failed attempt at `now`. */
export function nextTryAt(policy: RetryPolicy, attempts: number, now: number, permanent: boolean): number {
  if (permanent) return now + policy.permanentDelayMs;
  const delays = policy.delaysMs;
  const delay = delays.length === 0 ? 0 : delays[Math.min(Math.max(attempts, 1), delays.length) - 1]!;
  return now + delay;
}
