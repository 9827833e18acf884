/**
 * The git-history part of `npm run bench` (`node dist/bench/run.js --only gitimport --git-repo PATH`,
 * also part of the default run when `--git-repo` is given; `--git-repo` may be repeated): a real
 * history, imported with `msite gitimport` against git's own round trip of the same refs, `git
 * fast-export --branches --tags | git fast-import` into an empty bare repository; the VOB's bytes on
 * disk against that repository (as fast-import leaves it, and after `git gc --aggressive`); then the VOB exported
 * to a new replica (`msite mkreplica --export`, the whole VOB in one creation packet) and imported
 * (`msite mkreplica --import`) against `git bundle create --all` of the round-tripped repository and
 * `git clone --bare` of the bundle.
 *
 * Both sides take the same refs: every branch and tag (what gitimport takes by default), not other
 * refs a mirror may hold (refs/pull/*); the commit counts of both are printed. Every step is a
 * process of its own, timed from spawn to exit after a settle (settle.ts), its peak RSS from
 * /usr/bin/time (%M, the largest process of its tree).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigSpec } from '../src/vob/configSpec.js';
import { cat, ls } from '../src/vob/commands/listing.js';
import { Vob } from '../src/vob/vob.js';
import { diskUsage } from './diskUsage.js';
import { gitEnv } from './gitFastImport.js';
import { measured, type Measured as MeasuredRun } from './measuredRun.js';
import { settleDisk } from './settle.js';
import { replicaCounts } from './vobReplication.js';

const RATE_TARGET = 1.0; // ours/git commits per second: at least git's own round trip
const BYTES_TARGET = 1.5; // VOB bytes / fast-import repository bytes
const EXPORT_TARGET = 0.5; // mkreplica --export seconds / git bundle create seconds
const IMPORT_TARGET = 0.5; // mkreplica --import seconds / git clone --bare seconds

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../bin/msite.js');

export interface GitImportBenchOptions {
  repo: string;
  tmp: string;
  /** Directory for `--cpu-prof` profiles of the msite processes. */
  profileDir: string | undefined;
}

type Measured = MeasuredRun & { stdout: string };

/** Runs a command under /usr/bin/time after a settle, so the disk's backlog of earlier steps is not counted. */
function measure(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Measured {
  settleDisk();
  return measured(command, args, options);
}

export interface GitImportFigures {
  repo: string;
  commits: number;
  gitCommits: number;
  allRefsCommits: number;
  refs: number;
  ours: Measured;
  git: Measured;
  vobBytes: number;
  gitBytes: number;
  gitGcBytes: number;
  exportOurs: Measured;
  packetBytes: number;
  bundle: Measured;
  bundleBytes: number;
  importOurs: Measured;
  clone: Measured;
  summary: string;
  /** Refs whose labeled tree was compared with `git ls-tree -r`, file by file (path, mode, bytes). */
  verified: string[];
}

export function benchGitImport(o: GitImportBenchOptions): GitImportFigures {
  const name = basename(o.repo.replace(/\/(\.git|repo)\/?$/, '')) || 'repo';
  const root = join(o.tmp, `gitimport-${name}`);
  mkdirSync(root, { recursive: true });
  const home = join(root, 'home');
  const env: NodeJS.ProcessEnv = { ...process.env, MSITE_HOME: home };
  delete env.MSITE_VOB;
  const msiteArgs = (what: string, args: string[]): string[] => [
    ...(o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, `--cpu-prof-name=${name}-${what}.cpuprofile`] : []),
    BIN,
    ...args,
  ];
  const count = (args: string[]): number =>
    Number(spawnSync('git', ['-C', o.repo, 'rev-list', '--count', ...args], { encoding: 'utf8', env: gitEnv() }).stdout.trim());
  const refs = spawnSync('git', ['-C', o.repo, 'for-each-ref', 'refs/heads', 'refs/tags'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean).length;

  // msite: one gitimport process into a new VOB.
  const vobDir = join(root, 'origin.vob');
  spawnSync(process.execPath, [BIN, 'mkvob', '--tag', 'origin', vobDir], { env, stdio: 'ignore' });
  const ours = measure(process.execPath, msiteArgs('gitimport', ['gitimport', '--vob', 'origin', o.repo]), { env });
  const summary = ours.stdout.trim().split('\n').pop() ?? '';
  const commits = Number(/Imported (\d+) commit/.exec(summary)?.[1] ?? NaN);
  const verified = verifyTrees(vobDir, o.repo, ours.stdout);

  // git: the same refs through fast-export and fast-import, one pipeline.
  const gitDir = join(root, 'roundtrip.git');
  spawnSync('git', ['init', '--quiet', '--bare', gitDir], { env: gitEnv() });
  const git = measure(
    'bash',
    [
      '-o',
      'pipefail',
      '-c',
      'git -C "$1" fast-export --branches --tags --signed-tags=strip --use-done-feature | git -C "$2" fast-import --quiet --done 2>&1 >/dev/null || exit 1',
      'bash',
      o.repo,
      gitDir,
    ],
    { env: gitEnv() },
  );
  const gitCommits = Number(spawnSync('git', ['-C', gitDir, 'rev-list', '--count', '--all'], { encoding: 'utf8' }).stdout.trim());
  const vobBytes = diskUsage(vobDir).apparent;
  const gitBytes = diskUsage(gitDir).apparent;

  // Replication: a new replica of the VOB against a bundle of the round-tripped repository.
  const out = join(root, 'packets');
  mkdirSync(out);
  const exportOurs = measure(process.execPath, msiteArgs('export', ['mkreplica', '--vob', 'origin', '--export', '--out', out, 'far:far']), {
    env,
  });
  const packet = join(out, readdirSync(out)[0]!);
  const packetBytes = diskUsage(out).apparent;
  const farEnv: NodeJS.ProcessEnv = { ...env, MSITE_HOME: join(root, 'far-home') };
  const importOurs = measure(
    process.execPath,
    msiteArgs('import', ['mkreplica', '--import', '--tag', 'far', '--vob', join(root, 'far.vob'), packet]),
    { env: farEnv },
  );
  const origin = replicaCounts(vobDir);
  const far = replicaCounts(join(root, 'far.vob'));
  if (origin.versions !== far.versions || origin.elements !== far.elements || origin.oplog !== far.oplog) {
    throw new Error(`the new replica differs: ${JSON.stringify(origin)} against ${JSON.stringify(far)}`);
  }
  const bundleFile = join(root, 'all.bundle');
  const bundle = measure('git', ['-C', gitDir, 'bundle', 'create', '--quiet', bundleFile, '--all'], { env: gitEnv() });
  const bundleBytes = statSync(bundleFile).size;
  const clone = measure('git', ['clone', '--quiet', '--bare', bundleFile, join(root, 'clone.git')], { env: gitEnv() });
  spawnSync('git', ['-C', gitDir, 'gc', '--aggressive', '--quiet'], { env: gitEnv() });
  const gitGcBytes = diskUsage(gitDir).apparent;
  return {
    repo: o.repo,
    commits,
    gitCommits,
    allRefsCommits: count(['--all']),
    refs,
    ours,
    git,
    vobBytes,
    gitBytes,
    gitGcBytes,
    exportOurs,
    packetBytes,
    bundle,
    bundleBytes,
    importOurs,
    clone,
    summary,
    verified,
  };
}

const GIT_MODE: Record<string, string> = { executable: '100755', symlink: '120000' };

/**
 * Checks what the import claims, on every ref it imported: the files `element * LABEL` selects are
 * `git ls-tree -r REF`, by path, mode and bytes (the bytes by their git blob id, computed here, so
 * no blob is read back from git). Throws on the first ref that differs; returns the refs checked.
 */
function verifyTrees(vobDir: string, repo: string, importOutput: string): string[] {
  const mappings = [...importOutput.matchAll(/^(refs\/\S+) -> (?:brtype:\S+ )?lbtype:(\S+)$/gm)].map((m) => ({ ref: m[1]!, label: m[2]! }));
  const blobId = (bytes: Buffer): string => createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
  const vob = Vob.open(vobDir, { readonly: true });
  try {
    for (const { ref, label } of mappings) {
      const config = parseConfigSpec(`element * ${label}\n`);
      const ours = new Map<string, string>();
      const walk = (dir: string): void => {
        for (const e of ls(vob, dir, config)) {
          if (e.kind === 'directory') walk(e.path);
          else ours.set(e.path, `${e.mode ? GIT_MODE[e.mode] : '100644'} ${blobId(cat(vob, e.path, config))}`);
        }
      };
      walk('.');
      const listing = spawnSync('git', ['-C', repo, 'ls-tree', '-r', '-z', ref], { maxBuffer: 1 << 28 }).stdout.toString('utf8');
      const theirs = new Map<string, string>();
      for (const line of listing.split('\0').filter(Boolean)) {
        const [meta, path] = line.split('\t') as [string, string];
        const [mode, type, blob] = meta.split(' ') as [string, string, string];
        if (type === 'blob') theirs.set(path, `${mode === '100664' ? '100644' : mode} ${blob}`);
      }
      const differ = [...new Set([...ours.keys(), ...theirs.keys()])].filter((p) => ours.get(p) !== theirs.get(p));
      if (differ.length) throw new Error(`${ref}: ${differ.length} files differ from git ls-tree, e.g. ${differ.slice(0, 3).join(', ')}`);
    }
  } finally {
    vob.close();
  }
  return mappings.map((m) => m.ref);
}

const fmtSec = (s: number): string => `${s.toFixed(2)} s`;
const fmtMiB = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function printGitImportTable(f: GitImportFigures): void {
  console.log(`\ngitimport of ${f.repo}`);
  console.log(
    `  ${fmtInt(f.refs)} branches and tags, ${fmtInt(f.commits)} commits imported (git's round trip: ${fmtInt(f.gitCommits)}; ` +
      `${fmtInt(f.allRefsCommits)} over every ref of the repository)`,
  );
  console.log(`  msite: ${f.summary}`);
  console.log(`  checked against git ls-tree -r (path, mode, bytes): all ${f.verified.length} refs imported`);
  const row = (label: string, a: string, b: string, ratio: number, target: string, met: boolean | undefined): void =>
    console.log(
      `    ${label.padEnd(34)} ${a.padStart(14)} ${b.padStart(14)} ${ratio.toFixed(3).padStart(9)} ${target.padStart(8)}  ${met === undefined ? '' : met ? 'yes' : 'NO'}`,
    );
  console.log(`    ${''.padEnd(34)} ${'msite'.padStart(14)} ${'git'.padStart(14)} ${'ratio'.padStart(9)} ${'target'.padStart(8)}  met`);
  const ourRate = f.commits / f.ours.seconds;
  const gitRate = f.gitCommits / f.git.seconds;
  row(
    'import rate (commits/s), ours/git',
    ourRate.toFixed(0),
    gitRate.toFixed(0),
    ourRate / gitRate,
    `>= ${RATE_TARGET}`,
    ourRate / gitRate >= RATE_TARGET,
  );
  row('  import wall time', fmtSec(f.ours.seconds), fmtSec(f.git.seconds), f.ours.seconds / f.git.seconds, '', undefined);
  row('  import CPU time', fmtSec(f.ours.cpuSeconds), fmtSec(f.git.cpuSeconds), f.ours.cpuSeconds / f.git.cpuSeconds, '', undefined);
  row('  import peak RSS', fmtMiB(f.ours.peakRss), fmtMiB(f.git.peakRss), f.ours.peakRss / f.git.peakRss, '', undefined);
  row(
    'bytes: VOB vs fast-import .git',
    fmtMiB(f.vobBytes),
    fmtMiB(f.gitBytes),
    f.vobBytes / f.gitBytes,
    `<= ${BYTES_TARGET}`,
    f.vobBytes / f.gitBytes <= BYTES_TARGET,
  );
  row('  VOB vs .git after gc --aggressive', fmtMiB(f.vobBytes), fmtMiB(f.gitGcBytes), f.vobBytes / f.gitGcBytes, '', undefined);
  row(
    'export: mkreplica vs bundle create',
    fmtSec(f.exportOurs.seconds),
    fmtSec(f.bundle.seconds),
    f.exportOurs.seconds / f.bundle.seconds,
    `<= ${EXPORT_TARGET}`,
    f.exportOurs.seconds / f.bundle.seconds <= EXPORT_TARGET,
  );
  row(
    '  export CPU time',
    fmtSec(f.exportOurs.cpuSeconds),
    fmtSec(f.bundle.cpuSeconds),
    f.exportOurs.cpuSeconds / f.bundle.cpuSeconds,
    '',
    undefined,
  );
  row('  packet vs bundle bytes', fmtMiB(f.packetBytes), fmtMiB(f.bundleBytes), f.packetBytes / f.bundleBytes, '', undefined);
  row(
    'import: mkreplica vs clone --bare',
    fmtSec(f.importOurs.seconds),
    fmtSec(f.clone.seconds),
    f.importOurs.seconds / f.clone.seconds,
    `<= ${IMPORT_TARGET}`,
    f.importOurs.seconds / f.clone.seconds <= IMPORT_TARGET,
  );
  row(
    '  import CPU time',
    fmtSec(f.importOurs.cpuSeconds),
    fmtSec(f.clone.cpuSeconds),
    f.importOurs.cpuSeconds / f.clone.cpuSeconds,
    '',
    undefined,
  );
  row('  import peak RSS', fmtMiB(f.importOurs.peakRss), fmtMiB(f.clone.peakRss), f.importOurs.peakRss / f.clone.peakRss, '', undefined);
}
