/**
 * Time is injected so the scheduler, expiry and grace periods can be tested on a fake clock.
 * Everything that stamps or compares times takes a Clock; production code uses `systemClock`.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to; for tests. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** ISO-8601 in UTC with milliseconds: the one time format msite stores and prints in --json. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
