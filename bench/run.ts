/**
 * `npm run bench`: checkin rate and storage size of msite against `git fast-import` for the same
 * history of small text files (msite's bulk path, importVersions, against git's; an interactive
 * checkout + checkin per version is shown beside it), then replication of that history to a new replica: one update
 * packet against `git bundle create --all`, its import against `git clone --bare` of the bundle.
 * A script, not a test: it prints figures for this machine.
 *
 *   node dist/bench/run.js [--versions 100000] [--files 1000] [--dirs 50] [--durable 2000]
 *                          [--batch 10000] [--seed 1] [--only all|ours|git|load|replication|shipping|sync|metrics|dashboard|bigfiles|views|gitimport] [--git-repo PATH] [--repeat 3] [--keep]
 *                          [--packet-mib 1024] [--chunk-mib N] [--profile DIR] [--changes 50] [--vobs 20] [--big-mib N] [--view-files 10000]
 *
 * --only: `ours` or `git` runs one side (load and replication); `load` skips replication;
 * `replication` loads both sides (no durable run, no table sizes) and compares replication only.
 * `shipping` runs only the shipping part (bench/shipping.ts: one --packet-mib packet site to site against
 * cp and curl; --profile DIR writes CPU profiles of its sender and receiving daemon); `all` ends with it.
 * `sync` runs only the automated synchronization part (bench/sync.ts: --changes N checkins, each from
 * boston to bangalore through a relay, daemons and receipt handler running; median and 95th percentile
 * latency). It is not part of `all`: 50 changes take about three minutes here.
 * `metrics` runs only the /metrics part (bench/metrics.ts: GET /metrics of a site with --vobs VOBs
 * and 5,000 sync records each); not part of `all`.
 * `dashboard` runs only the dashboard part (bench/dashboard.ts: the admin API's answer time and the first
 * paint in chromium, for a site of 20 VOBs with 1,000 packets in its bays and 10,000 renames); part of `all`.
 * `gitimport` runs only the git-history part (bench/gitImport.ts: `--git-repo PATH`, repeatable; without
 * it the part is skipped with a message): gitimport against fast-export | fast-import, then replication.
 * `bigfiles` runs only the big binary files part (bench/bigFiles.ts: --big-mib MiB of content, default the
 * 200 files of 1–20 MiB, about 3 GiB; loaded, exported and imported against git, measured at half and at all
 * of it; --profile DIR writes CPU profiles of its msite processes). Not part of `all`; each step runs once.
 * `views` runs only the snapshot view part (bench/viewUpdate.ts: `msite update` of a fresh view of --view-files
 * files, and with nothing to do, against git checkout into an empty work tree and git status). Not part of `all`.
 * --repeat: each replication step and each shipping transfer (export, import, bundle create, clone) runs this many times, each
 * on a fresh copy of its input, and is compared by its median.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { diskUsage, type DiskUsage } from './diskUsage.js';
import { bundleCreate, cloneFromBundle } from './gitBundle.js';
import { buildFastImportStream, git, gitEnv, runFastImport } from './gitFastImport.js';
import { settleDisk } from './settle.js';
import { benchShipping, printShippingTable } from './shipping.js';
import { benchMetrics, printMetricsTable } from './metrics.js';
import { benchSync, printSyncTable } from './sync.js';
import { benchDashboard, printDashboardTable } from './dashboard.js';
import { benchBigFiles, printBigFilesTable } from './bigFiles.js';
import { benchViews, printViewsTable } from './viewUpdate.js';
import { benchGitImport, printGitImportTable } from './gitImport.js';
import { createRng, generateHistory, type History } from './history.js';
import {
  addElements,
  createBenchVob,
  lastContent,
  LOAD_SYNCHRONOUS,
  loadBulk,
  loadDurable,
  setupVob,
  tableUsage,
  verifyVob,
} from './vobLoad.js';
import {
  createSibling,
  replicaCounts,
  SIBLING_SYNCHRONOUS,
  type ExportFigures,
  type ImportFigures,
  type SiblingSetup,
} from './vobReplication.js';

const RATE_TARGET = 1.0; // ours/git checkins per second: at least as fast as git's bulk loader
const BYTES_TARGET = 2.0; // ours/git apparent bytes: at most twice git's repository
const EXPORT_TARGET = 1.0; // ours/git seconds: writing the packet faster than git bundle create
const IMPORT_TARGET = 1.0; // ours/git seconds: applying it faster than git clone of the bundle
const PACKET_TARGET = 1.2; // ours/git bytes: packet at most 1.2 times the bundle
const REIMPORT_TARGET = 0.01; // re-import / import seconds: a no-op that reads only the header

type Only =
  'all' | 'ours' | 'git' | 'load' | 'replication' | 'shipping' | 'sync' | 'metrics' | 'dashboard' | 'bigfiles' | 'views' | 'gitimport';
const ONLY: readonly Only[] = [
  'all',
  'ours',
  'git',
  'load',
  'replication',
  'shipping',
  'sync',
  'metrics',
  'dashboard',
  'bigfiles',
  'views',
  'gitimport',
];

interface Options {
  versions: number;
  files: number;
  dirs: number;
  durable: number;
  batch: number;
  seed: number;
  only: Only;
  repeat: number;
  keep: boolean;
  packetMib: number;
  profile: string | undefined;
  chunkMib: number | undefined;
  changes: number;
  vobs: number;
  bigMib: number | undefined;
  viewFiles: number;
  gitRepos: string[];
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      versions: { type: 'string', default: '100000' },
      files: { type: 'string', default: '1000' },
      dirs: { type: 'string', default: '50' },
      durable: { type: 'string', default: '2000' },
      batch: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string', default: 'all' },
      repeat: { type: 'string', default: '3' },
      keep: { type: 'boolean', default: false },
      'packet-mib': { type: 'string', default: '1024' },
      profile: { type: 'string' },
      'chunk-mib': { type: 'string' },
      changes: { type: 'string', default: '50' },
      vobs: { type: 'string', default: '20' },
      'big-mib': { type: 'string' },
      'view-files': { type: 'string', default: '10000' },
      'git-repo': { type: 'string', multiple: true },
    },
    strict: true,
  });
  const int = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, not "${text}"`);
    return n;
  };
  const only = ONLY.find((x) => x === values.only);
  if (!only) throw new Error(`--only must be ${ONLY.join(', ')}, not "${values.only}"`);
  const o: Options = {
    versions: int('versions', values.versions, 1),
    files: int('files', values.files, 1),
    dirs: int('dirs', values.dirs, 1),
    durable: int('durable', values.durable, 0),
    batch: int('batch', values.batch, 1),
    seed: int('seed', values.seed, 0),
    only,
    repeat: int('repeat', values.repeat, 1),
    keep: values.keep,
    packetMib: int('packet-mib', values['packet-mib'], 1),
    profile: values.profile,
    chunkMib: values['chunk-mib'] === undefined ? undefined : int('chunk-mib', values['chunk-mib'], 1),
    changes: int('changes', values.changes, 1),
    vobs: int('vobs', values.vobs, 1),
    bigMib: values['big-mib'] === undefined ? undefined : int('big-mib', values['big-mib'], 1),
    viewFiles: int('view-files', values['view-files'], 1),
    gitRepos: values['git-repo'] ?? [],
  };
  if (o.dirs > o.files) throw new Error('--dirs cannot exceed --files');
  o.durable = Math.min(o.durable, o.versions);
  return o;
}

/** Parts that run alone with their own --only: the history is neither generated nor loaded for them. */
const alone = (o: Options): boolean =>
  o.only === 'shipping' ||
  o.only === 'sync' ||
  o.only === 'metrics' ||
  o.only === 'dashboard' ||
  o.only === 'bigfiles' ||
  o.only === 'views' ||
  o.only === 'gitimport';
const runsOurs = (o: Options): boolean => o.only !== 'git' && !alone(o);
const runsGit = (o: Options): boolean => o.only !== 'ours' && !alone(o);
const ships = (o: Options): boolean => o.only === 'all' || o.only === 'shipping';
const dashboards = (o: Options): boolean => o.only === 'all' || o.only === 'dashboard';
/** The load figures in full: the durable run and the table sizes are skipped by `--only replication`. */
const showsLoad = (o: Options): boolean => o.only !== 'replication';
const replicates = (o: Options): boolean => o.only !== 'load';

// ---- formatting ----

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtRate = (n: number): string => (n >= 100 ? fmtInt(n) : n.toFixed(1));
const fmtSec = (s: number): string => `${s.toFixed(2)} s`;
/** Seconds, or milliseconds when under a tenth of a second (the re-import). */
const fmtTime = (s: number): string => (s < 0.1 ? `${(s * 1000).toFixed(1)} ms` : fmtSec(s));
/** Three decimals, or two significant digits for ratios too small for that (the re-import's). */
const fmtRatio = (r: number): string => (r < 0.01 ? r.toPrecision(2) : r.toFixed(3));
function fmtBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
const fmtUsage = (u: DiskUsage): string =>
  `apparent ${fmtBytes(u.apparent)} (${fmtInt(u.apparent)} B), allocated ${fmtBytes(u.allocated)} (${fmtInt(u.allocated)} B), ${u.files} files`;
const line = (label: string, value: string): void => console.log(`  ${label.padEnd(44)} ${value}`);

/** The comparison tables: one row per figure, msite's and git's, ours/git, the target, and whether it is met. */
function tableHeader(): void {
  console.log(`    ${''.padEnd(26)} ${'msite'.padStart(14)} ${'git'.padStart(14)} ${'ours/git'.padStart(9)} ${'target'.padStart(8)}  met`);
}
function row(label: string, a: string, b: string, ratio: number, target: string, met: boolean | undefined): void {
  console.log(
    `    ${label.padEnd(26)} ${a.padStart(14)} ${b.padStart(14)} ${fmtRatio(ratio).padStart(9)} ${target.padStart(8)}  ${met === undefined ? '' : met ? 'yes' : 'NO'}`,
  );
}

/** The run whose `seconds` is the median (the lower middle one for an even count), and every run's time. */
function medianRun<T extends { seconds: number }>(runs: readonly T[]): { run: T; all: string } {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const run = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { run, all: runs.length > 1 ? `median of ${runs.map((r) => r.seconds.toFixed(2)).join(', ')} s` : '' };
}

function timed<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const result = fn();
  return [result, (performance.now() - start) / 1000];
}

/** A few files whose final contents both stores must reproduce exactly. */
function sampleFiles(history: History, seed: number): number[] {
  const rng = createRng(seed ^ 0x5eed);
  const picks = new Set<number>();
  for (let i = 0; i < 5; i++) picks.add(history.steps[Math.floor(rng() * history.steps.length)]!.file);
  return [...picks];
}

interface OursResult {
  durableRate: number | undefined;
  bulkRate: number;
  bytes: DiskUsage;
  /** The bulk-loaded VOB (replica `origin`), kept for the replication part. */
  dir: string;
  /** Its sibling replica, made before the elements; undefined with `--only load`. */
  sibling: SiblingSetup | undefined;
}

async function benchOurs(o: Options, history: History, samples: number[], tmp: string): Promise<OursResult> {
  console.log('msite (library API: (a) checkout + checkin per version, (b) importVersions, one mkversion op per version)');
  let durableRate: number | undefined;
  if (showsLoad(o) && o.durable > 0) {
    const dir = join(tmp, 'vob-durable');
    const [vob, setupSeconds] = timed(() => setupVob(dir, history, 'bench-durable'));
    line(`setup: new VOB + ${history.dirs.length + history.paths.length} mkelem --auto`, `${fmtSec(setupSeconds)} (not measured)`);
    settleDisk();
    const seconds = loadDurable(vob, history, o.durable);
    vob.close();
    durableRate = o.durable / seconds;
    line(
      `(a) durable: 1 txn (fsync) per version`,
      `${fmtRate(durableRate)} checkins/s (${fmtInt(o.durable)} versions in ${fmtSec(seconds)})`,
    );
    rmSync(dir, { recursive: true, force: true });
  }

  const dir = join(tmp, 'vob-bulk');
  const [vob, createSeconds] = timed(() => createBenchVob(dir, 'bench-bulk'));
  // The sibling exists before the elements, so the update packet carries their creation too.
  const sibling = replicates(o) ? await createSibling(vob, join(tmp, 'vob-sibling'), join(tmp, 'packets-creation')) : undefined;
  const [, elementSeconds] = timed(() => addElements(vob, history));
  line(
    `setup: another new VOB + ${history.dirs.length + history.paths.length} mkelem --auto`,
    `${fmtSec(createSeconds + elementSeconds)} (not measured)`,
  );
  if (sibling) {
    line(
      'setup: sibling replica, before the elements',
      `${fmtSec(sibling.seconds)} (mkreplica export + import, creation packet ${fmtBytes(sibling.creationBytes)}, not measured)`,
    );
  }
  settleDisk();
  const bulk = loadBulk(vob, history, o.batch);
  const [, closeSeconds] = timed(() => vob.close());
  const bulkRate = history.steps.length / bulk.seconds;
  line(
    `(b) bulk: importVersions, ${fmtInt(o.batch)} per txn`,
    `${fmtRate(bulkRate)} checkins/s (${fmtInt(history.steps.length)} versions in ${fmtSec(bulk.seconds)})`,
  );
  line(
    '    CPU time of the bulk load (user + sys)',
    `${fmtSec(bulk.cpuSeconds)}, ${fmtInt((bulk.cpuSeconds * 1e6) / history.steps.length)} µs per version`,
  );
  line('close (WAL checkpoint)', `${fmtSec(closeSeconds)} (not measured)`);
  line('rate per tenth of the history', bulk.tenthRates.map((r) => fmtRate(r)).join(' '));
  line('RSS before bulk load / peak during it', `${fmtBytes(bulk.rssBefore)} / ${fmtBytes(bulk.peakRss)} (sampled per txn)`);
  const bytes = diskUsage(dir);
  line('VOB on disk', fmtUsage(bytes));
  line('VOB bytes per version (apparent)', `${fmtInt(bytes.apparent / history.steps.length)} B`);

  // Untimed: where the bytes are, and proof the VOB holds the history.
  if (showsLoad(o)) printTableUsage(dir, history);
  const [, verifySeconds] = timed(() => verifyVob(dir, history, samples));
  line('verified: version count and final contents', `${fmtSec(verifySeconds)} (not measured)`);
  return { durableRate, bulkRate, bytes, dir, sibling };
}

function printTableUsage(dir: string, history: History): void {
  console.log('  VOB database by table/index (dbstat):');
  console.log(
    `    ${'name'.padEnd(28)} ${'type'.padEnd(6)} ${'rows'.padStart(9)} ${'bytes'.padStart(12)} ${'share'.padStart(6)} ${'B/ver'.padStart(6)} ${'fill'.padStart(5)}`,
  );
  const usage = tableUsage(dir);
  const dbBytes = usage.reduce((n, u) => n + u.bytes, 0);
  for (const u of usage) {
    if (u.bytes < dbBytes / 1000) continue; // tables that hold a handful of rows are noise here
    console.log(
      `    ${u.name.padEnd(28)} ${u.type.padEnd(6)} ${(u.rows === undefined ? '' : fmtInt(u.rows)).padStart(9)} ${fmtInt(u.bytes).padStart(12)} ` +
        `${((100 * u.bytes) / dbBytes).toFixed(1).padStart(5)}% ${fmtInt(u.bytes / history.steps.length).padStart(6)} ` +
        `${((100 * (u.bytes - u.unused)) / u.bytes).toFixed(0).padStart(4)}%`,
    );
  }
  console.log('    (B/ver: bytes per history version; fill: share of page bytes holding data)');
}

interface GitResult {
  rate: number;
  bytes: DiskUsage;
  /** The fast-imported repository, kept for the replication part. */
  repo: string;
}

async function benchGit(history: History, samples: number[], tmp: string): Promise<GitResult> {
  console.log(`git fast-import (${execFileSync('git', ['--version'], { encoding: 'utf8' }).trim()})`);
  const [stream, streamSeconds] = timed(() => buildFastImportStream(history));
  line('setup: build fast-import stream', `${fmtSec(streamSeconds)} (${fmtBytes(stream.length)}, not measured)`);
  const repo = join(tmp, 'git');
  const [, initSeconds] = timed(() => {
    git(tmp, ['init', '-q', '-b', 'main', repo]);
  });
  line('setup: git init', `${fmtSec(initSeconds)} (not measured)`);
  settleDisk();
  const { seconds } = await runFastImport(repo, stream);
  const rate = history.steps.length / seconds;
  line('fast-import (whole process)', `${fmtRate(rate)} commits/s (${fmtInt(history.steps.length)} commits in ${fmtSec(seconds)})`);
  const bytes = diskUsage(join(repo, '.git'));
  line('.git on disk', fmtUsage(bytes));
  line('.git bytes per version (apparent)', `${fmtInt(bytes.apparent / history.steps.length)} B`);
  const packs = diskUsage(join(repo, '.git', 'objects', 'pack'));
  line('  of which objects/pack', `apparent ${fmtBytes(packs.apparent)}`);

  const [, verifySeconds] = timed(() => {
    const commits = Number(git(repo, ['rev-list', '--count', 'main']).trim());
    if (commits !== history.steps.length) throw new Error(`git has ${commits} commits, expected ${history.steps.length}`);
    for (const file of samples) {
      const expected = lastContent(history, file);
      const actual = execFileSync('git', ['cat-file', 'blob', `main:${history.paths[file]!}`], { cwd: repo, env: gitEnv() });
      if (expected && !actual.equals(expected)) throw new Error(`git content of ${history.paths[file]!} differs from the history`);
    }
  });
  line('verified: commit count and final contents', `${fmtSec(verifySeconds)} (not measured)`);
  return { rate, bytes, repo };
}

/** Checks a repository (bare or not) holds the history: commits on main and the last bytes of a few files. */
function verifyGitRepo(repo: string, history: History, samples: number[]): void {
  const commits = Number(git(repo, ['rev-list', '--count', 'main']).trim());
  if (commits !== history.steps.length) throw new Error(`${repo} has ${commits} commits, expected ${history.steps.length}`);
  for (const file of samples) {
    const expected = lastContent(history, file);
    const actual = execFileSync('git', ['cat-file', 'blob', `main:${history.paths[file]!}`], { cwd: repo, env: gitEnv() });
    if (expected && !actual.equals(expected)) throw new Error(`content of ${history.paths[file]!} in ${repo} differs from the history`);
  }
}

interface ChildFigures {
  /** From the child's start to the step's call: node start-up and loading msite. */
  startupSeconds: number;
  /** The whole child process, as the parent saw it. */
  processSeconds: number;
}

/** Runs one replication step in a fresh process (bench/replicationChild.ts) and returns its figures. */
function inChild<T>(args: string[]): T & ChildFigures {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'replicationChild.js');
  settleDisk();
  const start = performance.now();
  const out = execFileSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const processSeconds = (performance.now() - start) / 1000;
  return { ...(JSON.parse(out) as T & { startupSeconds: number }), processSeconds };
}

interface OursReplication {
  export: ExportFigures;
  import: ImportFigures;
}

/**
 * Replication of the loaded history: one update packet for the sibling (made before the elements,
 * so the packet carries every element creation and every checkin as ops), imported into the
 * sibling, then imported again.
 */
function benchReplicationOurs(o: Options, history: History, samples: number[], tmp: string, ours: OursResult): OursReplication {
  console.log('msite replication (library API: exportUpdate, importPackets into the new sibling replica)');
  const sibling = ours.sibling;
  if (!sibling) throw new Error('no sibling replica was made before the load');
  line('SQLite synchronous', `origin ${LOAD_SYNCHRONOUS} (bulk load, export), sibling ${SIBLING_SYNCHRONOUS} (import)`);
  line(
    'each step',
    'in a fresh process, timed from the call to its return (node start-up and module loading shown apart), after a sync, as every timed step',
  );
  // An export records itself at the origin (the sibling's estimate rises), so each run exports
  // from a copy of the loaded origin, made untimed; every run writes the same packet.
  const exports: (ExportFigures & ChildFigures)[] = [];
  for (let r = 1; r <= o.repeat; r++) {
    const origin = join(tmp, `origin-run${r}`);
    cpSync(ours.dir, origin, { recursive: true });
    exports.push(inChild<ExportFigures>(['export', origin, join(tmp, `packets-update-run${r}`)]));
    rmSync(origin, { recursive: true, force: true });
  }
  const { run: exp, all: exportRuns } = medianRun(exports);
  line(
    'export: one update packet, whole history',
    `${fmtSec(exp.seconds)} (${fmtInt(exp.opCount)} ops in ${exp.packets.length} packet${exp.packets.length === 1 ? '' : 's'}, ` +
      `${fmtInt(exp.opCount / exp.seconds)} ops/s, CPU ${fmtSec(exp.cpuSeconds)}${exportRuns && `, ${exportRuns}`})`,
  );
  line('  whole process / start-up', `${fmtSec(exp.processSeconds)} / ${fmtSec(exp.startupSeconds)}`);
  line('packet bytes', `${fmtBytes(exp.bytes)} (${fmtInt(exp.bytes)} B), ${fmtInt(exp.bytes / history.steps.length)} B per version`);
  // Each run imports into a copy of the new sibling; the last copy is kept and verified.
  const imports: (ImportFigures & ChildFigures)[] = [];
  const importedDir = join(tmp, 'vob-sibling-imported');
  for (let r = 1; r <= o.repeat; r++) {
    rmSync(importedDir, { recursive: true, force: true });
    cpSync(sibling.dir, importedDir, { recursive: true });
    imports.push(inChild<ImportFigures>(['import', importedDir, ...exp.packets]));
  }
  const { run: imp, all: importRuns } = medianRun(imports);
  line(
    'import: importPackets into the sibling',
    `${fmtSec(imp.seconds)} (${fmtInt(imp.applied)} ops applied, ${fmtInt(imp.applied / imp.seconds)} ops/s, CPU ${fmtSec(imp.cpuSeconds)}${importRuns && `, ${importRuns}`})`,
  );
  line('  whole process, re-import too / start-up', `${fmtSec(imp.processSeconds)} / ${fmtSec(imp.startupSeconds)}`);
  line('maxRSS of the export / import process', `${fmtBytes(exp.maxRssAfter)} / ${fmtBytes(imp.maxRssAfter)}`);
  line('re-import: the same packet again', `${fmtTime(imp.reimportSeconds)} (${imp.reimportResults.join(', ')})`);
  line('close sibling (WAL checkpoint)', `${fmtSec(imp.closeSeconds)} (not measured)`);
  line('sibling on disk', fmtUsage(diskUsage(importedDir)));
  const [counts, verifySeconds] = timed(() => {
    verifyVob(importedDir, history, samples);
    const origin = replicaCounts(ours.dir);
    const copy = replicaCounts(importedDir);
    if (JSON.stringify(copy) !== JSON.stringify(origin))
      throw new Error(`sibling has ${JSON.stringify(copy)}, origin ${JSON.stringify(origin)}`);
    return origin;
  });
  line(
    'verified: sibling = origin, final contents',
    `${fmtInt(counts.versions)} versions, ${fmtInt(counts.elements)} elements, ${fmtInt(counts.oplog)} oplog entries in both; ` +
      `${fmtSec(verifySeconds)} (not measured)`,
  );
  return { export: exp, import: imp };
}

interface GitReplication {
  bundleSeconds: number;
  bundleBytes: number;
  cloneSeconds: number;
}

/** `git bundle create --all` of the fast-imported repository, then clones of that bundle (bare, compared; with checkout, shown). */
function benchReplicationGit(o: Options, history: History, samples: number[], tmp: string, repo: string): GitReplication {
  console.log('git bundle + clone (of the fast-imported repository above; whole processes)');
  const bundle = join(tmp, 'history.bundle');
  const bundles: { seconds: number }[] = [];
  for (let r = 1; r <= o.repeat; r++) {
    rmSync(bundle, { force: true });
    settleDisk();
    bundles.push({ seconds: bundleCreate(repo, bundle) });
  }
  const { run: bundled, all: bundleRuns } = medianRun(bundles);
  const bundleBytes = statSync(bundle).size;
  line('bundle create --all', `${fmtSec(bundled.seconds)}${bundleRuns && ` (${bundleRuns})`}`);
  line('bundle bytes', `${fmtBytes(bundleBytes)} (${fmtInt(bundleBytes)} B), ${fmtInt(bundleBytes / history.steps.length)} B per version`);
  const bare = join(tmp, 'clone-bare');
  const clones: { seconds: number }[] = [];
  for (let r = 1; r <= o.repeat; r++) {
    rmSync(bare, { recursive: true, force: true });
    settleDisk();
    clones.push({ seconds: cloneFromBundle(tmp, bundle, bare, { bare: true }) });
  }
  const { run: cloned, all: cloneRuns } = medianRun(clones);
  line('clone --bare --quiet from the bundle', `${fmtSec(cloned.seconds)}${cloneRuns && ` (${cloneRuns})`}`);
  const work = join(tmp, 'clone-work');
  settleDisk();
  const workSeconds = cloneFromBundle(tmp, bundle, work, { bare: false });
  line('clone --quiet (with checkout), for reference', `${fmtSec(workSeconds)} (not compared)`);
  const [, verifySeconds] = timed(() => {
    verifyGitRepo(bare, history, samples);
    verifyGitRepo(work, history, samples);
  });
  line('verified: both clones, commits and contents', `${fmtInt(history.steps.length)} commits; ${fmtSec(verifySeconds)} (not measured)`);
  return { bundleSeconds: bundled.seconds, bundleBytes, cloneSeconds: cloned.seconds };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const what =
    o.only === 'shipping'
      ? `shipping a ${fmtInt(o.packetMib)} MiB packet`
      : o.only === 'sync'
        ? `${fmtInt(o.changes)} checkins synchronized through a relay`
        : o.only === 'metrics'
          ? `GET /metrics of a site with ${fmtInt(o.vobs)} VOBs`
          : o.only === 'dashboard'
            ? 'the dashboard of a site with 20 VOBs'
            : o.only === 'gitimport'
              ? `git histories: ${o.gitRepos.join(', ') || 'none given'}`
              : o.only === 'bigfiles'
                ? `big binary files, ${o.bigMib === undefined ? '200 files' : `${fmtInt(o.bigMib)} MiB`}, seed ${o.seed}`
                : o.only === 'views'
                  ? `a snapshot view of ${fmtInt(o.viewFiles)} files, seed ${o.seed}`
                  : `${fmtInt(o.versions)} versions of ${fmtInt(o.files)} files in ${o.dirs} directories, seed ${o.seed}`;
  console.log(`msite bench: ${what}; node ${process.version}, ${availableParallelism()} × ${cpu}`);
  // Wall-clock rates depend on what else the machine runs; the load average says how busy it was.
  const load = (): string =>
    loadavg()
      .map((n) => n.toFixed(2))
      .join(' ');
  console.log(`load average at start: ${load()}`);
  const tmp = mkdtempSync(join(tmpdir(), 'msite-bench-'));
  try {
    if (runsOurs(o) || runsGit(o)) await benchHistory(o, tmp);
    if (ships(o)) {
      printShippingTable(
        await benchShipping({ packetMib: o.packetMib, repeat: o.repeat, profileDir: o.profile, chunkMib: o.chunkMib, tmp }),
      );
    }
    if (o.only === 'sync') printSyncTable(await benchSync({ changes: o.changes, tmp }));
    if (o.only === 'metrics') printMetricsTable(await benchMetrics({ vobs: o.vobs, tmp }));
    if (dashboards(o)) printDashboardTable(await benchDashboard({ tmp }));
    if (o.only === 'bigfiles') printBigFilesTable(benchBigFiles({ mib: o.bigMib, seed: o.seed, profileDir: o.profile, tmp }));
    if (o.only === 'views') {
      const bin = join(dirname(fileURLToPath(import.meta.url)), '../../bin/msite.js');
      printViewsTable(await benchViews({ files: o.viewFiles, seed: o.seed, tmp, bin }));
    }
    if (o.only === 'all' || o.only === 'gitimport') {
      if (!o.gitRepos.length) console.log('\ngitimport: skipped (give a git repository with --git-repo PATH)');
      for (const repo of o.gitRepos) printGitImportTable(benchGitImport({ repo, tmp, profileDir: o.profile }));
    }
  } finally {
    if (o.keep) console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`load average at end: ${load()}`);
  // maxRSS is in kilobytes; it covers this process only (not git), over the whole run.
  console.log(`peak RSS of this process (maxRSS, whole run): ${fmtBytes(process.resourceUsage().maxRSS * 1024)}`);
}

/** The load and replication parts: msite against git on a generated history. */
async function benchHistory(o: Options, tmp: string): Promise<void> {
  const [history, genSeconds] = timed(() => generateHistory(o));
  const touched = new Set(history.steps.map((s) => s.file)).size;
  console.log('setup');
  line('generate history', `${fmtSec(genSeconds)} (not measured)`);
  line(
    'content',
    `${fmtBytes(history.contentBytes)}, avg ${fmtInt(history.contentBytes / history.steps.length)} B/version, ${touched} files touched`,
  );
  const samples = sampleFiles(history, o.seed);
  const ours = runsOurs(o) ? await benchOurs(o, history, samples, tmp) : undefined;
  const theirs = runsGit(o) ? await benchGit(history, samples, tmp) : undefined;
  const oursRepl = ours && replicates(o) ? benchReplicationOurs(o, history, samples, tmp, ours) : undefined;
  const gitRepl = theirs && replicates(o) ? benchReplicationGit(o, history, samples, tmp, theirs.repo) : undefined;

  if (ours && theirs && showsLoad(o)) {
    console.log('comparison (bulk vs fast-import)');
    const rateRatio = ours.bulkRate / theirs.rate;
    const bytesRatio = ours.bytes.apparent / theirs.bytes.apparent;
    const allocRatio = ours.bytes.allocated / theirs.bytes.allocated;
    tableHeader();
    row(
      'versions per second',
      fmtRate(ours.bulkRate),
      fmtRate(theirs.rate),
      rateRatio,
      `>= ${RATE_TARGET.toFixed(1)}`,
      rateRatio >= RATE_TARGET,
    );
    row(
      'bytes on disk (apparent)',
      fmtInt(ours.bytes.apparent),
      fmtInt(theirs.bytes.apparent),
      bytesRatio,
      `<= ${BYTES_TARGET.toFixed(1)}`,
      bytesRatio <= BYTES_TARGET,
    );
    row('bytes on disk (allocated)', fmtInt(ours.bytes.allocated), fmtInt(theirs.bytes.allocated), allocRatio, '(info)', undefined);
    if (ours.durableRate !== undefined) {
      row(
        'durable versions/s vs git',
        fmtRate(ours.durableRate),
        fmtRate(theirs.rate),
        ours.durableRate / theirs.rate,
        '(info)',
        undefined,
      );
    }
  }
  if (oursRepl && gitRepl) {
    console.log(
      `comparison (replication to a new replica: export vs bundle create, import vs clone --bare${o.repeat > 1 ? `; medians of ${o.repeat} runs` : ''})`,
    );
    const exp = oursRepl.export;
    const imp = oursRepl.import;
    const exportRatio = exp.seconds / gitRepl.bundleSeconds;
    const importRatio = imp.seconds / gitRepl.cloneSeconds;
    const packetRatio = exp.bytes / gitRepl.bundleBytes;
    const reimportRatio = imp.reimportSeconds / imp.seconds;
    tableHeader();
    row(
      'export time',
      fmtSec(exp.seconds),
      fmtSec(gitRepl.bundleSeconds),
      exportRatio,
      `< ${EXPORT_TARGET.toFixed(1)}`,
      exportRatio < EXPORT_TARGET,
    );
    row(
      'import time',
      fmtSec(imp.seconds),
      fmtSec(gitRepl.cloneSeconds),
      importRatio,
      `< ${IMPORT_TARGET.toFixed(1)}`,
      importRatio < IMPORT_TARGET,
    );
    row(
      'packet vs bundle bytes',
      fmtInt(exp.bytes),
      fmtInt(gitRepl.bundleBytes),
      packetRatio,
      `<= ${PACKET_TARGET.toFixed(1)}`,
      packetRatio <= PACKET_TARGET,
    );
    row(
      're-import vs our import *',
      fmtTime(imp.reimportSeconds),
      fmtTime(imp.seconds),
      reimportRatio,
      `< ${REIMPORT_TARGET}`,
      reimportRatio < REIMPORT_TARGET,
    );
    console.log('    (* both columns are msite: the re-import, then the first import; the ratio is re-import/import)');
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
