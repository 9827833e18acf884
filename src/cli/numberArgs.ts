import { UsageError } from '../core/errors.js';
import { MAX_PACKET_SIZE, parseSize } from '../core/parseSize.js';

/** The range an integer option takes, and words that say what it counts. */
export interface IntegerRange {
  min: number;
  max?: number;
  /** What the number counts, for the error line: "packets" gives "a whole number of packets". */
  of?: string;
  /** The tail of the error line, e.g. what 0 means. */
  hint?: string;
}

/**
 * A commander argument parser for a whole-number option (`--limit`, `--port`, counts, seconds):
 * decimal digits only, within `range`. Anything else is a usage error (exit 2) on one line, raised
 * while the command line is parsed, so nothing has been touched yet.
 */
export function integerArg(flag: string, range: IntegerRange): (value: string) => number {
  const { min, max } = range;
  const wanted =
    `give a whole number${range.of ? ` of ${range.of}` : ''}` + (max === undefined ? `, at least ${min}` : ` from ${min} to ${max}`);
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
      throw new UsageError(`bad ${flag} "${value}": ${wanted}`, range.hint === undefined ? {} : { hint: range.hint });
    }
    return n;
  };
}

/**
 * A commander argument parser for a packet size option (`--maxsize`): bytes, or a number with k, m or
 * g, as MultiSite takes it; more than 0 and at most MultiSite's maximum of 2097151k. Anything else is
 * a usage error on one line.
 */
export function sizeArg(flag: string): (value: string) => number {
  return (value) => {
    const n = parseSize(value);
    if (n === undefined || n <= 0) {
      throw new UsageError(`bad ${flag} "${value}": give a size above 0, in bytes or with k, m or g`, { hint: 'e.g. 500k or 20m' });
    }
    if (n > MAX_PACKET_SIZE) {
      throw new UsageError(`bad ${flag} "${value}": larger than MultiSite's maximum packet size of 2097151k`, {
        hint: 'give 2097151k or less; a bigger export goes out in several fragments',
      });
    }
    return n;
  };
}
