/**
 * Local calendar dates as the scheduler writes them (`YYYY-MM-DD`), and day arithmetic on them.
 * Day numbers count days since 1970-01-01 in the proleptic Gregorian calendar; they carry no time zone,
 * which is what recurrence needs: "every 2 days" counts calendar days, not 48-hour spans.
 */

const DAY_MS = 86_400_000;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export interface Ymd {
  year: number;
  month: number;
  day: number;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function valid({ year, month, day }: Ymd): boolean {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * Reads `YYYY-MM-DD`, or ClearCase's `DD-Mon-YYYY` (`09-Mar-2024`), and returns the canonical
 * `YYYY-MM-DD`; undefined when the text is no real date (`2024-02-30`).
 */
export function parseLocalDate(text: string): string | undefined {
  let ymd: Ymd | undefined;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (iso) ymd = { year: Number(iso[1]), month: Number(iso[2]), day: Number(iso[3]) };
  const cc = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (cc) {
    const month = MONTHS.indexOf(cc[2]!.toLowerCase()) + 1;
    ymd = { year: Number(cc[3]), month, day: Number(cc[1]) };
  }
  return ymd && valid(ymd) ? formatYmd(ymd) : undefined;
}

export function formatYmd({ year, month, day }: Ymd): string {
  const p = (n: number, w: number): string => String(n).padStart(w, '0');
  return `${p(year, 4)}-${p(month, 2)}-${p(day, 2)}`;
}

/** Parses a canonical date; throws on anything else (model values are validated when parsed). */
export function ymdOf(date: string): Ymd {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new TypeError(`not a YYYY-MM-DD date: ${date}`);
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

export function dayNumberOfYmd({ year, month, day }: Ymd): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.floor(d.getTime() / DAY_MS);
}

export function dayNumber(date: string): number {
  return dayNumberOfYmd(ymdOf(date));
}

export function ymdOfDayNumber(n: number): Ymd {
  const d = new Date(n * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function dateOfDayNumber(n: number): string {
  return formatYmd(ymdOfDayNumber(n));
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOfDayNumber(n: number): number {
  return (((n + 4) % 7) + 7) % 7;
}
