import type { DashboardReplica, DashboardRoute } from '../site/dashboardTypes.js';

const BOX_W = 176;
const BOX_H = 54;
const COL_GAP = 84;
const ROW_GAP = 22;
const PAD = 12;

interface Node {
  host: string;
  replicas: string[];
  self: boolean;
  /** 0: this site; 1: reached directly, or a relay; 2: reached through a relay. */
  level: number;
  /** No PEER line or ROUTE reaches it from here. */
  unreachable: boolean;
  x: number;
  y: number;
}

/**
 * The VOB family as a picture: a box per host with its replicas, this site's on the left, arrows
 * for how this site's packets travel (directly, or through a ROUTE's relay host). Only this site's
 * shipping.conf is known here, so the arrows are the ones leaving this site.
 */
export function FamilyPicture({ replicas, routes }: { replicas: DashboardReplica[]; routes: DashboardRoute[] }) {
  const selfHost = replicas.find((r) => r.self)?.host;
  const nodes = new Map<string, Node>();
  const node = (host: string, level: number): Node => {
    let n = nodes.get(host);
    if (!n) nodes.set(host, (n = { host, replicas: [], self: host === selfHost, level, unreachable: false, x: 0, y: 0 }));
    n.level = Math.min(n.level, level);
    return n;
  };
  if (selfHost !== undefined) node(selfHost, 0);
  const edges: { from: string; to: string }[] = [];
  for (const r of replicas) {
    const n = node(r.host, r.self ? 0 : 1);
    n.replicas.push(r.name);
    if (r.self) continue;
    const route = routes.find((x) => x.to === r.host);
    if (!route) {
      n.unreachable = true;
    } else if (route.via !== null && route.via !== r.host) {
      node(route.via, 1);
      n.level = Math.max(n.level, 2);
      edges.push({ from: route.via, to: r.host });
    }
  }
  for (const r of replicas) {
    if (r.self || selfHost === undefined) continue;
    const route = routes.find((x) => x.to === r.host);
    const first = route?.via ?? (route ? r.host : undefined);
    if (first !== undefined && !edges.some((e) => e.from === selfHost && e.to === first)) edges.push({ from: selfHost, to: first });
  }
  const columns: Node[][] = [[], [], []];
  for (const n of nodes.values()) columns[n.level]!.push(n);
  const rows = Math.max(...columns.map((c) => c.length), 1);
  const height = PAD * 2 + rows * BOX_H + (rows - 1) * ROW_GAP;
  const used = columns.filter((c) => c.length > 0).length;
  const width = PAD * 2 + used * BOX_W + (used - 1) * COL_GAP;
  let col = 0;
  for (const c of columns) {
    if (c.length === 0) continue;
    const top = (height - (c.length * BOX_H + (c.length - 1) * ROW_GAP)) / 2;
    c.sort((a, b) => a.host.localeCompare(b.host)).forEach((n, i) => {
      n.x = PAD + col * (BOX_W + COL_GAP);
      n.y = top + i * (BOX_H + ROW_GAP);
    });
    col++;
  }
  return (
    // On a narrow screen the picture keeps a readable size and scrolls sideways.
    <div class="scroll">
      <svg
        class="family"
        viewBox={`0 0 ${width} ${height}`}
        style={{ minWidth: `${Math.round(width * 0.72)}px` }}
        role="img"
        aria-label="VOB family: hosts, replicas and routes"
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        {edges.map((e) => {
          const a = nodes.get(e.from)!;
          const b = nodes.get(e.to)!;
          return (
            <line
              key={`${e.from}>${e.to}`}
              class="route"
              x1={a.x + BOX_W}
              y1={a.y + BOX_H / 2}
              x2={b.x - 2}
              y2={b.y + BOX_H / 2}
              marker-end="url(#arrow)"
            />
          );
        })}
        {[...nodes.values()].map((n) => (
          <g key={n.host} class={`host${n.self ? ' self' : ''}${n.unreachable ? ' unreachable' : ''}`} data-testid="host">
            <title>{n.unreachable ? `${n.host}: no PEER line or ROUTE reaches it from here` : n.host}</title>
            <rect x={n.x} y={n.y} width={BOX_W} height={BOX_H} rx="8" />
            <text x={n.x + 12} y={n.y + 21} class="host-name">
              {n.host.length > 24 ? `${n.host.slice(0, 23)}…` : n.host}
            </text>
            <text x={n.x + 12} y={n.y + 40} class="replica-names" data-testid="replica">
              {n.replicas.length ? n.replicas.join(', ') : 'relay'}
              {n.self ? ' · here' : ''}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}
