import { useEffect, useState } from 'preact/hooks';
import type { DashboardSnapshot } from '../site/dashboardTypes.js';

export type Connection = 'connecting' | 'live' | 'reconnecting';

/**
 * The site's snapshot, kept current: the first from `GET /api/dashboard`, then each `snapshot` event
 * of `GET /api/events`. EventSource reconnects by itself; `connection` says whether it is live.
 */
export function useDashboard(): { snapshot: DashboardSnapshot | undefined; connection: Connection; error: string | undefined } {
  const [snapshot, setSnapshot] = useState<DashboardSnapshot>();
  const [connection, setConnection] = useState<Connection>('connecting');
  const [error, setError] = useState<string>();
  useEffect(() => {
    let cancelled = false;
    fetch('/api/dashboard')
      .then(async (r) => {
        if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
        const s = (await r.json()) as DashboardSnapshot;
        if (!cancelled) setSnapshot((old) => old ?? s);
      })
      .catch((err: unknown) => !cancelled && setError(`cannot read /api/dashboard: ${String(err)}`));
    const events = new EventSource('/api/events');
    events.addEventListener('open', () => setConnection('live'));
    events.addEventListener('error', () => setConnection('reconnecting'));
    events.addEventListener('problem', (e) => {
      const p = JSON.parse((e as MessageEvent<string>).data) as { error: { message: string } };
      setError(`the site cannot be read: ${p.error.message}`);
    });
    events.addEventListener('snapshot', (e) => {
      setSnapshot(JSON.parse((e as MessageEvent<string>).data) as DashboardSnapshot);
      setConnection('live');
      setError(undefined);
    });
    return () => {
      cancelled = true;
      events.close();
    };
  }, []);
  return { snapshot, connection, error };
}
