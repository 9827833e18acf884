import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DELTA_DEPTH } from '../../src/vob/contentPool.js';
import { Vob } from '../../src/vob/vob.js';
import { BIN, json, msite, ok, tempDir } from '../helpers/cli.js';
import { family } from '../helpers/sites.js';

/** A git repository made by the test, driven by real `git`. */
function gitRepo(dir: string) {
  mkdirSync(dir, { recursive: true });
  let tick = 0;
  const git = (...args: string[]): Buffer => {
    const when = `${1_700_000_000 + tick++} +0000`;
    return execFileSync('git', ['-C', dir, '-c', 'user.name=Ada Lovelace', '-c', 'user.email=ada@example.org', ...args], {
      env: { ...process.env, GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
    });
  };
  git('init', '-q', '-b', 'main');
  const write = (path: string, content: string | Buffer): void => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  const commit = (message: string): void => {
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', message);
  };
  return { dir, git, write, commit };
}

/** A history with branches, a merge, a rename, a delete, tags, a binary file, a symlink, an executable and an empty file. */
function makeHistory(root: string) {
  const r = gitRepo(join(root, 'repo'));
  r.write('README', 'hello\n');
  r.write('src/a.c', 'int a;\n');
  r.write('src/util/u.c', 'int u;\n');
  r.write('empty', '');
  r.write('doc/long.txt', 'a line of text that deflates well\n'.repeat(100));
  r.write('run.sh', '#!/bin/sh\necho hi\n');
  chmodSync(join(r.dir, 'run.sh'), 0o755);
  symlinkSync('README', join(r.dir, 'link'));
  r.commit('first\n\nwith a body');
  r.git('tag', 'v0.1');
  r.git('checkout', '-q', '-b', 'feature/x');
  r.write('src/a.c', 'int a = 1;\n');
  r.write('lib/new.c', 'int n;\n');
  r.write('bin.dat', Buffer.from([0, 1, 2, 255, 0, 10, 13, 0, 7]));
  r.write('doc/long.txt', 'another line of text that deflates well\n'.repeat(120));
  r.commit('feature work');
  r.git('checkout', '-q', 'main');
  r.git('mv', 'README', 'README.md');
  rmSync(join(r.dir, 'link'));
  symlinkSync('README.md', join(r.dir, 'link'));
  r.commit('rename the readme');
  r.git('merge', '-q', '--no-ff', '-m', "Merge branch 'feature/x'", 'feature/x');
  r.git('tag', '-a', '-m', 'release one', '1.0');
  r.git('rm', '-q', '-r', 'src/util');
  r.write('src/a.c', 'int a = 2;\n');
  r.commit('drop util');
  r.git('checkout', '-q', '-b', 'topic', 'v0.1');
  r.write('topic.txt', 'topic\n');
  chmodSync(join(r.dir, 'run.sh'), 0o644);
  r.commit('a topic');
  r.git('checkout', '-q', 'main');
  return r;
}

interface TreeFile {
  path: string;
  mode: string;
  bytes: string;
}

/** `git ls-tree -r REF`: every file with its mode and bytes (hex), by path. */
function gitTree(repo: string, ref: string): TreeFile[] {
  const out = execFileSync('git', ['-C', repo, 'ls-tree', '-r', '-z', ref]).toString('utf8');
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, path] = line.split('\t') as [string, string];
      const [mode, , blob] = meta.split(' ') as [string, string, string];
      return { path, mode, bytes: execFileSync('git', ['-C', repo, 'cat-file', 'blob', blob]).toString('hex') };
    })
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

const GIT_MODE = { executable: '100755', symlink: '120000' } as Record<string, string>;

/** Every file `ls` and `cat` show through `element * LABEL`, with its mode and bytes (hex), by path. */
async function vobTree(home: string, vob: string, label: string, root: string): Promise<TreeFile[]> {
  const config = join(root, `cs-${label}`);
  writeFileSync(config, `element * ${label}\n`);
  const files: TreeFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const rows = await json<{ path: string; kind: string; mode: string | null }[]>(['ls', '--vob', vob, '--config', config, dir], { home });
    for (const row of rows) {
      if (row.kind === 'directory') await walk(row.path);
      else {
        const bytes = (await ok(['cat', '--vob', vob, '--config', config, row.path], { home })).raw.toString('hex');
        files.push({ path: row.path, mode: row.mode ? GIT_MODE[row.mode]! : '100644', bytes });
      }
    }
  };
  await walk('.');
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** What two imports must agree on: types by name, versions, labels, attributes and arrows by count. */
async function summary(home: string, vob: string): Promise<unknown> {
  const names = async (kind: string) =>
    (await json<{ name: string }[]>(['lstype', '--vob', vob, '--kind', kind], { home })).map((t) => t.name).sort();
  const history = await json<{ kind: string }[]>(['lshistory', '--vob', vob], { home });
  const counts: Record<string, number> = {};
  for (const h of history) if (!h.kind.endsWith('_sync') && h.kind !== 'mkreplica') counts[h.kind] = (counts[h.kind] ?? 0) + 1;
  return { brtypes: await names('brtype'), lbtypes: await names('lbtype'), counts };
}

describe('gitimport', () => {
  it('imports branches, merges, renames, deletes, tags and file modes so each ref’s label selects its tree; a second run takes only new commits', async () => {
    const root = tempDir('msite-gitimport-');
    const repo = makeHistory(root);
    const home = join(root, 'home');
    await ok(['mkvob', '--tag', 'g', join(root, 'g.vob')], { home });
    const first = await ok(['gitimport', '--vob', 'g', repo.dir], { home });
    expect(first.stdout).toContain('refs/heads/main -> brtype:main lbtype:main');
    expect(first.stdout).toContain('refs/heads/feature/x -> brtype:feature_x lbtype:feature_x');
    expect(first.stdout).toContain('refs/tags/1.0 -> lbtype:_1.0');
    expect(first.stdout).toMatch(/Imported 6 commits: .* 3 merge arrows/);

    const labels: Record<string, string> = { main: 'main', 'feature/x': 'feature_x', topic: 'topic', 'v0.1': 'v0.1', '1.0': '_1.0' };
    for (const [ref, label] of Object.entries(labels)) {
      expect(await vobTree(home, 'g', label, root), ref).toEqual(gitTree(repo.dir, ref));
    }
    // The merged file's version on main has an arrow from the feature branch's version.
    const vtree = await json<{ version: string; comment: string }[]>(['lsvtree', '--vob', 'g', 'src/a.c'], { home });
    expect(vtree.map((v) => v.version)).toEqual(
      expect.arrayContaining(['src/a.c@@/main/feature_x/1', 'src/a.c@@/main/2', 'src/a.c@@/main/3']),
    );
    const merged = await json<{ author: string; created: string; comment: string }>(['describe', '--vob', 'g', 'src/a.c@@/main/2'], {
      home,
    });
    expect(JSON.stringify(merged)).toContain('feature_x');
    expect(merged).toMatchObject({ author: 'Ada Lovelace <ada@example.org>', comment: "Merge branch 'feature/x'" });
    expect((await json<{ mode: string }>(['describe', '--vob', 'g', 'run.sh@@v0.1'], { home })).mode).toBe('executable');

    // New commits and a new tag: only they come in; the branch label moves.
    repo.write('later.txt', 'later\n');
    repo.commit('later');
    repo.git('tag', 'v2');
    const again = await ok(['gitimport', '--vob', 'g', repo.dir], { home });
    expect(again.stdout).toMatch(/Imported 1 commit: 1 file versions, 1 directory versions/);
    for (const [ref, label] of Object.entries({ ...labels, v2: 'v2' })) {
      expect(await vobTree(home, 'g', label, root), ref).toEqual(gitTree(repo.dir, ref));
    }
    const third = await ok(['gitimport', '--vob', 'g', repo.dir], { home });
    expect(third.stdout).toContain('Imported 0 commits');

    // A replica made afterwards holds the same history.
    const out = join(root, 'out');
    mkdirSync(out);
    const { packets } = await json<{ packets: string[] }>(['mkreplica', '--vob', 'g', '--export', '--out', out, 'far:far'], { home });
    const farHome = join(root, 'far');
    await ok(['mkreplica', '--import', '--tag', 'g', '--vob', join(root, 'far.vob'), packets[0]!], { home: farHome });
    for (const [ref, label] of Object.entries({ ...labels, v2: 'v2' })) {
      expect(await vobTree(farHome, 'g', label, root), ref).toEqual(gitTree(repo.dir, ref));
    }
    expect(await summary(farHome, 'g')).toEqual(await summary(home, 'g'));

    // A checkin keeps the mode of the version checked out.
    await ok(['checkout', '--vob', 'g', 'run.sh'], { home });
    await ok(['checkin', '--vob', 'g', 'run.sh'], { home });
    const top = await json<{ name: string; version: string; mode: string | null }[]>(['ls', '--vob', 'g', '.'], { home });
    expect(top.find((e) => e.name === 'run.sh')).toMatchObject({ version: '/main/2', mode: 'executable' });
  });

  it('an import killed with SIGKILL midway finishes on the next run, nothing doubled, as an uninterrupted one', async () => {
    const root = tempDir('msite-gitimport-kill-');
    const repo = makeHistory(root);
    const home = join(root, 'home');
    await ok(['mkvob', '--tag', 'whole', join(root, 'whole.vob')], { home });
    await ok(['mkvob', '--tag', 'cut', join(root, 'cut.vob')], { home });
    await ok(['gitimport', '--vob', 'whole', repo.dir], { home });

    const env: NodeJS.ProcessEnv = { ...process.env, MSITE_HOME: home, MSITE_TEST_GITIMPORT_KILL_AFTER: '3' };
    delete env.MSITE_VOB;
    const killed = spawnSync(process.execPath, [BIN, 'gitimport', '--vob', 'cut', repo.dir], { env });
    expect(killed.signal, killed.stderr.toString()).toBe('SIGKILL');
    const partial = await ok(['lshistory', '--vob', 'cut', '--json'], { home });
    expect(partial.stdout).toContain('git_commit');
    const rest = await ok(['gitimport', '--vob', 'cut', repo.dir], { home });
    expect(rest.stdout).toContain('Imported 3 commits');
    expect(await summary(home, 'cut')).toEqual(await summary(home, 'whole'));
    for (const label of ['main', 'feature_x', 'topic', 'v0.1', '_1.0']) {
      expect(await vobTree(home, 'cut', label, root), label).toEqual(await vobTree(home, 'whole', label, root));
    }
  });

  it('stores a changed file as a delta against its version before, at most DELTA_DEPTH deep, across runs; each version reads back', async () => {
    const root = tempDir('msite-gitimport-deltas-');
    const r = gitRepo(join(root, 'repo'));
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} of a file that grows a little with every commit\n`);
    const commits = DELTA_DEPTH + 4;
    // A replica made before the import gets the history in update packets, which carry the
    // versions the pool holds as deltas.
    const [boston, bangalore] = await family(root, ['boston', 'bangalore']);
    const home = boston!.home;
    for (let i = 0; i < commits; i++) {
      lines[(i * 37) % lines.length] = `changed in commit ${i}\n`;
      r.write('big.txt', lines.join(''));
      r.commit(`change ${i}`);
      // Half the history in a first run: the second run's first delta has its base in the pool.
      if (i === 5) await ok(['gitimport', '--vob', '/vobs/dev', r.dir], { home });
    }
    await ok(['gitimport', '--vob', '/vobs/dev', r.dir], { home });
    await bangalore!.run('syncreplica', '--import', ...(await boston!.exportTo('bangalore')));
    for (let n = 1; n <= commits; n++) {
      const theirs = r.git('show', `main~${commits - n}:big.txt`);
      expect((await ok(['cat', '--vob', '/vobs/dev', `big.txt@@/main/${n}`], { home })).raw.equals(theirs), `version ${n}`).toBe(true);
      expect((await bangalore!.run('cat', `big.txt@@/main/${n}`)).raw.equals(theirs), `version ${n} at the replica`).toBe(true);
    }
    const vob = Vob.open(join(root, 'boston.vob'), { readonly: true });
    try {
      const shas = vob
        .q(
          "SELECT v.content FROM version v JOIN element e ON e.oid = (SELECT element FROM branch WHERE oid = v.branch) WHERE v.number > 0 AND e.kind = 'file' ORDER BY v.number",
        )
        .pluck()
        .all() as string[];
      const depths = shas.map((sha) => vob.pool.deltaDepth(sha));
      expect(depths).toEqual(Array.from({ length: commits }, (_, i) => i % (DELTA_DEPTH + 1)));
    } finally {
      vob.close();
    }
  });

  it('a file where a directory was, and a directory where a file was', async () => {
    const root = tempDir('msite-gitimport-swap-');
    const r = gitRepo(join(root, 'repo'));
    r.write('a/b', 'b\n');
    r.commit('a directory');
    r.git('rm', '-q', '-r', 'a');
    r.write('a', 'a file\n');
    r.commit('a file');
    r.git('tag', 't2');
    r.git('rm', '-q', 'a');
    r.write('a/c', 'c\n');
    r.commit('a directory again');
    const home = join(root, 'home');
    await ok(['mkvob', '--tag', 'g', join(root, 'g.vob')], { home });
    await ok(['gitimport', '--vob', 'g', r.dir], { home });
    for (const ref of ['t2', 'main']) expect(await vobTree(home, 'g', ref, root), ref).toEqual(gitTree(r.dir, ref));
  });

  it('a commit with no message', async () => {
    const root = tempDir('msite-gitimport-nomessage-');
    const r = gitRepo(join(root, 'repo'));
    r.write('a', '1\n');
    r.commit('first');
    r.write('a', '2\n');
    r.git('add', '-A');
    r.git('commit', '-q', '--allow-empty-message', '-m', '');
    r.write('a', '3\n');
    r.commit('third');
    const home = join(root, 'home');
    await ok(['mkvob', '--tag', 'g', join(root, 'g.vob')], { home });
    expect((await ok(['gitimport', '--vob', 'g', r.dir], { home })).stdout).toContain('Imported 3 commits');
    expect(await vobTree(home, 'g', 'main', root)).toEqual(gitTree(r.dir, 'main'));
    const comments = (await json<{ version: string; comment: string }[]>(['lsvtree', '--vob', 'g', 'a'], { home })).map((v) => [
      v.version,
      v.comment,
    ]);
    expect(comments).toEqual(
      expect.arrayContaining([
        ['a@@/main/2', ''],
        ['a@@/main/3', 'third'],
      ]),
    );
  });

  it("a repository missing an object: the error is git's own", async () => {
    const root = tempDir('msite-gitimport-damaged-');
    const r = gitRepo(join(root, 'repo'));
    r.write('a', 'first\n');
    r.commit('first');
    r.write('a', 'second, whose blob goes missing\n');
    r.commit('second');
    const blob = r.git('rev-parse', 'HEAD:a').toString().trim();
    rmSync(join(r.dir, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
    const home = join(root, 'home');
    await ok(['mkvob', '--tag', 'g', join(root, 'g.vob')], { home });
    const failed = await msite(['gitimport', '--vob', 'g', r.dir], { home });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(new RegExp(`^msite: error: git fast-export failed in .*: fatal: could not read blob ${blob}`));
  });

  it('--branches and --tags import only the refs they name', async () => {
    const root = tempDir('msite-gitimport-refs-');
    const repo = makeHistory(root);
    const home = join(root, 'home');
    await ok(['mkvob', '--tag', 'g', join(root, 'g.vob')], { home });
    const r = await ok(['gitimport', '--vob', 'g', repo.dir, '--branches', 'topic', '--tags', 'v*'], { home });
    expect(r.stdout.split('\n').filter((l) => l.includes(' -> '))).toEqual([
      'refs/heads/topic -> brtype:main lbtype:topic',
      'refs/tags/v0.1 -> lbtype:v0.1',
    ]);
    expect(r.stdout).toContain('Imported 2 commits');
    expect(await vobTree(home, 'g', 'topic', root)).toEqual(gitTree(repo.dir, 'topic'));
  });

  it('refuses a path that is not a git repository, changing nothing', async () => {
    const root = tempDir('msite-gitimport-bad-');
    const home = join(root, 'home');
    await ok(['mkvob', '--tag', 'g', join(root, 'g.vob')], { home });
    const r = await msite(['gitimport', '--vob', 'g', root], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^msite: error: not a git repository: /);
    expect((await json<unknown[]>(['lstype', '--vob', 'g', '--kind', 'attype'], { home })).length).toBe(0);
  });
});
