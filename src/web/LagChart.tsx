import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import type { DashboardSibling } from '../site/dashboardTypes.js';

// Only the parts a bar chart uses: the rest of Chart.js stays out of the bundle.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Ops behind per sibling, as horizontal bars; updated in place when a snapshot comes. */
export function LagChart({ siblings, dark }: { siblings: DashboardSibling[]; dark: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar'> | undefined>(undefined);
  // A new theme: a new chart in its colours.
  useEffect(() => {
    if (!canvas.current) return;
    const text = cssVar('--muted');
    const grid = cssVar('--line');
    chart.current = new Chart(canvas.current, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'ops behind', data: [], backgroundColor: [], borderRadius: 4, maxBarThickness: 22 }] },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        // No animation: a snapshot shows the state now, not a way there (and it paints sooner).
        animation: false,
        plugins: { tooltip: { callbacks: { label: (c) => `${String(c.raw)} ops behind` } } },
        scales: {
          x: { beginAtZero: true, suggestedMax: 1, ticks: { color: text, precision: 0 }, grid: { color: grid }, border: { color: grid } },
          y: { ticks: { color: text }, grid: { display: false }, border: { color: grid } },
        },
      },
    });
    return () => chart.current?.destroy();
  }, [dark]);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const ok = cssVar('--ok');
    const warn = cssVar('--warn');
    c.data.labels = siblings.map((s) => s.replica);
    const ds = c.data.datasets[0]!;
    ds.data = siblings.map((s) => s.lagOps);
    ds.backgroundColor = siblings.map((s) => (s.lagOps > 0 ? warn : ok));
    c.update();
  }, [siblings, dark]);
  return (
    <div class="stack">
      <div class="chart" style={{ height: `${Math.max(2, siblings.length) * 34 + 40}px` }}>
        <canvas ref={canvas} aria-label="ops behind per sibling" role="img" />
      </div>
      {siblings.length > 0 && siblings.every((s) => s.lagOps === 0) && (
        <p class="note">Every sibling has every op this replica holds, as far as this replica knows.</p>
      )}
      {siblings.length === 0 && <p class="note">This replica has no siblings.</p>}
    </div>
  );
}
