import type { DashboardVob } from '../site/dashboardTypes.js';
import { ago, count, local } from './format.js';

/**
 * The epoch matrix at this replica: its actual row, and for each sibling the estimate of what it
 * holds, with the lag in ops (what this replica holds beyond the estimate) and in time.
 */
export function EpochTable({ vob, now }: { vob: DashboardVob; now: number }) {
  const origins = Object.keys(vob.actualRow);
  return (
    <div class="scroll">
      <table class="epoch">
        <thead>
          <tr>
            <th>replica</th>
            <th class="num">ops behind</th>
            {origins.map((o) => (
              <th key={o} class="num" title={`oplog IDs from ${o}`}>
                {o}
              </th>
            ))}
            <th>last import here</th>
            <th>last export to it</th>
          </tr>
        </thead>
        <tbody>
          <tr class="own">
            <td>
              {vob.replica} <span class="tag">actual</span>
            </td>
            <td class="num">—</td>
            {origins.map((o) => (
              <td key={o} class="num">
                {count(vob.actualRow[o] ?? 0)}
              </td>
            ))}
            <td />
            <td />
          </tr>
          {vob.siblings.map((s) => (
            <tr key={s.replica}>
              <td>
                {s.replica}
                <div class="sub">{s.host}</div>
              </td>
              <td class="num">
                <span class={`pill ${s.lagOps > 0 ? 'warn' : 'ok'}`} data-testid={`lag-${s.replica}`}>
                  {count(s.lagOps)}
                </span>
              </td>
              {origins.map((o) => (
                <td key={o} class={`num${(s.row[o] ?? 0) < (vob.actualRow[o] ?? 0) ? ' behind' : ''}`}>
                  {count(s.row[o] ?? 0)}
                </td>
              ))}
              <td title={local(s.lastImportAt)}>{s.lastImportAt ? ago(s.lastImportAt, now) : 'never'}</td>
              <td title={local(s.lastExportAt)}>{s.lastExportAt ? ago(s.lastExportAt, now) : 'never'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
