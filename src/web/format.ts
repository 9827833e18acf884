/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; a future time as "in 5 min". */
export function ago(iso: string | null, now: number): string {
  if (iso === null || iso === '') return '—';
  const ms = now - Date.parse(iso);
  const future = ms < 0;
  const s = Math.abs(ms) / 1000;
  const text =
    s < 5
      ? 'just now'
      : s < 60
        ? `${Math.round(s)} s`
        : s < 3600
          ? `${Math.round(s / 60)} min`
          : s < 86400
            ? `${Math.round(s / 3600)} h`
            : `${Math.round(s / 86400)} d`;
  if (text === 'just now') return text;
  return future ? `in ${text}` : `${text} ago`;
}

/** A local date and time for a title attribute. */
export function local(iso: string | null): string {
  return iso === null || iso === '' ? '' : new Date(iso).toLocaleString();
}

/** 1.2 MiB, 512 B. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** 10,000. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
