/**
 * The /metrics part of `npm run bench` (`node dist/bench/run.js --only metrics [--vobs 20]`): a site
 * home with --vobs VOBs, each with two siblings, 5,000 export and import records with their durations
 * and 500 automatic renames; 1,000 packets waiting in its incoming bay; 10,000 delivery attempts and
 * 10,000 job runs in site.db. Then `msite serve` in a child process, and GET /metrics timed over
 * loopback: the first scrape (which reads every record), then 20 more (which read only the records
 * added since: median and worst).
 *
 * The records are written straight into the tables (made by real exports they would take hours); the
 * VOBs, replicas, bays, daemon and scrapes are the real ones.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packetFileName } from '../src/packet/packetFile.js';
import { exportReplica } from '../src/replication/mkreplica.js';
import { createRegisteredVob } from '../src/site/createRegisteredVob.js';
import { SiteHome } from '../src/site/siteHome.js';
import { BIN, serveChild, stopChild } from './serveChild.js';

const MEDIAN_TARGET = 0.5; // seconds per scrape with 20 VOBs: well inside Prometheus' default 10 s timeout
const RECORDS_PER_VOB = 5_000;
const CONFLICTS_PER_VOB = 500;
const WAITING_PACKETS = 1_000;
const ATTEMPTS = 10_000;
const JOB_RUNS = 10_000;
const SCRAPES = 20;

export interface MetricsOptions {
  vobs: number;
  tmp: string;
}

export interface MetricsFigures {
  vobs: number;
  records: number;
  /** The daemon's first scrape reads every record; later ones only those added since. */
  firstSeconds: number;
  medianSeconds: number;
  worstSeconds: number;
  bytes: number;
  series: number;
}

const line = (label: string, value: string): void => console.log(`  ${label.padEnd(44)} ${value}`);

async function fillVob(home: SiteHome, dir: string, tag: string, now: number): Promise<void> {
  const vob = createRegisteredVob(home, dir, { tag, replicaName: 'boston_hub', synchronous: 'normal' });
  try {
    mkdirSync(join(dir, '..', 'creation'), { recursive: true });
    await exportReplica(
      vob,
      [
        { host: 'sanfran-host', name: 'sanfran_hub' },
        { host: 'bangalore-host', name: 'bangalore' },
      ],
      { out: join(dir, '..', 'creation') },
    );
    const siblings = vob.q('SELECT oid FROM replica WHERE oid <> ?').pluck().all(vob.self) as string[];
    const record = vob.q('INSERT INTO sync_record (kind, replica, at, row, requires, packet, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const conflict = vob.q('INSERT INTO conflict (kind, oid, original_name, local_name, creator, at) VALUES (?, ?, ?, ?, ?, ?)');
    vob.transaction(() => {
      for (let i = 0; i < RECORDS_PER_VOB; i++) {
        const at = now - (RECORDS_PER_VOB - i) * 60_000;
        record.run(i % 2 ? 'import' : 'export', siblings[i % siblings.length], at, '{}', '{}', `p${i}`, 5 + (i % 997) * 3.1);
      }
      for (let i = 0; i < CONFLICTS_PER_VOB; i++) conflict.run('lbtype', `oid-${i}`, `L${i}`, `bangalore_L${i}`, siblings[0], now);
    });
  } finally {
    vob.close();
  }
}

/** Builds the site, serves it, and times the scrapes. */
export async function benchMetrics(o: MetricsOptions): Promise<MetricsFigures> {
  const homeDir = join(o.tmp, 'metrics-home');
  const env: NodeJS.ProcessEnv = { ...process.env, MSITE_HOME: homeDir };
  delete env.MSITE_VOB;
  execFileSync(process.execPath, [BIN, 'site', 'init', '--host', 'boston-host', '--listen', '127.0.0.1'], { env, stdio: 'ignore' });
  const home = SiteHome.locate(homeDir, {}, homeDir);
  const now = Date.now();
  const started = performance.now();
  for (let v = 0; v < o.vobs; v++) await fillVob(home, join(o.tmp, `metrics-vob${v}`, 'vob'), `/vobs/v${v}`, now);
  const bay = join(homeDir, 'shipping', 'ms_ship', 'incoming');
  mkdirSync(bay, { recursive: true });
  for (let i = 0; i < WAITING_PACKETS; i++) writeFileSync(join(bay, packetFileName('update', 'sanfran_hub', now, i)), 'x');
  home.withDatabase((site) => {
    const attempt = site.db.prepare(
      `INSERT INTO order_attempt (order_name, destination, attempted_at, outcome, hop, bytes, packet_bytes, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const run = site.db.prepare(
      'INSERT INTO schedule_run (job_id, job_name, process_id, started, ended, exit_status) VALUES (?, ?, ?, ?, ?, ?)',
    );
    site.transaction(() => {
      for (let i = 0; i < ATTEMPTS; i++) {
        const host = i % 2 ? 'sanfran-host' : 'bangalore-host';
        attempt.run(`sh_o_p${i}`, host, now - i * 1000, i % 10 ? 'delivered' : 'failed', host, 2_000_000, 1_999_000, 0.5);
      }
      for (let i = 0; i < JOB_RUNS; i++)
        run.run(1 + (i % 5), `job ${1 + (i % 5)}`, 1000 + i, now - i * 60_000, now - i * 60_000 + 100, i % 7 ? 0 : 1);
    });
  });
  line('site built', `${o.vobs} VOBs, ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const { child } = await serveChild(homeDir);
  try {
    const { port } = JSON.parse(readFileSync(join(homeDir, 'daemon.json'), 'utf8')) as { port: number };
    const scrape = async (): Promise<{ seconds: number; text: string }> => {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text}`);
      return { seconds: (performance.now() - t0) / 1000, text };
    };
    const first = await scrape();
    const times: number[] = [];
    for (let i = 0; i < SCRAPES; i++) times.push((await scrape()).seconds);
    times.sort((a, b) => a - b);
    return {
      vobs: o.vobs,
      records: o.vobs * RECORDS_PER_VOB,
      firstSeconds: first.seconds,
      medianSeconds: times[Math.floor((times.length - 1) / 2)]!,
      worstSeconds: times.at(-1)!,
      bytes: Buffer.byteLength(first.text),
      series: first.text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
    };
  } finally {
    await stopChild(child);
  }
}

export function printMetricsTable(f: MetricsFigures): void {
  console.log(`\nGET /metrics: ${f.vobs} VOBs, ${f.records.toLocaleString('en')} sync records, ${WAITING_PACKETS} packets waiting`);
  line('answer', `${(f.bytes / 1024).toFixed(1)} KiB, ${f.series} samples`);
  line('first scrape (reads every record)', `${f.firstSeconds.toFixed(3)} s`);
  line(
    `scrape, median of ${SCRAPES} (target < ${MEDIAN_TARGET} s)`,
    `${f.medianSeconds.toFixed(3)} s ${f.medianSeconds < MEDIAN_TARGET ? 'ok' : 'MISSED'}`,
  );
  line('scrape, worst', `${f.worstSeconds.toFixed(3)} s`);
}
