import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, ok, tempDir } from '../helpers/cli.js';
import { family } from '../helpers/sites.js';
import BetterSqlite3 from 'better-sqlite3';

/** The owner's permission bits of the file at `path` (which no usual umask narrows): 5 is r-x, 4 r--, 7 rwx. */
const perms = (path: string) => (lstatSync(path).mode >> 6) & 0o7;
/** A loaded executable is read-only with its execute bits (0555 less the umask); a plain file 0444. */
const loadedExec = 0o5;
const loadedPlain = 0o4;

interface LsRow {
  name: string;
  version: string | null;
  hijacked: boolean;
  mode: string | null;
}

describe('file modes in snapshot views', () => {
  it('loads executables and symlinks as such, sees them unchanged, follows a mode change on update, and checks modes in', async () => {
    const root = tempDir('msite-viewmodes-');
    const home = join(root, 'home');
    const drop = join(root, 'drop');
    mkdirSync(drop);
    writeFileSync(join(drop, 'a.txt'), 'alpha\n');
    writeFileSync(join(drop, 'run.sh'), '#!/bin/sh\necho run\n');
    chmodSync(join(drop, 'run.sh'), 0o755);
    writeFileSync(join(drop, 'other'), 'other\n');
    symlinkSync('a.txt', join(drop, 'link'));
    // A target outside any view: written and checked as a link, never followed.
    symlinkSync('../../../../etc/passwd', join(drop, 'escape'));
    await ok(['mkvob', '--tag', 'm', join(root, 'm.vob')], { home });
    await ok(['fsimport', '--vob', 'm', '--recurse', `${drop}/.`, '.'], { home });

    const view = join(root, 'view');
    await ok(['mkview', '--snapshot', '--tag', 'mv', '--vob', 'm', view], { home });
    const inView = (...args: string[]) => ok(args, { home, cwd: view });
    expect(perms(join(view, 'run.sh'))).toBe(loadedExec);
    expect(perms(join(view, 'a.txt'))).toBe(loadedPlain);
    expect(lstatSync(join(view, 'link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(view, 'link'))).toBe('a.txt');
    expect(readFileSync(join(view, 'link'), 'utf8')).toBe('alpha\n');
    expect(readlinkSync(join(view, 'escape'))).toBe('../../../../etc/passwd');

    // Nothing changed: no file loaded again, none taken for hijacked (a link is judged by its target).
    expect((await inView('update')).stdout).toMatch(/^0 loaded, 6 unchanged\./);
    const listed = await json<LsRow[]>(['ls', '.'], { home, cwd: view });
    expect(listed.map((e) => [e.name, e.mode, e.hijacked])).toEqual([
      ['a.txt', null, false],
      ['escape', 'symlink', false],
      ['link', 'symlink', false],
      ['other', null, false],
      ['run.sh', 'executable', false],
    ]);

    // New versions that only change modes: the exec bit flipped both ways, a symlink became a file and a file a symlink.
    chmodSync(join(drop, 'a.txt'), 0o755);
    chmodSync(join(drop, 'run.sh'), 0o644);
    rmSync(join(drop, 'link'));
    writeFileSync(join(drop, 'link'), 'a.txt');
    rmSync(join(drop, 'other'));
    symlinkSync('run.sh', join(drop, 'other'));
    expect((await ok(['fsimport', '--vob', 'm', '--recurse', `${drop}/.`, '.'], { home })).stdout).toContain(
      '0 new elements, 4 new versions',
    );
    const updated = await inView('update');
    expect(updated.stdout).toContain('4 loaded, 2 unchanged.');
    expect(perms(join(view, 'a.txt'))).toBe(loadedExec);
    expect(perms(join(view, 'run.sh'))).toBe(loadedPlain);
    expect(lstatSync(join(view, 'link')).isFile()).toBe(true);
    expect(readFileSync(join(view, 'link'), 'utf8')).toBe('a.txt');
    expect(readlinkSync(join(view, 'other'))).toBe('run.sh');
    expect((await inView('update')).stdout).toMatch(/^0 loaded, 6 unchanged\./);

    // A hand-made change of a link's target is a hijack, as a file's bytes are.
    rmSync(join(view, 'escape'));
    symlinkSync('elsewhere', join(view, 'escape'));
    expect((await inView('update')).stdout).toContain('Keeping hijacked object "escape"');
    rmSync(join(view, 'escape'));
    symlinkSync('../../../../etc/passwd', join(view, 'escape'));

    // Checkin records the file's mode: the exec bit set on unchanged bytes is a change of its own.
    await inView('checkout', 'other');
    await inView('checkout', 'a.txt');
    expect(perms(join(view, 'a.txt'))).toBe(0o7);
    chmodSync(join(view, 'a.txt'), 0o644);
    await inView('checkin', 'a.txt');
    expect(perms(join(view, 'a.txt'))).toBe(loadedPlain);
    // The checked-out symlink re-pointed, and a view-private executable and symlink made elements.
    rmSync(join(view, 'other'));
    symlinkSync('a.txt', join(view, 'other'));
    await inView('checkin', 'other');
    writeFileSync(join(view, 'tool'), '#!/bin/sh\n');
    chmodSync(join(view, 'tool'), 0o755);
    symlinkSync('tool', join(view, 'tool-link'));
    await inView('checkout', '.');
    await inView('mkelem', 'tool');
    await inView('mkelem', 'tool-link');
    await inView('checkin', '.');
    const mode = async (path: string) =>
      (await json<{ versions?: { mode?: string }[]; mode?: string }>(['describe', '--vob', 'm', path], { home })).mode ?? null;
    expect([await mode('a.txt'), await mode('other'), await mode('tool'), await mode('tool-link')]).toEqual([
      null,
      'symlink',
      'executable',
      'symlink',
    ]);
    expect((await ok(['cat', '--vob', 'm', 'other'], { home })).stdout).toBe('a.txt');

    // What the view checked in loads back the same in another view.
    const second = join(root, 'second');
    await ok(['mkview', '--snapshot', '--tag', 'mv2', '--vob', 'm', second], { home });
    expect(perms(join(second, 'a.txt'))).toBe(loadedPlain);
    expect(perms(join(second, 'tool'))).toBe(loadedExec);
    expect(readlinkSync(join(second, 'other'))).toBe('a.txt');
    expect(readlinkSync(join(second, 'tool-link'))).toBe('tool');
    expect((await inView('update')).stdout).toMatch(/^0 loaded, 8 unchanged\./);
  });

  it('a mode a view checks in replicates with its version', async () => {
    const root = tempDir('msite-viewmodes-sync-');
    const [boston, bangalore] = await family(root, ['boston_hub', 'bangalore']);
    const view = join(root, 'bview');
    await boston!.run('mkview', '--snapshot', '--tag', 'bv', '--vob', '/vobs/dev', view);
    const inView = (...args: string[]) => ok(args, { home: boston!.home, cwd: view });
    writeFileSync(join(view, 't.sh'), '#!/bin/sh\n');
    chmodSync(join(view, 't.sh'), 0o755);
    await inView('mkelem', '--auto', 't.sh');
    await inView('checkout', 't.sh');
    chmodSync(join(view, 't.sh'), 0o644);
    await inView('checkin', 't.sh');
    await bangalore!.run('syncreplica', '--import', ...(await boston!.exportTo('bangalore')));
    const mode = async (v: string) => (await bangalore!.json<{ mode?: string }>('describe', `t.sh@@/main/${v}`)).mode ?? null;
    expect([await mode('1'), await mode('2')]).toEqual(['executable', null]);
  });

  it('a view loaded before modes were kept gets them on its next update', async () => {
    const root = tempDir('msite-viewmodes-old-');
    const home = join(root, 'home');
    const drop = join(root, 'drop');
    mkdirSync(drop);
    writeFileSync(join(drop, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(drop, 'run.sh'), 0o755);
    await ok(['mkvob', '--tag', 'o', join(root, 'o.vob')], { home });
    await ok(['fsimport', '--vob', 'o', '--recurse', `${drop}/.`, '.'], { home });
    const view = join(root, 'view');
    await ok(['mkview', '--snapshot', '--tag', 'ov', '--vob', 'o', view], { home });
    // As an older msite left it: a plain read-only file, no mode recorded, and the view marked clean in the old form.
    chmodSync(join(view, 'run.sh'), 0o444);
    const db = new BetterSqlite3(join(view, '.msite', 'view.db'));
    db.prepare('UPDATE loaded SET mode = NULL').run();
    const clean = db.prepare("SELECT value FROM meta WHERE key = 'clean_at'").pluck().get() as string;
    db.prepare("UPDATE meta SET value = ? WHERE key = 'clean_at'").run(JSON.stringify((JSON.parse(clean) as unknown[]).slice(1)));
    db.close();
    expect((await ok(['update'], { home, cwd: view })).stdout).toMatch(/^Loading "run.sh" \(\/main\/1\)\.\n1 loaded, 1 unchanged\./);
    expect(perms(join(view, 'run.sh'))).toBe(loadedExec);
  });

  it('a gitimported tag loads into a view with its executable and its symlink', async () => {
    const root = tempDir('msite-viewmodes-git-');
    const home = join(root, 'home');
    const repo = join(root, 'repo');
    mkdirSync(join(repo, 'bin'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=A', '-c', 'user.email=a@example.org', ...args]);
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'bin', 'tool'), '#!/bin/sh\n');
    chmodSync(join(repo, 'bin', 'tool'), 0o755);
    symlinkSync('bin/tool', join(repo, 'tool'));
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    git('tag', 'v1');
    // On main afterwards the tool is a plain file: the label, not /main/LATEST, brings the exec bit back.
    chmodSync(join(repo, 'bin', 'tool'), 0o644);
    git('commit', '-q', '-am', 'two');
    await ok(['mkvob', '--tag', 'g', join(root, 'g.vob')], { home });
    await ok(['gitimport', '--vob', 'g', repo], { home });
    const spec = join(root, 'v1.cs');
    writeFileSync(spec, 'element * v1\nload /\n');
    const view = join(root, 'view');
    await ok(['mkview', '--snapshot', '--tag', 'gv', '--vob', 'g', view], { home });
    expect(perms(join(view, 'bin', 'tool'))).toBe(loadedPlain);
    expect((await ok(['setcs', spec], { home, cwd: view })).stdout).toContain('Loading "bin/tool" (/main/1).');
    expect(perms(join(view, 'bin', 'tool'))).toBe(loadedExec);
    expect(readlinkSync(join(view, 'tool'))).toBe('bin/tool');
    expect((await ok(['update'], { home, cwd: view })).stdout).toMatch(/^0 loaded, 4 unchanged\./);
  });
});

describe('new elements in a view', () => {
  it('mkelem through a -mkbranch rule that selects /main/0 puts the first version on that branch', async () => {
    const root = tempDir('msite-viewmkelem-');
    const home = join(root, 'home');
    await ok(['mkvob', '--tag', 'm', join(root, 'm.vob')], { home });
    await ok(['mkbrtype', '--vob', 'm', 'dev'], { home });
    const view = join(root, 'view');
    await ok(['mkview', '--snapshot', '--tag', 'mv', '--vob', 'm', view], { home });
    const cs = join(root, 'dev.cs');
    writeFileSync(
      cs,
      'element * CHECKEDOUT\nelement * .../dev/LATEST\nelement -file * /main/0 -mkbranch dev\nelement * /main/LATEST\nload /\n',
    );
    const inView = (...args: string[]) => ok(args, { home, cwd: view });
    await inView('setcs', cs);
    writeFileSync(join(view, 'new.c'), 'int n;\n');
    await inView('mkelem', '--auto', 'new.c');
    const listed = await json<LsRow[]>(['ls', '.'], { home, cwd: view });
    expect(listed.find((e) => e.name === 'new.c')).toMatchObject({ version: '/main/dev/1', hijacked: false });
    expect((await inView('update')).stdout).toMatch(/^0 loaded/);
  });
});
