import { useState } from 'preact/hooks';
import type { DashboardLog } from '../site/dashboardTypes.js';

/** The last lines of the shipping server's log and of the newest sync script logs, one tab each. */
export function LogTails({ logs }: { logs: DashboardLog[] }) {
  const [chosen, setChosen] = useState(0);
  if (logs.length === 0) return <p class="empty">No logs yet.</p>;
  const log = logs[Math.min(chosen, logs.length - 1)]!;
  return (
    <div class="stack">
      <div class="tabs" role="tablist">
        {logs.map((l, i) => (
          <button key={l.file} role="tab" aria-selected={l === log} class={l === log ? 'tab active' : 'tab'} onClick={() => setChosen(i)}>
            {l.name}
          </button>
        ))}
      </div>
      <div class="log" title={log.file}>
        {log.lines.length === 0 && <div class="sub">empty</div>}
        {log.lines.map((line, i) => (
          <div key={i} class={`log-line ${line.level ?? ''}`}>
            {line.time && <span class="log-time">{line.time.slice(11, 19)}</span>}
            {line.level && <span class="log-level">{line.level}</span>}
            <span class="log-text">{line.text}</span>
          </div>
        ))}
      </div>
    </div>
  );
}
