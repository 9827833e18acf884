import type { DashboardVob } from '../site/dashboardTypes.js';
import { ago, count, local } from './format.js';

/**
 * Automatic renames met on import (`lsconflict`), newest first, each with the commands that settle
 * it: the object's master renames it to a name of its own and sends the update (seed 002's remedy).
 */
export function RenameList({ vob, now }: { vob: DashboardVob; now: number }) {
  if (vob.conflictCount === 0) return <p class="empty">No names clashed on import.</p>;
  return (
    <div class="stack">
      <p class="summary">
        <span class={`pill ${vob.openConflicts > 0 ? 'warn' : 'ok'}`}>{count(vob.openConflicts)} open</span> of {count(vob.conflictCount)}{' '}
        renames
        {vob.conflictCount > vob.conflicts.length && <span class="note"> · newest {vob.conflicts.length} shown</span>}
      </p>
      <ul class="renames">
        {vob.conflicts.map((c) => (
          <li key={`${c.oid}-${c.at}`} class={c.resolved ? 'resolved' : ''} data-testid="conflict">
            <div class="rename-head">
              <span class="mono">
                {c.kind}:{c.originalName}
              </span>
              <span class="arrow">→</span>
              <span class="mono strong">{c.localName}</span>
              <span class={`pill ${c.resolved ? 'ok' : 'warn'}`}>{c.resolved ? 'names agree' : 'open'}</span>
            </div>
            <div class="sub">
              created at {c.creator}; renamed here <span title={local(c.at)}>{ago(c.at, now)}</span>; master {c.master} on {c.masterHost}
            </div>
            {c.remedy.length > 0 && (
              <div class="remedy">
                <div class="sub">
                  at {c.master} ({c.masterHost}), so that every replica gives it one name:
                </div>
                <pre data-testid="remedy">{c.remedy.join('\n')}</pre>
              </div>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
