import type { DashboardOrder } from '../site/dashboardTypes.js';
import { ago, bytes, local } from './format.js';

/** Shipping orders: per destination, its state, attempts, last error and next try; the order's expiry. */
export function OrderTable({ orders, total, empty, now }: { orders: DashboardOrder[]; total: number; empty: string; now: number }) {
  if (total === 0) return <p class="empty">{empty}</p>;
  return (
    <div class="stack">
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>packet</th>
              <th>destination</th>
              <th class="num">attempts</th>
              <th>last error</th>
              <th>next try</th>
              <th>expires</th>
            </tr>
          </thead>
          <tbody>
            {orders.flatMap((o) =>
              o.destinations.map((d, i) => (
                <tr key={`${o.bay}/${o.packet}/${d.host}`}>
                  <td class="mono" title={`${o.bay}/${o.packet}`}>
                    {i === 0 ? o.packet : ''}
                    {i === 0 && <div class="sub">{bytes(o.size)}</div>}
                  </td>
                  <td>
                    {d.host}{' '}
                    <span class={`pill ${d.state === 'delivered' ? 'ok' : d.state === 'pending' ? 'info' : 'bad'}`}>{d.state}</span>
                  </td>
                  <td class="num">{d.attempts}</td>
                  <td class="error-text">{d.lastError ?? ''}</td>
                  <td title={local(d.nextTry)}>{d.state === 'pending' ? (d.nextTry ? ago(d.nextTry, now) : 'next pass') : ''}</td>
                  <td title={local(o.expiresAt)}>{i === 0 ? ago(o.expiresAt, now) : ''}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
      {total > orders.length && (
        <p class="note">
          {orders.length} of {total} listed.
        </p>
      )}
    </div>
  );
}
