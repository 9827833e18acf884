/**
 * The big-files part of `npm run bench` (`node dist/bench/run.js --only bigfiles [--big-mib N]`):
 * a history of binary files (bigFilesHistory.ts: 1–20 MiB each, half random, half text-like, a tenth
 * rebuilt five more times), loaded into a VOB through msite's commands (mkelem --from, checkout +
 * checkin --from, one version at a time) and into git (`git add` + `git commit` per version); then
 * replicated to a new replica: `msite syncreplica --export` of one update packet against `git bundle
 * create --all`, `msite syncreplica --import` of it against `git clone --bare` of the bundle.
 *
 * It measures twice in one run, at half the history and at the whole of it (the second load goes on
 * from the first, into a second new replica made at the start), so the peak RSS of export and import
 * can be seen to stay flat, or not, as the packet doubles.
 *
 * Every msite step is a process of its own (bin/msite.js; the load runs its commands in one process,
 * bigFilesLoader.ts), every git step a git command; each is timed from spawn to exit after a settle
 * (settle.ts), and its peak RSS is what /usr/bin/time reports (%M: the largest process of its tree,
 * so git's pack-objects and index-pack count for git).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BigContentWriter, fileDigest, planBigHistory, versionFile, type BigHistory, type BigStep } from './bigFilesHistory.js';
import { gitEnv } from './gitFastImport.js';
import { measured, type Measured } from './measuredRun.js';
import { settleDisk } from './settle.js';
import { replicaCounts } from './vobReplication.js';

const MIB = 1024 * 1024;
const RSS_LIMIT = 256 * MIB; // peak RSS of export and import, whatever the packet's size
const EXPORT_TARGET = 0.5; // export seconds / bundle create seconds
const IMPORT_TARGET = 1.0; // import seconds / clone --bare seconds
const PACKET_TARGET = 1.0; // packet bytes / bundle bytes

export interface BigFilesOptions {
  /** Total MiB of content (every version); undefined: the 200 files, about 3 GiB. */
  mib: number | undefined;
  seed: number;
  /** Directory for `--cpu-prof` profiles of the msite processes (load, export, import of each stage). */
  profileDir: string | undefined;
  tmp: string;
}

export interface StageFigures {
  contentBytes: number;
  versions: number;
  files: number;
  loadOurs: Measured;
  loadGit: Measured;
  exportOurs: Measured;
  packetBytes: number;
  bundle: Measured;
  bundleBytes: number;
  importOurs: Measured;
  clone: Measured;
}

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', '..', 'bin', 'msite.js');
const LOADER = join(here, 'bigFilesLoader.js');
const TAG = '/vobs/big';

const fmtSec = (s: number): string => `${s.toFixed(2)} s`;
const fmtMib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;
const line = (label: string, value: string): void => console.log(`  ${label.padEnd(44)} ${value}`);

const add = (a: Measured, b: Measured): Measured => ({
  seconds: a.seconds + b.seconds,
  cpuSeconds: a.cpuSeconds + b.cpuSeconds,
  peakRss: Math.max(a.peakRss, b.peakRss),
});
const ZERO: Measured = { seconds: 0, cpuSeconds: 0, peakRss: 0 };

/** `node [profile flags] bin/msite.js ARGS`, untimed set-up: throws unless it succeeds; returns stdout. */
function msite(args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 64 * MIB, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`msite ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Measured {
  return measured('git', args, { cwd, env: { ...gitEnv(), ...env } });
}

/** Base of the commit dates: fixed, so the commits, and so the bundle's bytes, are the same every run. */
const EPOCH = 1_700_000_000;

const dirBytes = (dir: string): number => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

interface Layout {
  root: string;
  content: string;
  originHome: string;
  originVob: string;
  siblingHome: (stage: number) => string;
  siblingVob: (stage: number) => string;
  work: string;
}

/** Node flags that write a CPU profile of the process named `name` into the profile directory. */
const profileFlags = (o: BigFilesOptions, name: string): string[] =>
  o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir, '--cpu-prof-name', `${name}.cpuprofile`] : [];

export function benchBigFiles(o: BigFilesOptions): StageFigures[] {
  const history = planBigHistory(o.seed, o.mib);
  if (history.steps.length < 2) throw new Error('--big-mib is too small for two versions: give at least 40');
  const half = halfway(history);
  const stages = [history.steps.slice(0, half), history.steps.slice(half)];
  const root = join(o.tmp, 'bigfiles');
  const l: Layout = {
    root,
    content: join(root, 'content'),
    originHome: join(root, 'origin-home'),
    originVob: join(root, 'origin.vob'),
    siblingHome: (s) => join(root, `sibling${s}-home`),
    siblingVob: (s) => join(root, `sibling${s}.vob`),
    work: join(root, 'git'),
  };
  mkdirSync(l.content, { recursive: true });
  console.log(
    `big files: ${history.paths.length} files of 1–20 MiB (half random, half text-like), ${history.steps.length} versions, ` +
      `${fmtMib(history.contentBytes)}; msite's commands against git's, measured at half the history and at all of it`,
  );
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });

  let t = performance.now();
  const writer = new BigContentWriter(o.seed, history, l.content);
  for (const step of history.steps) writer.write(step);
  line('setup: write every version to a file', `${fmtSec((performance.now() - t) / 1000)} (not measured)`);

  t = performance.now();
  msite(['--home', l.originHome, 'mkvob', '--tag', TAG, '--replica', 'origin', l.originVob]);
  mkdirSync(join(root, 'creation'));
  // Both new replicas exist before any element, so each update packet carries the whole history as ops.
  const { packets } = JSON.parse(
    msite(['--home', l.originHome, 'mkreplica', '--export', '--json', '--out', join(root, 'creation'), 'h1:sibling1', 'h2:sibling2']),
  ) as { packets: string[] };
  stages.forEach((_, i) =>
    msite(['--home', l.siblingHome(i + 1), 'mkreplica', '--import', '--tag', TAG, l.siblingVob(i + 1), packets[i]!]),
  );
  spawnSync('git', ['init', '-q', '-b', 'main', l.work], { env: gitEnv() });
  line('setup: mkvob, two new replicas, git init', `${fmtSec((performance.now() - t) / 1000)} (not measured)`);

  const figures: StageFigures[] = [];
  let loaded = 0;
  stages.forEach((steps, i) => {
    const stage = i + 1;
    loaded += steps.length;
    const upTo = history.steps.slice(0, loaded);
    const contentBytes = upTo.reduce((n, s) => n + s.bytes, 0);
    const files = new Set(upTo.map((s) => s.file)).size;
    console.log(`stage ${stage}: ${files} files, ${upTo.length} versions, ${fmtMib(contentBytes)} of content in all`);
    const loadOurs = loadMsite(o, l, history, steps, stage);
    line(`msite load: ${steps.length} versions (mkelem, checkin)`, describe(loadOurs));
    const loadGit = loadGitRepo(l, history, steps);
    line(`git load: ${steps.length} versions (add, commit)`, describe(loadGit));

    const packetDir = join(root, `packets${stage}`);
    mkdirSync(packetDir);
    settleDisk();
    const exportOurs = measured(process.execPath, [
      ...profileFlags(o, `export-${stage}`),
      BIN,
      '--home',
      l.originHome,
      'syncreplica',
      '--export',
      '--out',
      packetDir,
      `sibling${stage}`,
    ]);
    const packetBytes = dirBytes(packetDir);
    line('msite syncreplica --export', `${describe(exportOurs)}; ${readdirSync(packetDir).length} packet(s), ${fmtMib(packetBytes)}`);
    const bundleFile = join(root, `history${stage}.bundle`);
    settleDisk();
    const bundle = git(l.work, ['bundle', 'create', bundleFile, '--all']);
    const bundleBytes = statSync(bundleFile).size;
    line('git bundle create --all', `${describe(bundle)}; ${fmtMib(bundleBytes)}`);

    settleDisk();
    const importOurs = measured(process.execPath, [
      ...profileFlags(o, `import-${stage}`),
      BIN,
      '--home',
      l.siblingHome(stage),
      'syncreplica',
      '--import',
      packetDir,
    ]);
    line('msite syncreplica --import (new replica)', describe(importOurs));
    const clone = join(root, `clone${stage}.git`);
    settleDisk();
    const cloned = git(root, ['clone', '--quiet', '--bare', bundleFile, clone]);
    line('git clone --bare of the bundle', describe(cloned));

    const deltas = packDeltas(clone);
    line(
      "  git's blobs stored as deltas",
      `${deltas.deltas} of ${deltas.blobs}, ${fmtMib(deltas.deltaBytes)} of the pack (msite: versions up to 20 MiB as deltas)`,
    );
    t = performance.now();
    verify(l, history, upTo, stage, clone);
    line('verified: replica = origin, contents', `${fmtSec((performance.now() - t) / 1000)} (not measured)`);
    // Only the figures are kept: at full size each of these is gigabytes.
    for (const p of [packetDir, bundleFile, clone, l.siblingVob(stage)]) rmSync(p, { recursive: true, force: true });
    figures.push({
      contentBytes,
      versions: upTo.length,
      files,
      loadOurs,
      loadGit,
      exportOurs,
      packetBytes,
      bundle,
      bundleBytes,
      importOurs,
      clone: cloned,
    });
  });
  if (o.profileDir)
    line(
      'CPU profiles',
      `${o.profileDir}/{load,export,import}-{1,2}.cpuprofile (bench/profileSummary.ts reads them); the profiler slows those steps, so compare times from a run without it`,
    );
  return figures;
}

/** The step index at which the content reaches half of it. */
function halfway(history: BigHistory): number {
  let bytes = 0;
  const i = history.steps.findIndex((s) => (bytes += s.bytes) > history.contentBytes / 2);
  return Math.min(Math.max(1, i), history.steps.length - 1);
}

const describe = (m: Measured): string => `${fmtSec(m.seconds)}, CPU ${fmtSec(m.cpuSeconds)}, peak RSS ${fmtMib(m.peakRss)}`;
const comment = (history: BigHistory, s: BigStep): string => `build ${s.version} of ${history.paths[s.file]!}`;

/** The stage's versions through msite's commands in one loader process (bigFilesLoader.ts). */
function loadMsite(o: BigFilesOptions, l: Layout, history: BigHistory, steps: BigStep[], stage: number): Measured {
  const home = ['--home', l.originHome];
  const commands: string[][] = stage === 1 ? history.dirs.map((d) => [...home, 'mkdir', '--auto', d]) : [];
  for (const s of steps) {
    const path = history.paths[s.file]!;
    const from = versionFile(l.content, s);
    if (s.version === 1) commands.push([...home, 'mkelem', '--auto', '--from', from, '-c', comment(history, s), path]);
    else commands.push([...home, 'checkout', path], [...home, 'checkin', '--from', from, '-c', comment(history, s), path]);
  }
  const list = join(l.root, `load${stage}.json`);
  writeFileSync(list, JSON.stringify(commands));
  settleDisk();
  return measured(process.execPath, [...profileFlags(o, `load-${stage}`), LOADER, list]);
}

/** The stage's versions into the git work tree: each copied in (untimed), then `git add` and `git commit`. */
function loadGitRepo(l: Layout, history: BigHistory, steps: BigStep[]): Measured {
  settleDisk();
  let total = ZERO;
  for (const s of steps) {
    const path = history.paths[s.file]!;
    mkdirSync(join(l.work, dirname(path)), { recursive: true });
    copyFileSync(versionFile(l.content, s), join(l.work, path));
    total = add(total, git(l.work, ['add', path]));
    const date = `${EPOCH + history.steps.indexOf(s)} +0000`;
    total = add(total, git(l.work, ['commit', '--quiet', '-m', comment(history, s)], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }));
  }
  return total;
}

/**
 * The new replica holds what the origin does (versions, elements, oplog), and both it and the git
 * clone give back the exact bytes of the largest file's last version and of a rebuilt file's first.
 */
function verify(l: Layout, history: BigHistory, upTo: BigStep[], stage: number, clone: string): void {
  const origin = replicaCounts(l.originVob);
  const copy = replicaCounts(l.siblingVob(stage));
  if (copy.versions !== origin.versions || copy.elements !== origin.elements)
    throw new Error(`replica ${stage} has ${JSON.stringify(copy)}, the origin ${JSON.stringify(origin)}`);
  const largest = upTo.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const latest = upTo.filter((s) => s.file === largest.file).pop()!;
  const rebuilt = upTo.find((s) => s.version > 1);
  const samples: [BigStep, string][] = [[latest, '']];
  if (rebuilt) samples.push([{ ...rebuilt, version: 1 }, `@@/main/1`]);
  for (const [s, suffix] of samples) {
    const path = history.paths[s.file]!;
    const expected = fileDigest(versionFile(l.content, s));
    const ours = spawnSync(process.execPath, [BIN, '--home', l.siblingHome(stage), 'cat', path + suffix], { maxBuffer: 64 * MIB });
    if (ours.status !== 0 || sha256(ours.stdout) !== expected) throw new Error(`replica ${stage}: cat ${path}${suffix} differs`);
    // One commit per version: the first version of a rebuilt file is so many commits before main.
    const rev = suffix ? `main~${upTo.length - 1 - upTo.findIndex((x) => x.file === s.file && x.version === 1)}` : 'main';
    const theirs = spawnSync('git', ['cat-file', 'blob', `${rev}:${path}`], { cwd: clone, env: gitEnv(), maxBuffer: 64 * MIB });
    if (theirs.status !== 0 || sha256(theirs.stdout) !== expected) throw new Error(`clone ${stage}: ${rev}:${path} differs`);
  }
}

/**
 * How many blobs of a repository's pack git stored as deltas against another (the rebuilds of a
 * file against each other), and their bytes in the pack: what git's bundle gains over whole versions.
 * Untimed. `git verify-pack -v` lists a deltified object with its depth and base after its offset.
 */
function packDeltas(repo: string): { blobs: number; deltas: number; deltaBytes: number } {
  const pack = join(repo, 'objects', 'pack');
  const idx = readdirSync(pack).find((f) => f.endsWith('.idx'));
  if (!idx) throw new Error(`no pack in ${repo}`);
  const out = spawnSync('git', ['verify-pack', '-v', join(pack, idx)], { cwd: repo, env: gitEnv(), encoding: 'utf8', maxBuffer: 64 * MIB });
  if (out.status !== 0) throw new Error(`git verify-pack: ${out.stderr.trim()}`);
  const counts = { blobs: 0, deltas: 0, deltaBytes: 0 };
  for (const row of out.stdout.split('\n')) {
    const f = row.split(/\s+/);
    if (f[1] !== 'blob') continue;
    counts.blobs++;
    if (f.length >= 7) {
      counts.deltas++;
      counts.deltaBytes += Number(f[3]);
    }
  }
  return counts;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The comparison, stage by stage: msite, git, their ratio, the target, met; then the RSS at both sizes. */
export function printBigFilesTable(stages: StageFigures[]): void {
  const head = (): void =>
    console.log(
      `    ${''.padEnd(34)} ${'msite'.padStart(12)} ${'git'.padStart(12)} ${'ours/git'.padStart(9)} ${'target'.padStart(8)}  met`,
    );
  const row = (label: string, a: string, b: string, ratio: number, target: string, met: boolean | undefined): void =>
    console.log(
      `    ${label.padEnd(34)} ${a.padStart(12)} ${b.padStart(12)} ${ratio.toFixed(3).padStart(9)} ${target.padStart(8)}  ${met === undefined ? '' : met ? 'yes' : 'NO'}`,
    );
  for (const f of stages) {
    console.log(`comparison (big files: ${f.files} files, ${f.versions} versions, ${fmtMib(f.contentBytes)})`);
    head();
    row(
      'load time (commands vs add+commit)',
      fmtSec(f.loadOurs.seconds),
      fmtSec(f.loadGit.seconds),
      f.loadOurs.seconds / f.loadGit.seconds,
      '(info)',
      undefined,
    );
    row(
      'load peak RSS',
      fmtMib(f.loadOurs.peakRss),
      fmtMib(f.loadGit.peakRss),
      f.loadOurs.peakRss / f.loadGit.peakRss,
      '(info)',
      undefined,
    );
    const exp = f.exportOurs.seconds / f.bundle.seconds;
    row(
      'export vs bundle create, time',
      fmtSec(f.exportOurs.seconds),
      fmtSec(f.bundle.seconds),
      exp,
      `<= ${EXPORT_TARGET}`,
      exp <= EXPORT_TARGET,
    );
    row(
      'export peak RSS (limit)',
      fmtMib(f.exportOurs.peakRss),
      fmtMib(RSS_LIMIT),
      f.exportOurs.peakRss / RSS_LIMIT,
      '< 1',
      f.exportOurs.peakRss < RSS_LIMIT,
    );
    row(
      '  bundle create peak RSS',
      fmtMib(f.exportOurs.peakRss),
      fmtMib(f.bundle.peakRss),
      f.exportOurs.peakRss / f.bundle.peakRss,
      '(info)',
      undefined,
    );
    const imp = f.importOurs.seconds / f.clone.seconds;
    row(
      'import vs clone --bare, time',
      fmtSec(f.importOurs.seconds),
      fmtSec(f.clone.seconds),
      imp,
      `<= ${IMPORT_TARGET}`,
      imp <= IMPORT_TARGET,
    );
    row(
      'import peak RSS (limit)',
      fmtMib(f.importOurs.peakRss),
      fmtMib(RSS_LIMIT),
      f.importOurs.peakRss / RSS_LIMIT,
      '< 1',
      f.importOurs.peakRss < RSS_LIMIT,
    );
    row(
      '  clone --bare peak RSS',
      fmtMib(f.importOurs.peakRss),
      fmtMib(f.clone.peakRss),
      f.importOurs.peakRss / f.clone.peakRss,
      '(info)',
      undefined,
    );
    const bytes = f.packetBytes / f.bundleBytes;
    row('packet vs bundle bytes', fmtMib(f.packetBytes), fmtMib(f.bundleBytes), bytes, `<= ${PACKET_TARGET}`, bytes <= PACKET_TARGET);
  }
  if (stages.length === 2) {
    const [a, b] = stages as [StageFigures, StageFigures];
    const growth = (x: number, y: number): string => `${fmtMib(x)} → ${fmtMib(y)} (×${(y / x).toFixed(2)})`;
    console.log(`peak RSS as the packet grows ×${(b.packetBytes / a.packetBytes).toFixed(2)}: must stay flat, under ${fmtMib(RSS_LIMIT)}`);
    line('  msite export', growth(a.exportOurs.peakRss, b.exportOurs.peakRss));
    line('  msite import', growth(a.importOurs.peakRss, b.importOurs.peakRss));
    line(
      '  git bundle create / clone --bare',
      `${growth(a.bundle.peakRss, b.bundle.peakRss)} / ${growth(a.clone.peakRss, b.clone.peakRss)}`,
    );
  }
  console.log('    (RSS: /usr/bin/time %M of each step, the largest process of its tree; times: spawn to exit, after a sync)');
}
