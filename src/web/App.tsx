import { useState } from 'preact/hooks';
import { Card } from './Card.js';
import { EpochTable } from './EpochTable.js';
import { FamilyPicture } from './FamilyPicture.js';
import { ago, count, local } from './format.js';
import { JobTable } from './JobTable.js';
import { LagChart } from './LagChart.js';
import { LogTails } from './LogTails.js';
import { OrderTable } from './OrderTable.js';
import { PacketGroups } from './PacketGroups.js';
import { RenameList } from './RenameList.js';
import { useDashboard } from './useDashboard.js';
import { useNow } from './useNow.js';
import { useTheme } from './useTheme.js';
import { VobList } from './VobList.js';

const THEME_LABEL = { auto: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' } as const;

/** The site dashboard: every VOB's family, lag, bays and renames; the site's orders, jobs and logs. */
export function App() {
  const { snapshot, connection, error } = useDashboard();
  const { theme, dark, next } = useTheme();
  const now = useNow();
  const [chosen, setChosen] = useState<string>();
  const vob = snapshot?.vobs.find((v) => v.tag === chosen) ?? snapshot?.vobs[0];
  return (
    <div class="page">
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true">
            ◆
          </span>
          <div>
            <h1>msite</h1>
            <div class="sub">{snapshot ? `${snapshot.site.host ?? 'site'} · ${snapshot.site.home}` : 'loading…'}</div>
          </div>
        </div>
        <div class="top-aside">
          <span
            class={`live ${connection}`}
            data-testid="connection"
            title={snapshot ? `read ${local(snapshot.generatedAt)} in ${snapshot.readMs} ms` : ''}
          >
            <span class="dot" aria-hidden="true" />
            {connection === 'live' ? `live · ${snapshot ? ago(snapshot.generatedAt, now) : ''}` : connection}
          </span>
          <button class="theme" onClick={next} title="Switch between the system's theme, light and dark" data-testid="theme">
            {THEME_LABEL[theme]}
          </button>
        </div>
      </header>
      {error && <div class="banner bad">{error}</div>}
      {snapshot && snapshot.problems.length > 0 && (
        <div class="banner warn">
          {snapshot.problems.map((p) => (
            <div key={p}>{p}</div>
          ))}
        </div>
      )}
      {snapshot && (
        <main>
          {snapshot.vobs.length === 0 && <p class="empty">No VOB is registered at this site.</p>}
          {snapshot.vobs.length > 1 && <VobList vobs={snapshot.vobs} chosen={vob?.tag} choose={setChosen} />}
          {vob && (
            <div class="grid">
              <Card title={`Family of ${vob.tag}`} aside={<span class="sub">{vob.replicas.length} replicas</span>}>
                {vob.error ? <p class="banner bad">{vob.error}</p> : <FamilyPicture replicas={vob.replicas} routes={snapshot.routes} />}
              </Card>
              <Card title="Ops behind, per sibling">
                <LagChart siblings={vob.siblings} dark={dark} />
              </Card>
              <Card title="Epoch matrix" wide>
                <EpochTable vob={vob} now={now} />
              </Card>
              <Card title="Packets in the bays" aside={<span class="sub">{count(vob.packets.reduce((n, g) => n + g.count, 0))}</span>}>
                <PacketGroups groups={vob.packets} shown={snapshot.limits.packetsPerState} />
              </Card>
              <Card title="Automatic renames">
                <RenameList vob={vob} now={now} />
              </Card>
            </div>
          )}
          <h2 class="section">Site</h2>
          <div class="grid">
            <Card title="Orders in flight" aside={<span class="sub">{count(snapshot.orders.inFlightCount)}</span>}>
              <OrderTable
                orders={snapshot.orders.inFlight}
                total={snapshot.orders.inFlightCount}
                empty="Nothing waiting to be delivered."
                now={now}
              />
            </Card>
            <Card title="Returned orders" aside={<span class="sub">{count(snapshot.orders.returnedCount)}</span>}>
              <OrderTable orders={snapshot.orders.returned} total={snapshot.orders.returnedCount} empty="No order came back." now={now} />
            </Card>
            {snapshot.unmatchedPackets.length > 0 && (
              <Card title="Other packets in the bays">
                <PacketGroups groups={snapshot.unmatchedPackets} shown={snapshot.limits.packetsPerState} />
              </Card>
            )}
            <Card title="Jobs" wide>
              <JobTable jobs={snapshot.jobs} now={now} />
            </Card>
            <Card title="Logs" wide>
              <LogTails logs={snapshot.logs} />
            </Card>
          </div>
        </main>
      )}
    </div>
  );
}
