/**
 * The automated synchronization part of `npm run bench` (`node dist/bench/run.js --only sync [--changes 50]`):
 * three site homes on loopback — boston_hub, sanfran_hub and bangalore, which boston reaches only
 * through a ROUTE via sanfran's host — with `msite serve` running at sanfran and bangalore as child
 * processes and the receipt handler `site init` wrote named in bangalore's shipping.conf. For each
 * change: a checkout and a checkin of one file at boston, then `msite syncreplica --export --fship
 * bangalore`; the latency runs from the checkin's return to the moment bangalore's VOB holds the new
 * version (a read-only SQLite connection polled every 20 ms). Every msite command is a real process.
 *
 * The share of process start-up: one `node bin/msite.js sync_receive --help` (run after each change, median) times the msite
 * processes on the path — the export command and the handler's `sync_receive` at bangalore. The relay
 * starts none: a packet that lands in sanfran's outgoing bay runs no receipt handler (packetReceiver.ts).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import { BIN, serveChild, stopChild } from './serveChild.js';

const MEDIAN_TARGET = 2.0; // seconds, checkin at boston to its import at bangalore, on loopback
const POLL_MS = 20;
/** msite processes between a checkin and its import: the export command, the handler's sync_receive. */
const PROCESSES_ON_PATH = 2;

export interface SyncOptions {
  changes: number;
  tmp: string;
}

export interface SyncFigures {
  changes: number;
  medianSeconds: number;
  p95Seconds: number;
  exportMedianSeconds: number;
  startupSeconds: number;
}

const SITES = ['boston_hub', 'sanfran_hub', 'bangalore'] as const;
type SiteName = (typeof SITES)[number];

const fmtSec = (s: number): string => `${s.toFixed(3)} s`;
const line = (label: string, value: string): void => console.log(`  ${label.padEnd(44)} ${value}`);

/** The q-quantile by the nearest-rank method (q = 0.5: the lower middle for an even count). */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]!;
}

/** One msite command at a site home, as its own process; its stdout. */
function msite(home: string, args: string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env, MSITE_HOME: home };
  delete env.MSITE_VOB;
  return execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Wall time of one `node bin/msite.js sync_receive --help`: what starting an msite process costs here,
 * with the modules of the receipt handler's command (`--version` loads none).
 */
function startupSeconds(): number {
  const t = performance.now();
  execFileSync(process.execPath, [BIN, 'sync_receive', '--help'], { stdio: 'ignore' });
  return (performance.now() - t) / 1000;
}

/** Three sites, one VOB family, sanfran and bangalore serving, bangalore's handler on. */
async function setUp(
  root: string,
): Promise<{ homes: Record<SiteName, string>; daemons: ChildProcess[]; bostonVob: string; bangaloreVob: string }> {
  const homes = Object.fromEntries(SITES.map((s) => [s, join(root, s)])) as Record<SiteName, string>;
  const vob = (s: SiteName): string => join(root, `${s}.vob`);
  msite(homes.boston_hub, ['mkvob', '--tag', '/vobs/dev', '--replica', 'boston_hub', vob('boston_hub')]);
  for (const s of ['sanfran_hub', 'bangalore'] as const) {
    const out = join(root, `${s}-creation`);
    mkdirSync(out);
    const { packets } = JSON.parse(msite(homes.boston_hub, ['mkreplica', '--export', '--out', out, `${s}-host:${s}`, '--json'])) as {
      packets: string[];
    };
    msite(homes[s], ['mkreplica', '-import', '-tag', '/vobs/dev', '-vob', vob(s), packets[0]!]);
  }
  const keys = {} as Record<SiteName, { publicKey: string; recipient: string }>;
  for (const s of SITES) {
    msite(homes[s], ['site', 'init', '--host', `${s}-host`, '--listen', '127.0.0.1']);
    keys[s] = JSON.parse(msite(homes[s], ['site', 'show', '--json'])) as { publicKey: string; recipient: string };
  }
  const handler = join(homes.bangalore, 'bin', 'sync_receive_handler');
  const conf = join(homes.bangalore, 'shipping.conf');
  const text = readFileSync(conf, 'utf8');
  if (!text.includes(`#RECEIPT-HANDLER -default ${handler}\n`)) throw new Error(`${conf} does not name the receipt handler`);
  writeFileSync(conf, text.replace(`#RECEIPT-HANDLER -default ${handler}`, `RECEIPT-HANDLER -default ${handler}`));

  const sf = await serveChild(homes.sanfran_hub);
  const bg = await serveChild(homes.bangalore).catch(async (err: unknown) => {
    await stopChild(sf.child);
    throw err;
  });
  try {
    connect(homes, keys, sf.peerPort!, bg.peerPort!);
  } catch (err) {
    for (const d of [sf.child, bg.child]) await stopChild(d);
    throw err;
  }
  return { homes, daemons: [sf.child, bg.child], bostonVob: vob('boston_hub'), bangaloreVob: vob('bangalore') };
}

/** PEER lines between the three sites, and boston's ROUTE to bangalore via sanfran's host. */
function connect(
  homes: Record<SiteName, string>,
  keys: Record<SiteName, { publicKey: string; recipient: string }>,
  sanfranPort: number,
  bangalorePort: number,
): void {
  const url = (port: number): string => `https://127.0.0.1:${port}`;
  const nowhere = 'https://127.0.0.1:1'; // a peer this site never sends to directly
  // What goes to bangalore through the relay is sealed for it: boston needs its recipient.
  const peer = (at: SiteName, to: SiteName, where: string, recipient = false): void => {
    msite(homes[at], ['site', 'peer', `${to}-host`, where, keys[to].publicKey, ...(recipient ? [keys[to].recipient] : [])]);
  };
  peer('boston_hub', 'sanfran_hub', url(sanfranPort), true);
  peer('boston_hub', 'bangalore', nowhere, true);
  appendFileSync(join(homes.boston_hub, 'shipping.conf'), 'ROUTE sanfran_hub-host bangalore-host\n');
  peer('sanfran_hub', 'boston_hub', nowhere);
  peer('sanfran_hub', 'bangalore', url(bangalorePort));
  peer('bangalore', 'sanfran_hub', nowhere);
}

/**
 * Checkins at boston, each shipped at once to bangalore through the relay and imported there by the
 * receipt handler; prints each figure and returns them for the table.
 */
export async function benchSync(o: SyncOptions): Promise<SyncFigures> {
  console.log(
    `automated synchronization: ${o.changes} checkins at boston_hub, each to bangalore through sanfran_hub (msite serve at both, receipt handler at bangalore)`,
  );
  const root = join(o.tmp, 'sync');
  mkdirSync(root);
  const t = performance.now();
  const { homes, daemons, bostonVob, bangaloreVob } = await setUp(root);
  const readers: BetterSqlite3.Database[] = [];
  try {
    const boston = homes.boston_hub;
    const content = join(root, 'content');
    writeFileSync(content, 'version 0\n');
    msite(boston, ['mkdir', '--auto', 'src']);
    msite(boston, ['mkelem', '--auto', '--from', content, 'src/f']);
    for (const vob of [bostonVob, bangaloreVob]) {
      readers.push(new BetterSqlite3(join(vob, 'vob.db'), { readonly: true, fileMustExist: true }));
    }
    const [atBoston, atBangalore] = readers.map((r) => r.prepare('SELECT count(*) FROM version').pluck());
    const count = (): number => atBangalore!.get() as number;
    /** Seconds from `began` until bangalore holds at least `want` versions. */
    const arrival = async (want: number, began: number): Promise<number> => {
      const deadline = began + 60_000;
      while (count() < want) {
        if (performance.now() > deadline) throw new Error(`bangalore has ${count()} versions, not ${want}, after 60 s`);
        await sleep(POLL_MS);
      }
      return (performance.now() - began) / 1000;
    };
    // The element's creation first, untimed: it also tells sanfran and bangalore of each other.
    msite(boston, ['sync_export_list', '-quiet', '1', '-all', '-fship']);
    await arrival(atBoston!.get() as number, performance.now());
    const setupSeconds = (performance.now() - t) / 1000;
    line('setup: 3 sites, 2 daemons, first sync', `${setupSeconds.toFixed(2)} s (not measured)`);

    const latencies: number[] = [];
    const exports: number[] = [];
    const startups: number[] = [];
    const spans: { beganAt: number; arrivedAt: number }[] = [];
    for (let i = 1; i <= o.changes; i++) {
      writeFileSync(content, `version ${i}\n`);
      msite(boston, ['checkout', 'src/f']);
      msite(boston, ['checkin', '--from', content, 'src/f']);
      const began = performance.now();
      const beganAt = Date.now();
      const want = atBoston!.get() as number;
      msite(boston, ['syncreplica', '--export', '--fship', 'bangalore']);
      exports.push((performance.now() - began) / 1000);
      latencies.push(await arrival(want, began));
      spans.push({ beganAt, arrivedAt: Date.now() });
      // Start-up depends on how busy the machine is: measured once per change, under the same load.
      startups.push(startupSeconds());
    }
    const startup = quantile(startups, 0.5);
    const figures: SyncFigures = {
      changes: o.changes,
      medianSeconds: quantile(latencies, 0.5),
      p95Seconds: quantile(latencies, 0.95),
      exportMedianSeconds: quantile(exports, 0.5),
      startupSeconds: startup,
    };
    line('timed', 'from the checkin returning to the version in bangalore’s VOB (polled every 20 ms)');
    line('latency: median / 95th percentile', `${fmtSec(figures.medianSeconds)} / ${fmtSec(figures.p95Seconds)}`);
    line('latency: min / max', `${fmtSec(Math.min(...latencies))} / ${fmtSec(Math.max(...latencies))}`);
    line(
      '  of which the export command (median)',
      `${fmtSec(figures.exportMedianSeconds)} (syncreplica --export --fship bangalore, whole process)`,
    );
    line('start-up of one msite process (sync_receive --help)', `${fmtSec(startup)} (median of ${startups.length}, one after each change)`);
    // Where the time goes, from the daemons' logs (stopped first, so every line is written).
    for (const d of daemons) await stopChild(d);
    const legs = splitLatency(homes, spans);
    if (legs) {
      line('  checkin to the upload starting at sanfran', `${fmtSec(legs.export)} median: the export command's start-up and export`);
      line('  then to the handler started at bangalore', `${fmtSec(legs.relay)} median: two hops through the relay`);
      line('  then to the version in bangalore’s VOB', `${fmtSec(legs.handler)} median: the handler's start-up and sync_receive`);
    }
    line(
      `start-up on the path: ${PROCESSES_ON_PATH} processes`,
      `${fmtSec(PROCESSES_ON_PATH * startup)}: export + the handler's sync_receive at bangalore (the relay runs none)`,
    );
    return figures;
  } finally {
    for (const r of readers) r.close();
    for (const d of daemons) await stopChild(d);
  }
}

/** Each JSON line of a daemon's log. */
function logLines(home: string): { time: number; msg: string; packet?: string }[] {
  return readFileSync(join(home, 'log', 'msite-serve.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { time: number; msg: string; packet?: string });
}

/**
 * Medians of the three legs of each change's latency, in seconds, by the daemons' log times: until
 * sanfran sees the upload start, until bangalore's daemon starts the handler, until the version is
 * seen. Undefined when a change's packet cannot be found in the logs.
 */
function splitLatency(
  homes: Record<SiteName, string>,
  spans: readonly { beganAt: number; arrivedAt: number }[],
): { export: number; relay: number; handler: number } | undefined {
  const uploads = logLines(homes.sanfran_hub).filter((l) => l.msg === 'packet upload started' && l.packet);
  const handlers = new Map(
    logLines(homes.bangalore)
      .filter((l) => l.msg === 'receipt handler started' && l.packet)
      .map((l) => [l.packet!, l.time]),
  );
  const legs: { export: number; relay: number; handler: number }[] = [];
  for (const span of spans) {
    const upload = uploads.find((u) => u.time >= span.beganAt && u.time <= span.arrivedAt);
    const started = upload && handlers.get(upload.packet!);
    if (!upload || started === undefined) return undefined;
    legs.push({
      export: (upload.time - span.beganAt) / 1000,
      relay: (started - upload.time) / 1000,
      handler: (span.arrivedAt - started) / 1000,
    });
  }
  const median = (leg: 'export' | 'relay' | 'handler'): number =>
    quantile(
      legs.map((l) => l[leg]),
      0.5,
    );
  return { export: median('export'), relay: median('relay'), handler: median('handler') };
}

/** The synchronization table: latency against its target, and the start-up share. */
export function printSyncTable(f: SyncFigures): void {
  console.log(`automated synchronization (${f.changes} checkins, boston_hub to bangalore through the relay, on loopback)`);
  console.log(`    ${''.padEnd(34)} ${'msite'.padStart(10)} ${'target'.padStart(10)}  met`);
  const met = f.medianSeconds < MEDIAN_TARGET;
  console.log(
    `    ${'latency, median'.padEnd(34)} ${fmtSec(f.medianSeconds).padStart(10)} ${`< ${MEDIAN_TARGET} s`.padStart(10)}  ${met ? 'yes' : 'NO'}`,
  );
  console.log(`    ${'latency, 95th percentile'.padEnd(34)} ${fmtSec(f.p95Seconds).padStart(10)} ${''.padStart(10)}`);
  const share = (PROCESSES_ON_PATH * f.startupSeconds) / f.medianSeconds;
  console.log(
    `    ${'process start-up, share of median'.padEnd(34)} ${`${(100 * share).toFixed(0)}%`.padStart(10)} ${''.padStart(10)}  (${PROCESSES_ON_PATH} × ${fmtSec(f.startupSeconds)})`,
  );
}
