/**
 * The views part (`--only views`): `msite update` of a fresh snapshot view of --view-files files (the
 * bench history's final versions), and an update with nothing to do, against `git checkout` of the
 * same tree into an empty work tree and `git status` of it. Each figure is the median of three runs,
 * the two sides taking turns.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { updateView } from '../src/view/updateView.js';
import { View } from '../src/view/view.js';
import { buildFastImportStream, git, gitEnv, runFastImport } from './gitFastImport.js';
import { generateHistory, type History } from './history.js';
import { loadBulk, setupVob } from './vobLoad.js';

const FULL_TARGET = 2.0; // ours/git seconds: a fresh view's update at most twice git checkout
const NOCHANGE_TARGET = 3.0; // ours/git seconds: an update with nothing to do at most three times git status

export interface ViewsFigures {
  files: number;
  versions: number;
  bytes: number;
  updateSeconds: number[];
  checkoutSeconds: number[];
  noChangeSeconds: number[];
  statusSeconds: number[];
  /** `msite update` as a command (node's start included), for reference. */
  cliNoChangeSeconds: number;
}

/**
 * The bench history with only the files it touches (git has no empty never-written files), each
 * file's index renumbered: both sides then hold the same tree.
 */
function touchedHistory(files: number, seed: number): History {
  // Two edits a file on average leave e^-2 of the files untouched: generate a fifth more and keep the first `files` touched.
  const generated = Math.ceil(files * 1.2);
  const full = generateHistory({ versions: generated * 2, files: generated, dirs: Math.max(1, Math.round(files / 100)), seed });
  const used = [...new Set(full.steps.map((s) => s.file))].sort((a, b) => a - b).slice(0, files);
  const index = new Map(used.map((f, i) => [f, i]));
  const paths = used.map((f) => full.paths[f]!);
  const dirs = [...new Set(paths.map((p) => p.slice(0, p.indexOf('/'))))];
  const steps = full.steps.filter((s) => index.has(s.file)).map((s) => ({ ...s, file: index.get(s.file)! }));
  return { dirs, paths, steps, contentBytes: steps.reduce((n, s) => n + s.content.length, 0) };
}

function seconds<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const r = fn();
  return [r, (performance.now() - start) / 1000];
}

async function secondsAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const r = await fn();
  return [r, (performance.now() - start) / 1000];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

function countFiles(dir: string, skip: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === skip) continue;
    n += e.isDirectory() ? countFiles(join(dir, e.name), skip) : 1;
  }
  return n;
}

export async function benchViews(options: { files: number; seed: number; tmp: string; bin: string }): Promise<ViewsFigures> {
  const history = touchedHistory(options.files, options.seed);
  console.log('setup');
  const vobDir = join(options.tmp, 'views.vob');
  const [, loadSeconds] = seconds(() => {
    const vob = setupVob(vobDir, history, '/vobs/views');
    try {
      loadBulk(vob, history, 10_000);
    } finally {
      vob.close();
    }
  });
  console.log(
    `  ${'msite VOB loaded'.padEnd(44)} ${history.paths.length} files, ${history.steps.length} versions, ${loadSeconds.toFixed(2)} s (not measured)`,
  );
  const repo = join(options.tmp, 'views-git');
  mkdirSync(repo);
  git(repo, ['init', '--quiet', '--initial-branch=main']);
  await runFastImport(repo, buildFastImportStream(history));
  console.log(`  ${'git repository loaded (fast-import)'.padEnd(44)} (not measured)`);

  // The machine's file system is shared with whatever else runs: each side runs three times, taking
  // turns, and is compared by its median. msite: a fresh view loaded by update; git: a clone without
  // a checkout (not timed), then git checkout of main into its empty work tree.
  const updateRuns: number[] = [];
  const checkoutRuns: number[] = [];
  let viewDir = '';
  let work = '';
  for (let r = 0; r < 3; r++) {
    viewDir = join(options.tmp, `view${r}`);
    const view = View.create(viewDir, { tag: `bench${r}`, vobDir });
    try {
      const [first, s] = await secondsAsync(() => updateView(view));
      if (first.entries.filter((e) => e.action === 'load').length !== history.paths.length)
        throw new Error('update did not load every file');
      updateRuns.push(s);
    } finally {
      view.close();
    }
    work = join(options.tmp, `work${r}`);
    git(options.tmp, ['clone', '--quiet', '--no-checkout', '--shared', repo, work]);
    checkoutRuns.push(seconds(() => git(work, ['checkout', '--quiet', '-f', 'main']))[1]);
  }
  // Then, on the last of each, updates and statuses with nothing to do, taking turns.
  const noChangeSeconds: number[] = [];
  const statusSeconds: number[] = [];
  const view = View.openAt(viewDir);
  try {
    for (let i = 0; i < 3; i++) {
      const [again, t] = await secondsAsync(() => updateView(view));
      if (again.entries.some((e) => e.action === 'load')) throw new Error('a no-change update loaded files');
      noChangeSeconds.push(t);
      const [out, g] = seconds(() => execFileSync('git', ['status', '--porcelain'], { cwd: work, env: gitEnv(), encoding: 'utf8' }));
      if (out !== '') throw new Error(`git status is not clean: ${out.slice(0, 200)}`);
      statusSeconds.push(g);
    }
  } finally {
    view.close();
  }
  const [, cliNoChangeSeconds] = seconds(() =>
    execFileSync(process.execPath, [options.bin, 'update', '--view', viewDir, '--home', join(options.tmp, 'views-home')], {
      stdio: 'ignore',
    }),
  );

  // Both trees hold the same files with the same bytes.
  const ours = countFiles(viewDir, '.msite');
  const theirs = countFiles(work, '.git');
  if (ours !== history.paths.length || theirs !== history.paths.length) throw new Error(`file counts differ: view ${ours}, git ${theirs}`);
  for (const p of history.paths.filter((_, i) => i % 997 === 0)) {
    if (!readFileSync(join(viewDir, p)).equals(readFileSync(join(work, p)))) throw new Error(`${p} differs between the view and git`);
  }
  return {
    files: history.paths.length,
    versions: history.steps.length,
    bytes: history.contentBytes,
    updateSeconds: updateRuns,
    checkoutSeconds: checkoutRuns,
    noChangeSeconds,
    statusSeconds,
    cliNoChangeSeconds,
  };
}

export function printViewsTable(f: ViewsFigures): void {
  const row = (label: string, a: number, b: number, target: number): void => {
    const ratio = a / b;
    console.log(
      `    ${label.padEnd(34)} ${`${a.toFixed(3)} s`.padStart(10)} ${`${b.toFixed(3)} s`.padStart(10)} ${ratio.toFixed(3).padStart(9)} ${`<= ${target.toFixed(1)}`.padStart(8)}  ${ratio <= target ? 'yes' : 'NO'}`,
    );
  };
  console.log(
    `comparison (snapshot view of ${f.files.toLocaleString('en-US')} files, from ${f.versions.toLocaleString('en-US')} versions)`,
  );
  console.log(`    ${''.padEnd(34)} ${'msite'.padStart(10)} ${'git'.padStart(10)} ${'ours/git'.padStart(9)} ${'target'.padStart(8)}  met`);
  row('fresh view: update / checkout', median(f.updateSeconds), median(f.checkoutSeconds), FULL_TARGET);
  row('no change: update / status', median(f.noChangeSeconds), median(f.statusSeconds), NOCHANGE_TARGET);
  console.log(
    `    fresh-view runs: msite ${f.updateSeconds.map((s) => s.toFixed(3)).join(', ')} s; git ${f.checkoutSeconds.map((s) => s.toFixed(3)).join(', ')} s`,
  );
  console.log(
    `    no-change runs: msite ${f.noChangeSeconds.map((s) => s.toFixed(3)).join(', ')} s; git ${f.statusSeconds.map((s) => s.toFixed(3)).join(', ')} s`,
  );
  console.log(`    msite update as a command (node start-up included, not compared): ${f.cliNoChangeSeconds.toFixed(3)} s`);
}
