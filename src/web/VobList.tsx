import type { DashboardVob } from '../site/dashboardTypes.js';
import { count } from './format.js';

/** Every VOB of the site with what needs attention, as buttons choosing the one shown below. */
export function VobList({ vobs, chosen, choose }: { vobs: DashboardVob[]; chosen: string | undefined; choose: (tag: string) => void }) {
  return (
    <div class="vob-list" role="tablist" aria-label="VOBs">
      {vobs.map((v) => {
        const lag = Math.max(0, ...v.siblings.map((s) => s.lagOps));
        const waiting = v.packets.filter((g) => g.state !== 'importable').reduce((n, g) => n + g.count, 0);
        return (
          <button
            key={v.tag}
            role="tab"
            aria-selected={v.tag === chosen}
            class={`vob${v.tag === chosen ? ' active' : ''}`}
            onClick={() => choose(v.tag)}
          >
            <span class="vob-tag">{v.tag}</span>
            <span class="vob-facts">
              {v.error ? (
                <span class="pill bad">{v.error}</span>
              ) : (
                <>
                  <span class={`pill ${lag > 0 ? 'warn' : 'ok'}`}>{lag > 0 ? `${count(lag)} behind` : 'in sync'}</span>
                  {waiting > 0 && <span class="pill info">{count(waiting)} waiting</span>}
                  {v.openConflicts > 0 && <span class="pill warn">{count(v.openConflicts)} renames</span>}
                </>
              )}
            </span>
          </button>
        );
      })}
    </div>
  );
}
