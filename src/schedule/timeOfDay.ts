/** Times of day and in-day intervals as the scheduler writes them: `HH:MM:SS`, 24-hour. */

export const SECONDS_PER_DAY = 86_400;

/** Seconds since midnight for a strict `HH:MM:SS` (00:00:00–23:59:59); undefined otherwise. */
export function parseTimeOfDay(text: string): number | undefined {
  const m = /^(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (h > 23 || min > 59 || s > 59) return undefined;
  return h * 3600 + min * 60 + s;
}

export function formatTimeOfDay(seconds: number): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(seconds / 3600))}:${p(Math.floor(seconds / 60) % 60)}:${p(seconds % 60)}`;
}

/** Seconds since midnight of a model value; throws on text that parse would have refused. */
export function secondsOf(time: string): number {
  const s = parseTimeOfDay(time);
  if (s === undefined) throw new TypeError(`not an HH:MM:SS time: ${time}`);
  return s;
}
