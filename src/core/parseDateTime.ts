import { InvalidInputError } from './errors.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Parses a date-time given on the command line: ISO 8601 (`2026-11-22`, `2026-11-22T10:30`), or the
 * ClearCase form `22-Nov-2026[.10:30[:00]]` (two-digit years are 20xx). Local time unless the ISO
 * form carries a zone. Returns milliseconds since the epoch.
 */
export function parseDateTime(text: string, what = 'date-time'): number {
  const cc = /^(\d{1,2})-([A-Za-z]{3})-(\d{2}|\d{4})(?:\.(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  if (cc) {
    const month = MONTHS.indexOf(cc[2]!.toLowerCase());
    const year = cc[3]!.length === 2 ? 2000 + Number(cc[3]) : Number(cc[3]);
    const d = new Date(year, month, Number(cc[1]), Number(cc[4] ?? 0), Number(cc[5] ?? 0), Number(cc[6] ?? 0));
    if (month >= 0 && d.getDate() === Number(cc[1])) return d.getTime();
  } else if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    // A date alone is local midnight, as a user means it (Date.parse would take UTC).
    const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00`) : Date.parse(text.replace(' ', 'T'));
    if (!Number.isNaN(ms)) return ms;
  }
  throw new InvalidInputError(`bad ${what} "${text}"`, { hint: 'use 2026-11-22, 2026-11-22T10:30 or 22-Nov-2026.10:30' });
}
