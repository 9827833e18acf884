import { InvalidInputError } from '../core/errors.js';
import { dayNumberOfYmd, type Ymd } from './localDate.js';

/**
 * Local wall-clock time in a named IANA time zone, through Intl, so a caller (or a test) can ask about
 * any zone without touching process.env.TZ. The default is the host's zone, which Node derives from TZ.
 */

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The host's IANA zone (honours the TZ environment variable, also when a test changes it). */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (cause) {
      throw new InvalidInputError(`time zone not usable: "${tz}" is no IANA time zone name`, { cause });
    }
    formatters.set(tz, f);
  }
  return f;
}

export interface WallClock extends Ymd {
  hour: number;
  minute: number;
  second: number;
}

export function wallClockOf(ms: number, tz: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(ms)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts['year'] ?? 1970,
    month: parts['month'] ?? 1,
    day: parts['day'] ?? 1,
    hour: parts['hour'] ?? 0,
    minute: parts['minute'] ?? 0,
    second: parts['second'] ?? 0,
  };
}

/** The local calendar day (days since 1970-01-01) that contains the instant. */
export function localDayNumber(ms: number, tz: string): number {
  return dayNumberOfYmd(wallClockOf(ms, tz));
}

/** Wall-clock time read as if it were UTC, in ms; minus the instant, it is the zone's offset. */
function wallAsUtc(ms: number, tz: string): number {
  const w = wallClockOf(ms, tz);
  return dayNumberOfYmd(w) * DAY_MS + ((w.hour * 60 + w.minute) * 60 + w.second) * 1000;
}

function offsetAt(ms: number, tz: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallAsUtc(whole, tz) - whole;
}

/**
 * The instant at which the local clock in `tz` shows `secondsOfDay` on local day `dayNumber`.
 *
 * - A time that happens twice (the repeated hour when clocks fall back) resolves to its first
 *   occurrence, so a once-a-day start never runs twice on that day.
 * - A time that never happens (the skipped hour when clocks spring forward) resolves to the first
 *   instant after the gap, which reads 03:00 for the US and EU rules: a 02:30 job still runs that day.
 */
export function instantOfLocal(dayNumber: number, secondsOfDay: number, tz: string): number {
  const wall = dayNumber * DAY_MS + secondsOfDay * 1000;
  // At most one offset change lies within a day of any instant, so these two offsets cover both sides.
  const before = offsetAt(wall - DAY_MS, tz);
  const after = offsetAt(wall + DAY_MS, tz);
  const candidates = [...new Set([wall - before, wall - after])].filter((t) => t + offsetAt(t, tz) === wall).sort((a, b) => a - b);
  if (candidates[0] !== undefined) return candidates[0];
  // A gap: find the transition between the two readings, to the second.
  let lo = Math.floor(Math.min(wall - before, wall - after) / 1000);
  let hi = Math.ceil(Math.max(wall - before, wall - after) / 1000);
  const hiOffset = offsetAt(hi * 1000, tz);
  if (offsetAt(lo * 1000, tz) === hiOffset) return wall - before;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid * 1000, tz) === hiOffset) hi = mid;
    else lo = mid;
  }
  return hi * 1000;
}
