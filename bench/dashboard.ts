/**
 * The dashboard part of `npm run bench` (`node dist/bench/run.js --only dashboard`): a site home
 * (boston_hub) holding 20 VOBs, each with a sibling replica at a second home (sanfran_hub); every
 * VOB has 500 label types both sites made under the same names, imported at boston (10,000
 * automatic renames in all), and 50 update packets from sanfran waiting in boston's incoming bay
 * (1,000: each needs the one before, so one per VOB is importable and 49 wait). Everything is made
 * through the command line's own code, in this process.
 *
 * Then boston's daemon runs (in this process, on loopback), and the bench times `GET /api/dashboard`
 * (the first answer apart: it reads and checks every packet's header once; then ~50 answers: median
 * and 95th percentile), and the dashboard's first contentful paint in Debian's chromium (Performance
 * API), with the time until the first snapshot is on the page.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { chromium } from 'playwright-core';
import type { Io } from '../src/cli/context.js';
import { main } from '../src/cli/main.js';
import { SiteDaemon } from '../src/site/siteDaemon.js';
import { SiteHome } from '../src/site/siteHome.js';
import type { DashboardSnapshot } from '../src/site/dashboardTypes.js';
import { createLogger } from '../src/core/logger.js';
import { CHROMIUM, CHROMIUM_ARGS } from './headlessChromium.js';

const API_MEDIAN_TARGET = 100; // ms
const FIRST_PAINT_TARGET = 1000; // ms

export interface DashboardBenchOptions {
  tmp: string;
  vobs?: number;
  packetsPerVob?: number;
  conflictsPerVob?: number;
  requests?: number;
}

export interface DashboardFigures {
  vobs: number;
  packets: number;
  conflicts: number;
  setupSeconds: number;
  firstAnswerMs: number;
  medianMs: number;
  p95Ms: number;
  snapshotBytes: number;
  readMs: number;
  firstPaintMs: number | undefined;
  dataShownMs: number | undefined;
}

/** `msite ARGS` at `home`, in this process; throws with its stderr when it fails. */
async function msite(home: string, ...args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const env: NodeJS.ProcessEnv = { ...process.env, MSITE_HOME: home };
  delete env.MSITE_VOB;
  const io: Io = {
    out: (t) => {
      out += typeof t === 'string' ? t : Buffer.from(t).toString('utf8');
    },
    err: (t) => {
      err += t;
    },
    env,
    cwd: process.cwd(),
    stdin: Readable.from([]),
    stdinIsTTY: false,
    stderrIsTTY: false,
  };
  const status = await main(args, io);
  if (status !== 0) throw new Error(`msite ${args.join(' ')} exited ${status}: ${err}`);
  return out;
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export async function benchDashboard(o: DashboardBenchOptions): Promise<DashboardFigures> {
  const vobs = o.vobs ?? 20;
  const packetsPerVob = o.packetsPerVob ?? 50;
  const conflictsPerVob = o.conflictsPerVob ?? 500;
  const requests = o.requests ?? 50;
  const boston = join(o.tmp, 'dash-boston');
  const sanfran = join(o.tmp, 'dash-sanfran');
  const incoming = join(boston, 'shipping', 'ms_ship', 'incoming');
  mkdirSync(incoming, { recursive: true });
  const started = performance.now();
  const names = Array.from({ length: conflictsPerVob }, (_, i) => `REL_${i}`);
  for (let v = 0; v < vobs; v++) {
    const tag = `/vobs/v${String(v).padStart(2, '0')}`;
    const dir = join(o.tmp, `dash-creation-${v}`);
    mkdirSync(dir);
    await msite(boston, 'mkvob', '--tag', tag, '--replica', 'boston_hub', join(o.tmp, `dash-boston-${v}.vob`));
    const made = JSON.parse(
      await msite(boston, 'mkreplica', '--vob', tag, '--json', '--export', '--out', dir, 'sanfran-host:sanfran_hub'),
    ) as {
      packets: string[];
    };
    await msite(sanfran, 'mkreplica', '--import', '--tag', tag, '--vob', join(o.tmp, `dash-sanfran-${v}.vob`), made.packets[0]!);
    // The same names made at both sites: sanfran's, imported at boston, are renamed there.
    await msite(boston, 'mklbtype', '--vob', tag, ...names);
    await msite(sanfran, 'mklbtype', '--vob', tag, ...names);
    const clash = join(o.tmp, `dash-clash-${v}`);
    mkdirSync(clash);
    await msite(sanfran, 'syncreplica', '--vob', tag, '--export', '--out', clash, 'boston_hub');
    await msite(boston, 'syncreplica', '--vob', tag, '--import', clash);
    // A chain of packets straight into boston's bay, none imported: each needs the one before.
    for (let p = 0; p < packetsPerVob; p++) {
      await msite(sanfran, 'mklbtype', '--vob', tag, `WAIT_${p}`);
      await msite(sanfran, 'syncreplica', '--vob', tag, '--export', '--out', incoming, 'boston_hub');
    }
    process.stdout.write(`\r    setting up: ${v + 1} of ${vobs} VOBs`);
  }
  process.stdout.write('\n');
  const setupSeconds = (performance.now() - started) / 1000;

  const daemon = await SiteDaemon.start({
    home: SiteHome.locate(boston, {}, o.tmp),
    port: 0,
    adminPort: 0,
    logger: createLogger({ level: 'info', destination: join(boston, 'log', 'msite-serve.log') }),
  });
  try {
    const url = `${daemon.url}/api/dashboard`;
    const timedGet = async (): Promise<{ ms: number; body: string }> => {
      const t = performance.now();
      const r = await fetch(url);
      const body = await r.text();
      if (!r.ok) throw new Error(`GET /api/dashboard: ${r.status} ${body}`);
      return { ms: performance.now() - t, body };
    };
    const first = await timedGet();
    const snapshot = JSON.parse(first.body) as DashboardSnapshot;
    const packets = snapshot.vobs.reduce((n, v) => n + v.packets.reduce((m, g) => m + g.count, 0), 0);
    const conflicts = snapshot.vobs.reduce((n, v) => n + v.conflictCount, 0);
    const times: number[] = [];
    let last = first;
    for (let i = 0; i < requests; i++) times.push((last = await timedGet()).ms);
    times.sort((a, b) => a - b);
    const lastSnapshot = JSON.parse(last.body) as DashboardSnapshot;

    let firstPaintMs: number | undefined;
    let dataShownMs: number | undefined;
    if (existsSync(CHROMIUM)) {
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [...CHROMIUM_ARGS],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(daemon.url);
        await page.locator('.card').first().waitFor();
        dataShownMs = await page.evaluate<number>('performance.now()');
        firstPaintMs = await page.evaluate<number | undefined>("performance.getEntriesByName('first-contentful-paint')[0]?.startTime");
      } finally {
        await browser.close();
      }
    }
    return {
      vobs: snapshot.vobs.length,
      packets,
      conflicts,
      setupSeconds,
      firstAnswerMs: first.ms,
      medianMs: percentile(times, 0.5),
      p95Ms: percentile(times, 0.95),
      snapshotBytes: Buffer.byteLength(last.body),
      readMs: lastSnapshot.readMs,
      firstPaintMs,
      dataShownMs,
    };
  } finally {
    await daemon.stop();
  }
}

export function printDashboardTable(f: DashboardFigures): void {
  const ms = (n: number | undefined): string => (n === undefined ? 'n/a' : `${n.toFixed(1)} ms`);
  console.log(
    `dashboard (${f.vobs} VOBs, ${f.packets.toLocaleString('en-US')} packets in the bays, ${f.conflicts.toLocaleString('en-US')} renames; set up in ${f.setupSeconds.toFixed(0)} s)`,
  );
  console.log(`    ${''.padEnd(40)} ${'msite'.padStart(10)} ${'target'.padStart(10)}  met`);
  const row = (what: string, value: number | undefined, target?: number): void => {
    const met = target === undefined || value === undefined ? '' : value < target ? 'yes' : 'NO';
    console.log(`    ${what.padEnd(40)} ${ms(value).padStart(10)} ${(target === undefined ? '' : `< ${target} ms`).padStart(10)}  ${met}`);
  };
  row('GET /api/dashboard, median', f.medianMs, API_MEDIAN_TARGET);
  row('GET /api/dashboard, 95th percentile', f.p95Ms);
  row('  of which reading the site (server)', f.readMs);
  row('first answer (every packet header read)', f.firstAnswerMs);
  row('first contentful paint (chromium)', f.firstPaintMs, FIRST_PAINT_TARGET);
  row('first snapshot on the page', f.dataShownMs);
  console.log(`    ${'snapshot size'.padEnd(40)} ${`${(f.snapshotBytes / 1024).toFixed(0)} KiB`.padStart(10)}`);
}
