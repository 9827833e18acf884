/**
 * `npm run bench`: checkin rate and storage size of msite against `git fast-import` for the same
 * history of small text files. A script, not a test: it prints figures for this machine.
 *
 *   node dist/bench/run.js [--versions 100000] [--files 1000] [--dirs 50] [--durable 2000]
 *                          [--batch 1000] [--seed 1] [--only all|ours|git] [--keep]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { diskUsage, type DiskUsage } from './diskUsage.js';
import { buildFastImportStream, git, gitEnv, runFastImport } from './gitFastImport.js';
import { createRng, generateHistory, type History } from './history.js';
import { lastContent, loadBulk, loadDurable, setupVob, tableUsage, verifyVob } from './vobLoad.js';

const RATE_TARGET = 1.0; // ours/git checkins per second: at least as fast as git's bulk loader
const BYTES_TARGET = 2.0; // ours/git apparent bytes: at most twice git's repository

interface Options {
  versions: number;
  files: number;
  dirs: number;
  durable: number;
  batch: number;
  seed: number;
  only: 'all' | 'ours' | 'git';
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      versions: { type: 'string', default: '100000' },
      files: { type: 'string', default: '1000' },
      dirs: { type: 'string', default: '50' },
      durable: { type: 'string', default: '2000' },
      batch: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string', default: 'all' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const int = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, not "${text}"`);
    return n;
  };
  const only = values.only;
  if (only !== 'all' && only !== 'ours' && only !== 'git') throw new Error(`--only must be all, ours or git, not "${only}"`);
  const o: Options = {
    versions: int('versions', values.versions, 1),
    files: int('files', values.files, 1),
    dirs: int('dirs', values.dirs, 1),
    durable: int('durable', values.durable, 0),
    batch: int('batch', values.batch, 1),
    seed: int('seed', values.seed, 0),
    only,
    keep: values.keep,
  };
  if (o.dirs > o.files) throw new Error('--dirs cannot exceed --files');
  o.durable = Math.min(o.durable, o.versions);
  return o;
}

// ---- formatting ----

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtRate = (n: number): string => (n >= 100 ? fmtInt(n) : n.toFixed(1));
const fmtSec = (s: number): string => `${s.toFixed(2)} s`;
function fmtBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
const fmtUsage = (u: DiskUsage): string =>
  `apparent ${fmtBytes(u.apparent)} (${fmtInt(u.apparent)} B), allocated ${fmtBytes(u.allocated)} (${fmtInt(u.allocated)} B), ${u.files} files`;
const line = (label: string, value: string): void => console.log(`  ${label.padEnd(44)} ${value}`);

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
}

function benchOurs(o: Options, history: History, samples: number[], tmp: string): OursResult {
  console.log('msite (library API: checkout + checkin per version)');
  let durableRate: number | undefined;
  if (o.durable > 0) {
    const dir = join(tmp, 'vob-durable');
    const [vob, setupSeconds] = timed(() => setupVob(dir, history, 'bench-durable'));
    line(`setup: new VOB + ${history.dirs.length + history.paths.length} mkelem --auto`, `${fmtSec(setupSeconds)} (not measured)`);
    const seconds = loadDurable(vob, history, o.durable);
    vob.close();
    durableRate = o.durable / seconds;
    line(`(a) durable: 1 txn (fsync) per version`, `${fmtRate(durableRate)} checkins/s (${fmtInt(o.durable)} versions in ${fmtSec(seconds)})`);
    rmSync(dir, { recursive: true, force: true });
  }

  const dir = join(tmp, 'vob-bulk');
  const [vob, setupSeconds] = timed(() => setupVob(dir, history, 'bench-bulk'));
  line(`setup: another new VOB + ${history.dirs.length + history.paths.length} mkelem --auto`, `${fmtSec(setupSeconds)} (not measured)`);
  const bulk = loadBulk(vob, history, o.batch);
  const [, closeSeconds] = timed(() => vob.close());
  const bulkRate = history.steps.length / bulk.seconds;
  line(`(b) bulk: ${fmtInt(o.batch)} versions per txn`, `${fmtRate(bulkRate)} checkins/s (${fmtInt(history.steps.length)} versions in ${fmtSec(bulk.seconds)})`);
  line('    CPU time of the bulk load (user + sys)', `${fmtSec(bulk.cpuSeconds)}, ${fmtInt((bulk.cpuSeconds * 1e6) / history.steps.length)} µs per version`);
  line('close (WAL checkpoint)', `${fmtSec(closeSeconds)} (not measured)`);
  line('rate per tenth of the history', bulk.tenthRates.map((r) => fmtRate(r)).join(' '));
  line('RSS before bulk load / peak during it', `${fmtBytes(bulk.rssBefore)} / ${fmtBytes(bulk.peakRss)} (sampled per txn)`);
  const bytes = diskUsage(dir);
  line('VOB on disk', fmtUsage(bytes));
  line('VOB bytes per version (apparent)', `${fmtInt(bytes.apparent / history.steps.length)} B`);

  // Untimed: where the bytes are, and proof the VOB holds the history.
  console.log('  VOB database by table/index (dbstat):');
  console.log(`    ${'name'.padEnd(28)} ${'type'.padEnd(6)} ${'rows'.padStart(9)} ${'bytes'.padStart(12)} ${'share'.padStart(6)} ${'B/ver'.padStart(6)} ${'fill'.padStart(5)}`);
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
  const [, verifySeconds] = timed(() => verifyVob(dir, history, samples));
  line('verified: version count and final contents', `${fmtSec(verifySeconds)} (not measured)`);
  return { durableRate, bulkRate, bytes };
}

interface GitResult {
  rate: number;
  bytes: DiskUsage;
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
  return { rate, bytes };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `msite bench: ${fmtInt(o.versions)} versions of ${fmtInt(o.files)} files in ${o.dirs} directories, seed ${o.seed}; ` +
      `node ${process.version}, ${availableParallelism()} × ${cpu}`,
  );
  // Wall-clock rates depend on what else the machine runs; the load average says how busy it was.
  const load = (): string => loadavg().map((n) => n.toFixed(2)).join(' ');
  console.log(`load average at start: ${load()}`);
  const [history, genSeconds] = timed(() => generateHistory(o));
  const touched = new Set(history.steps.map((s) => s.file)).size;
  console.log('setup');
  line('generate history', `${fmtSec(genSeconds)} (not measured)`);
  line('content', `${fmtBytes(history.contentBytes)}, avg ${fmtInt(history.contentBytes / history.steps.length)} B/version, ${touched} files touched`);

  const tmp = mkdtempSync(join(tmpdir(), 'msite-bench-'));
  try {
    const samples = sampleFiles(history, o.seed);
    const ours = o.only === 'git' ? undefined : benchOurs(o, history, samples, tmp);
    const theirs = o.only === 'ours' ? undefined : await benchGit(history, samples, tmp);

    if (ours && theirs) {
      console.log('comparison (bulk vs fast-import)');
      const rateRatio = ours.bulkRate / theirs.rate;
      const bytesRatio = ours.bytes.apparent / theirs.bytes.apparent;
      const allocRatio = ours.bytes.allocated / theirs.bytes.allocated;
      console.log(`    ${''.padEnd(26)} ${'msite'.padStart(14)} ${'git'.padStart(14)} ${'ours/git'.padStart(9)} ${'target'.padStart(8)}  met`);
      const row = (label: string, a: string, b: string, ratio: number, target: string, met: boolean | undefined): void =>
        console.log(
          `    ${label.padEnd(26)} ${a.padStart(14)} ${b.padStart(14)} ${ratio.toFixed(3).padStart(9)} ${target.padStart(8)}  ${met === undefined ? '' : met ? 'yes' : 'NO'}`,
        );
      row('versions per second', fmtRate(ours.bulkRate), fmtRate(theirs.rate), rateRatio, `>= ${RATE_TARGET.toFixed(1)}`, rateRatio >= RATE_TARGET);
      row('bytes on disk (apparent)', fmtInt(ours.bytes.apparent), fmtInt(theirs.bytes.apparent), bytesRatio, `<= ${BYTES_TARGET.toFixed(1)}`, bytesRatio <= BYTES_TARGET);
      row('bytes on disk (allocated)', fmtInt(ours.bytes.allocated), fmtInt(theirs.bytes.allocated), allocRatio, '(info)', undefined);
      if (ours.durableRate !== undefined) {
        row('durable versions/s vs git', fmtRate(ours.durableRate), fmtRate(theirs.rate), ours.durableRate / theirs.rate, '(info)', undefined);
      }
    }
  } finally {
    if (o.keep) console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`load average at end: ${load()}`);
  // maxRSS is in kilobytes; it covers this process only (not git), over the whole run.
  console.log(`peak RSS of this process (maxRSS, whole run): ${fmtBytes(process.resourceUsage().maxRSS * 1024)}`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
