import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { msite, tempDir } from '../helpers/cli.js';
import { family } from '../helpers/sites.js';

describe('snapshot views at two sites', () => {
  it('update after an import loads exactly the new versions, and leaves a hijacked file alone unless --overwrite', async () => {
    const root = tempDir('msite-views-');
    const [boston, bangalore] = await family(root, ['boston_hub', 'bangalore']);
    const src = join(root, 'src-files');
    writeFileSync(src, 'one\n');
    await boston!.run('mkdir', '--auto', 'src');
    for (const name of ['a.c', 'b.c', 'c.c']) await boston!.run('mkelem', '--auto', '--from', src, `src/${name}`);
    await bangalore!.run('syncreplica', '--import', ...(await boston!.exportTo('bangalore')));

    const dir = join(root, 'bview');
    const made = await bangalore!.json<{ update: { entries: { action: string; path: string }[] } }>(
      'mkview',
      '--snapshot',
      '--tag',
      'bv',
      '--vob',
      '/vobs/dev',
      dir,
    );
    expect(made.update.entries.filter((e) => e.action === 'load').map((e) => e.path)).toEqual(['src/a.c', 'src/b.c', 'src/c.c']);
    expect(readFileSync(join(dir, 'src', 'b.c'), 'utf8')).toBe('one\n');
    const inView = (...args: string[]) => msite(args, { home: bangalore!.home, cwd: join(dir, 'src') });

    // boston_hub: a new version of a.c and a new element; bangalore imports them.
    writeFileSync(src, 'two\n');
    await boston!.run('checkout', 'src/a.c');
    await boston!.run('checkin', '--from', src, 'src/a.c');
    await boston!.run('mkelem', '--auto', '--from', src, 'src/d.c');
    await bangalore!.run('syncreplica', '--import', ...(await boston!.exportTo('bangalore')));

    const printed = await inView('update', '--print', '--json');
    expect(printed.status).toBe(0);
    const plan = JSON.parse(printed.stdout) as { entries: { action: string; path: string; version: string }[]; log: string | null };
    expect(plan.entries.map((e) => `${e.action} ${e.path} ${e.version}`)).toEqual(['load src/a.c /main/2', 'load src/d.c /main/1']);
    expect(readFileSync(join(dir, 'src', 'a.c'), 'utf8')).toBe('one\n');
    expect(existsSync(join(dir, 'src', 'd.c'))).toBe(false);

    const updated = await inView('update');
    expect(updated.stdout).toBe(
      `Loading "src/a.c" (/main/2).\nLoading "src/d.c" (/main/1).\n2 loaded, 3 unchanged. Log: ${readdirSync(join(dir, '.msite'))
        .filter((f) => f.endsWith('.updt'))
        .map((f) => join(dir, '.msite', f))
        .sort()
        .at(-1)}\n`,
    );
    expect(readFileSync(join(dir, 'src', 'a.c'), 'utf8')).toBe('two\n');
    const logs = readdirSync(join(dir, '.msite'))
      .filter((f) => f.endsWith('.updt'))
      .sort();
    expect(readFileSync(join(dir, '.msite', logs.at(-1)!), 'utf8')).toContain(
      'Loading "src/a.c" (/main/2).\nLoading "src/d.c" (/main/1).\n',
    );
    expect((await inView('update')).stdout).toMatch(/^0 loaded, 6 unchanged\./);

    // A hijack: b.c changed without a checkout.
    chmodSync(join(dir, 'src', 'b.c'), 0o644);
    writeFileSync(join(dir, 'src', 'b.c'), 'mine\n');
    const ls = JSON.parse((await inView('ls', '--json')).stdout) as {
      name: string;
      hijacked: boolean;
      viewPrivate: boolean;
      rule: string | null;
    }[];
    expect(ls.find((e) => e.name === 'b.c')).toMatchObject({ hijacked: true });
    expect(ls.find((e) => e.name === 'a.c')).toMatchObject({ hijacked: false, rule: 'element * /main/LATEST' });
    writeFileSync(join(dir, 'src', 'notes.txt'), 'private\n');
    expect((await inView('lsprivate')).stdout).toBe('src/notes.txt\n');
    expect((await inView('ls')).stdout).toMatch(/^src\/notes.txt +\[view private\]$/m);

    await boston!.run('checkout', 'src/b.c');
    await boston!.run('checkin', '--from', src, 'src/b.c');
    await bangalore!.run('syncreplica', '--import', ...(await boston!.exportTo('bangalore')));
    expect((await inView('update')).stdout).toMatch(/^Keeping hijacked object "src\/b.c" - base "\/main\/1"\.\n0 loaded/);
    expect(readFileSync(join(dir, 'src', 'b.c'), 'utf8')).toBe('mine\n');
    expect((await inView('update', '--overwrite')).stdout).toMatch(
      /^Hijacked "src\/b.c" kept as "src\/b.c.keep"; loading "src\/b.c" \(\/main\/2\)\./,
    );
    expect(readFileSync(join(dir, 'src', 'b.c'), 'utf8')).toBe('two\n');
    expect(readFileSync(join(dir, 'src', 'b.c.keep'), 'utf8')).toBe('mine\n');

    // bangalore does not master /main: MultiSite's refusal, naming reqmaster.
    const refused = await inView('checkout', 'a.c');
    expect(refused.stderr).toBe(
      'msite: error: Unable to perform operation "checkout" in replica "bangalore" of VOB "/vobs/dev": Master replica of branch "src/a.c@@/main" is "boston_hub" ' +
        '(request mastership with msite reqmaster src/a.c@@/main, or check out with --unreserved --nmaster (msite checkout --unreserved --nmaster src/a.c))\n',
    );
  });

  it('refuses a bad config spec by file and line, and says what is wrong with a removed view or VOB', async () => {
    const root = tempDir('msite-views-');
    const [boston] = await family(root, ['boston_hub']);
    await boston!.run('mkdir', '--auto', 'src');
    const dir = join(root, 'v1');
    await boston!.run('mkview', '--snapshot', '--tag', 'v1', dir);
    const cs = join(root, 'bad.cs');
    writeFileSync(cs, 'element * CHECKEDOUT\nelement * /main/LATEST\nload /src\nelement * /main/dev/\n');
    const before = (await boston!.run('catcs', '--view', 'v1')).stdout;
    const bad = await boston!.try('setcs', '--view', 'v1', cs);
    expect(bad.stderr).toBe(
      `msite: error: ${cs}, line 4: bad version selector "/main/dev/" (rules are "element [-file|-directory] PATTERN SELECTOR [-time DATE] [-mkbranch BRTYPE] [-nocheckout]", time and mkbranch blocks, "load PATH" and "include FILE")\n`,
    );
    expect((await boston!.run('catcs', '--view', 'v1')).stdout).toBe(before);

    rmSync(dir, { recursive: true, force: true });
    expect((await boston!.try('update', '--view', 'v1')).stderr).toBe(
      `msite: error: view "v1": its directory ${dir} is gone (it was removed by hand; drop its registration with msite rmview v1)\n`,
    );
    expect(await boston!.json('lsview')).toMatchObject([{ tag: 'v1', status: 'directory gone' }]);
    await boston!.run('rmview', 'v1');
    expect(await boston!.json('lsview')).toEqual([]);

    const dir2 = join(root, 'v2');
    await boston!.run('mkview', '--snapshot', '--tag', 'v2', dir2);
    rmSync(join(root, 'boston_hub.vob'), { recursive: true, force: true });
    const gone = await msite(['ls'], { home: boston!.home, cwd: dir2 });
    expect(gone.stderr).toBe(
      `msite: error: view "v2": its VOB /vobs/dev is gone from ${join(root, 'boston_hub.vob')} (remove the view with msite rmview v2)\n`,
    );
    expect((await msite(['update'], { home: boston!.home, cwd: root })).stderr).toMatch(/^msite: error: not in a view: /);
  });

  it('works in the view: checkout through -mkbranch, checkin of the file, diff --pred, new elements, rmname and mv, lsco', async () => {
    const root = tempDir('msite-views-');
    const [boston] = await family(root, ['boston_hub']);
    const src = join(root, 'a.txt');
    writeFileSync(src, 'one\ntwo\nthree\n');
    await boston!.run('mkdir', '--auto', 'src');
    await boston!.run('mkelem', '--auto', '--from', src, 'src/a.c');
    await boston!.run('mkbrtype', 'dev');
    const dir = join(root, 'v');
    await boston!.run('mkview', '--snapshot', '--tag', 'v', dir);
    const cs = join(root, 'dev.cs');
    writeFileSync(
      cs,
      'element * CHECKEDOUT\nelement * .../dev/LATEST\nelement *.c /main/LATEST -mkbranch dev\nelement * /main/LATEST\nload /\n',
    );
    const run = async (...args: string[]) => {
      const r = await msite(args, { home: boston!.home, cwd: join(dir, 'src') });
      if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await run('setcs', cs);
    expect(await run('checkout', 'a.c')).toBe('Checked out "src/a.c" from version "/main/dev/0".\n');
    writeFileSync(join(dir, 'src', 'a.c'), 'one\n2\nthree\n');
    expect(await run('diff', '--pred', 'a.c')).toBe('--- src/a.c@@/main/dev/0\n+++ src/a.c\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n');
    expect(JSON.parse(await run('lsco', '--json'))).toMatchObject([{ path: 'src/a.c', branch: '/main/dev', view: 'v', reserved: true }]);
    expect(await run('checkin', '-c', 'fix', 'a.c')).toBe('Checked in "src/a.c" version "/main/dev/1".\n');
    expect(await run('cat', '--vob', '/vobs/dev', 'src/a.c@@/main/dev/1')).toBe('one\n2\nthree\n');
    expect((await msite(['checkin', 'a.c'], { home: boston!.home, cwd: join(dir, 'src') })).stderr).toMatch(
      /"src\/a.c" is not checked out in this view/,
    );

    writeFileSync(join(dir, 'src', 'b.c'), 'new file\n');
    expect(await run('mkelem', '--auto', 'b.c')).toBe('Created file element "src/b.c".\n');
    // The spec's -mkbranch rule for *.c selects the new element's /main/0: its first version goes on dev.
    expect(await run('cat', '--vob', '/vobs/dev', 'src/b.c@@/main/dev/1')).toBe('new file\n');
    expect(await run('lsprivate')).toBe('');
    await run('checkout', '.');
    await run('mv', 'b.c', 'x.c');
    await run('uncheckout', '.');
    expect(readdirSync(join(dir, 'src')).sort()).toEqual(['a.c', 'b.c']);
    await run('checkout', '.');
    await run('mv', 'b.c', 'c.c');
    await run('rmname', 'a.c');
    await run('checkin', '.');
    expect(readdirSync(join(dir, 'src')).sort()).toEqual(['c.c']);
    expect((await run('ls', '--vob', '/vobs/dev', 'src')).split('\n')[0]).toMatch(/^src\/c.c@@\/main\/0/);
    expect(await run('update')).toMatch(/^0 loaded, 3 unchanged\./);
  });

  it('edcs through $EDITOR, update of one path, mkdir of a view-private directory, and a file an interrupted update left', async () => {
    const root = tempDir('msite-views-');
    const [boston] = await family(root, ['boston_hub']);
    const src = join(root, 'x.txt');
    writeFileSync(src, 'x\n');
    await boston!.run('mkdir', '--auto', 'a');
    await boston!.run('mkdir', '--auto', 'b');
    await boston!.run('mkelem', '--auto', '--from', src, 'a/x.c');
    await boston!.run('mkelem', '--auto', '--from', src, 'b/y.c');
    const dir = join(root, 'v');
    await boston!.run('mkview', '--snapshot', '--tag', 'v', dir);
    const inView = (...args: string[]) => msite(args, { home: boston!.home, cwd: dir, env: { EDITOR: `sed -i 's#^load /$#load /a#'` } });

    const edited = await inView('edcs');
    expect(edited.stdout).toBe(
      `Set the config spec of view "v".\nUnloaded "b/y.c".\nUnloaded directory "b".\n0 loaded, 3 unchanged. Log: ${edited.stdout.split('Log: ')[1]!.trim()}\n`,
    );
    expect((await inView('catcs')).stdout).toMatch(/\nload \/a\n$/);
    expect(existsSync(join(dir, 'b'))).toBe(false);

    mkdirSync(join(dir, 'a', 'new'));
    writeFileSync(join(dir, 'a', 'new', 'z.c'), 'z\n');
    expect((await inView('lsprivate')).stdout).toBe('a/new\n');
    await inView('checkout', 'a');
    expect((await inView('mkdir', 'a/new')).status).toBe(0);
    expect((await inView('mkelem', 'a/new/z.c')).stderr).toMatch(/directory "a\/new" is not checked out in this view/);
    expect((await inView('mkelem', '--auto', 'a/new/z.c')).status).toBe(0);
    expect((await inView('checkin', 'a')).status).toBe(0);
    expect((await inView('lsprivate')).stdout).toBe('');

    // boston_hub changes x.c outside the view; an update of another path leaves it.
    writeFileSync(src, 'x2\n');
    await boston!.run('checkout', '--vob', '/vobs/dev', 'a/x.c');
    await boston!.run('checkin', '--vob', '/vobs/dev', '--from', src, 'a/x.c');
    expect((await inView('update', 'a/new')).stdout).toMatch(/^0 loaded/);
    expect(readFileSync(join(dir, 'a', 'x.c'), 'utf8')).toBe('x\n');
    // A file written by an update that stopped before recording it: the next update takes it as loaded.
    const db = new BetterSqlite3(join(dir, '.msite', 'view.db'));
    db.prepare("DELETE FROM loaded WHERE path = 'a/x.c'").run();
    db.close();
    chmodSync(join(dir, 'a', 'x.c'), 0o644);
    writeFileSync(join(dir, 'a', 'x.c'), 'x2\n');
    const leftover = join(dir, 'a', `.x.c~msite-tmp~99999999~${hostname()}~1`);
    writeFileSync(leftover, 'half');
    expect((await inView('update')).stdout).toMatch(/^0 loaded, 5 unchanged/);
    expect(existsSync(leftover)).toBe(false);
    expect((await inView('ls', '--json', 'a')).stdout).toContain('"path": "a/x.c"');
  });
});
