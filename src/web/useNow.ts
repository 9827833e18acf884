import { useEffect, useState } from 'preact/hooks';

/** The time now, renewed every `everyMs`, so "5 s ago" keeps counting between snapshots. */
export function useNow(everyMs = 5_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
