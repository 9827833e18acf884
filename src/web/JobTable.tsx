import type { DashboardJob } from '../site/dashboardTypes.js';
import { ago, local } from './format.js';

/** The scheduler's jobs: state, next run and last completion. */
export function JobTable({ jobs, now }: { jobs: DashboardJob[]; now: number }) {
  if (jobs.length === 0) return <p class="empty">No jobs.</p>;
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th>job</th>
            <th>state</th>
            <th>next run</th>
            <th>last completion</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => {
            const c = j.lastCompletion;
            return (
              <tr key={j.id}>
                <td>
                  {j.name}
                  <div class="sub">
                    #{j.id} · {j.task}
                  </div>
                </td>
                <td>
                  <span class={`pill ${j.running ? 'info' : j.state === 'scheduled' ? 'ok' : 'muted'}`}>{j.state}</span>
                </td>
                <td title={local(j.nextStart)}>{j.nextStart ? ago(j.nextStart, now) : '—'}</td>
                <td title={local(c?.ended ?? null)}>
                  {c?.ended ? ago(c.ended, now) : '—'}
                  {c && c.exitStatus !== null && (
                    <span class={`pill ${c.exitStatus === 0 ? 'ok' : 'bad'}`}>{c.exitStatus === 0 ? 'ok' : `exit ${c.exitStatus}`}</span>
                  )}
                  {c?.messages && <div class="sub">{c.messages}</div>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
