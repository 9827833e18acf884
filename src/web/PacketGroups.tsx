import type { DashboardPacketGroup } from '../site/dashboardTypes.js';
import { bytes, count } from './format.js';

const STATE_CLASS: Record<string, string> = {
  importable: 'ok',
  deferred: 'warn',
  refused: 'bad',
  sealed: 'info',
  'already-applied': 'muted',
  'not-applicable': 'muted',
};

/** Packets waiting in the incoming bays, by state, each with why it is not importable (what it lacks). */
export function PacketGroups({ groups, shown }: { groups: DashboardPacketGroup[]; shown: number }) {
  if (groups.length === 0) return <p class="empty">No packets in the bays.</p>;
  return (
    <div class="stack">
      <div class="chips">
        {groups.map((g) => (
          <span key={g.state} class={`pill ${STATE_CLASS[g.state] ?? 'muted'}`} data-testid={`packets-${g.state}`}>
            {count(g.count)} {g.state}
          </span>
        ))}
      </div>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>packet</th>
              <th>from</th>
              <th class="num">size</th>
              <th>state</th>
            </tr>
          </thead>
          <tbody>
            {groups.flatMap((g) =>
              g.packets.map((p) => (
                <tr key={`${p.bay}/${p.name}`}>
                  <td class="mono" title={`${p.bay}/${p.name}`}>
                    {p.name}
                  </td>
                  <td>{p.origin ?? '—'}</td>
                  <td class="num">{bytes(p.size)}</td>
                  <td>
                    <span class={`pill ${STATE_CLASS[g.state] ?? 'muted'}`}>{g.state}</span>
                    {p.reason && <div class="sub">{p.reason}</div>}
                  </td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
      {groups.some((g) => g.count > g.packets.length) && (
        <p class="note">The first {shown} of each state are listed; the counts above are complete.</p>
      )}
    </div>
  );
}
