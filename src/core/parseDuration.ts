import { InvalidInputError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration: a number with a unit (`ms`, `s`, `m`, `h`, `d`; seconds when none), e.g. `1d`, `90m`, `0`. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new InvalidInputError(`bad ${what} "${text}"`, { hint: 'give a number with s, m, h or d, e.g. 1d or 90m' });
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
}
