import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePath } from '../../src/vob/resolvePath.js';
import { Vob } from '../../src/vob/vob.js';
import { json, msite, ok, tempDir } from '../helpers/cli.js';

describe('fsimport', () => {
  it('imports a tree; again changes nothing; --preview changes nothing; --rmname drops a deleted file from the next directory version', async () => {
    const root = tempDir('msite-fsimport-');
    const home = join(root, 'home');
    const src = join(root, 'drop');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'sub', 'b.txt'), 'beta\n');
    writeFileSync(join(src, 'empty'), '');
    writeFileSync(join(src, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(src, 'run.sh'), 0o755);
    symlinkSync('a.txt', join(src, 'link'));
    await ok(['mkvob', '--tag', 'f', join(root, 'f.vob')], { home });
    const run = (...args: string[]) => ok(['fsimport', '--vob', 'f', ...args], { home });
    const opCount = async () => (await json<unknown[]>(['lshistory', '--vob', 'f'], { home })).length;
    const ls = (dir: string, config?: string) =>
      json<{ name: string; version: string; mode: string | null }[]>(['ls', '--vob', 'f', ...(config ? ['--config', config] : []), dir], {
        home,
      });

    const before = await opCount();
    const missing = await msite(['fsimport', '--vob', 'f', '--recurse', join(src, 'nothing-here'), '.'], { home });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^msite: error: cannot read source .*nothing-here/);
    expect(await opCount()).toBe(before);
    const r1 = await run('--recurse', '-c', 'vendor drop 1', `${src}/.`, '.');
    expect(r1.stdout).toContain('6 new elements, 1 new versions'); // and the root's new version
    expect((await ls('.')).map((e) => [e.name, e.mode])).toEqual([
      ['a.txt', null],
      ['empty', null],
      ['link', 'symlink'],
      ['run.sh', 'executable'],
      ['sub', null],
    ]);
    expect((await ok(['cat', '--vob', 'f', 'sub/b.txt'], { home })).stdout).toBe('beta\n');
    expect((await ok(['cat', '--vob', 'f', 'link'], { home })).stdout).toBe('a.txt');

    const afterFirst = await opCount();
    expect(afterFirst).toBeGreaterThan(before);
    const r2 = await run('--recurse', `${src}/.`, '.');
    expect(r2.stdout).toContain('0 new elements, 0 new versions, 0 names removed, 5 unchanged');
    expect(await opCount()).toBe(afterFirst);

    rmSync(join(src, 'sub', 'b.txt'));
    writeFileSync(join(src, 'sub', 'c.txt'), 'gamma\n');
    writeFileSync(join(src, 'a.txt'), 'alpha 2\n');
    const preview = await run('--recurse', '--rmname', '--preview', `${src}/.`, '.');
    expect(preview.stdout).toContain('Would remove name "sub/b.txt".');
    expect(preview.stdout).toContain('Would create a new version of "a.txt".');
    expect(await opCount()).toBe(afterFirst);

    const r3 = await run('--recurse', '--rmname', `${src}/.`, '.');
    expect(r3.stdout).toContain('1 new elements, 2 new versions, 1 names removed');
    expect((await ls('sub')).map((e) => `${e.name} ${e.version}`)).toEqual(['c.txt /main/1']);
    const old = join(root, 'old.cs');
    writeFileSync(old, 'element sub /main/1\nelement * /main/LATEST\n');
    expect((await ls('sub', old)).map((e) => e.name)).toEqual(['b.txt']);
    expect((await ok(['cat', '--vob', 'f', 'a.txt'], { home })).stdout).toBe('alpha 2\n');

    const r4 = await run('--recurse', '--identical', `${src}/.`, '.');
    expect(r4.stdout).toContain('0 new elements, 5 new versions');
  });
});

describe('fsimport and checkin storage', () => {
  it('a file changed a little in the next drop, or checked in with a small change, is stored as a delta against the version before', async () => {
    const root = tempDir('msite-fsimport-delta-');
    const home = join(root, 'home');
    const src = join(root, 'drop');
    mkdirSync(src);
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} of a vendor file\n`);
    writeFileSync(join(src, 'big.c'), lines.join(''));
    await ok(['mkvob', '--tag', 'f', join(root, 'f.vob')], { home });
    await ok(['fsimport', '--vob', 'f', `${src}/.`, '.'], { home });
    lines[100] = 'changed in drop 2\n';
    writeFileSync(join(src, 'big.c'), lines.join(''));
    await ok(['fsimport', '--vob', 'f', `${src}/.`, '.'], { home });
    lines[200] = 'changed by a checkin\n';
    const edited = join(root, 'edited.c');
    writeFileSync(edited, lines.join(''));
    await ok(['checkout', '--vob', 'f', 'big.c'], { home });
    await ok(['checkin', '--vob', 'f', '--from', edited, 'big.c'], { home });
    expect((await ok(['cat', '--vob', 'f', 'big.c'], { home })).stdout).toBe(lines.join(''));
    const vob = Vob.open(join(root, 'f.vob'), { readonly: true });
    try {
      const depthOf = (n: number) => vob.pool.deltaDepth(resolvePath(vob, `big.c@@/main/${n}`).version!.content!);
      expect([depthOf(1), depthOf(2), depthOf(3)]).toEqual([0, 1, 2]);
    } finally {
      vob.close();
    }
  });
});
