import { InvalidInputError } from './errors.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses a size as MultiSite writes it: a number of bytes with an optional k, m or g suffix. */
export function parseSize(text: string, what = 'size'): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * UNITS[m[2]!.toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new InvalidInputError(`bad ${what} "${text}"`, { hint: 'give bytes, or a number with k, m or g, e.g. 500k' });
  return n;
}
