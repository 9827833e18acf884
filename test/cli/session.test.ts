import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { json, msite, ok, tempDir } from '../helpers/cli.js';

interface VtreeEntry {
  version: string;
  branch: string;
  number: number;
  labels: string[];
}

describe('a scripted VOB session through the CLI', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const run = (...args: string[]) => ok(args, { home });
  const file = (name: string, bytes: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const contents: Record<string, Buffer> = {
    '/main/1': Buffer.from('int main(void) { return 1; }\n'),
    '/main/2': Buffer.from([0, 1, 2, 255, 254, 10, 13, 0, 0x80, 0x7f, ...Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)]),
    '/main/3': Buffer.from('int main(void) { return 3; }\n'),
    '/main/dev/1': Buffer.from('dev one\n'),
    '/main/dev/2': Buffer.from('dev two\n'.repeat(20000)),
  };

  beforeAll(async () => {
    await run('mkvob', '--tag', '/vobs/t', join(dir, 't.vob'));
    await run('mkdir', '--auto', 'src');
    await run('mkelem', '--auto', '-c', 'new file', 'src/a.c');
    for (const v of ['/main/1', '/main/2', '/main/3']) {
      await run('checkout', 'src/a.c');
      await run('checkin', '--from', file(v.replace(/\//g, '_'), contents[v]!), '-c', `version ${v}`, 'src/a.c');
    }
    await run('mkbrtype', 'dev');
    await run('mkbranch', 'dev', 'src/a.c');
    await run('checkout', 'src/a.c@@/main/dev');
    await run('checkin', '--from', file('dev1', contents['/main/dev/1']!), 'src/a.c');
    const spec = file('dev.cs', 'element * CHECKEDOUT\nelement * .../dev/LATEST\nelement * /main/LATEST\n');
    await run('checkout', '--config', spec, 'src/a.c');
    await run('checkin', '--config', spec, '--from', file('dev2', contents['/main/dev/2']!), 'src/a.c');
    await run('mklbtype', 'REL1');
    await run('mklabel', 'REL1', 'src/a.c@@/main/dev/2');
    await run('mklabel', 'REL1', 'src@@/main/LATEST');
  });

  it('lsvtree --json shows every version with its labels', async () => {
    const tree = await json<VtreeEntry[]>(['lsvtree', 'src/a.c'], { home });
    expect(tree.map((v) => [v.version, v.labels])).toEqual([
      ['src/a.c@@/main/0', []],
      ['src/a.c@@/main/1', []],
      ['src/a.c@@/main/2', []],
      ['src/a.c@@/main/3', []],
      ['src/a.c@@/main/dev/0', []],
      ['src/a.c@@/main/dev/1', []],
      ['src/a.c@@/main/dev/2', ['REL1']],
    ]);
  });

  it('cat returns the exact bytes checked in, text and binary', async () => {
    for (const [v, bytes] of Object.entries(contents)) {
      expect((await msite(['cat', `src/a.c@@${v}`], { home })).raw.equals(bytes), v).toBe(true);
    }
    expect((await msite(['cat', 'src/a.c@@/main/0'], { home })).raw.length).toBe(0);
    expect((await msite(['cat', 'src/a.c@@/main/dev/0'], { home })).raw.equals(contents['/main/3']!)).toBe(true);
    expect((await msite(['cat', 'src/a.c@@REL1'], { home })).raw.equals(contents['/main/dev/2']!)).toBe(true);
    expect((await msite(['cat', 'src/a.c@@/main/LATEST'], { home })).raw.equals(contents['/main/3']!)).toBe(true);
    expect((await msite(['cat', 'src/a.c'], { home })).raw.equals(contents['/main/3']!)).toBe(true);
  });

  it('describe --json shows the oid and the master', async () => {
    const version = await json<Record<string, unknown>>(['describe', 'src/a.c@@/main/dev/1'], { home });
    expect(version).toMatchObject({ kind: 'version', number: 1, branch: '/main/dev', master: 'original' });
    expect(version.oid).toMatch(/^[0-9a-f-]{36}$/);
    const type = await json<Record<string, unknown>>(['describe', 'lbtype:REL1'], { home });
    expect(type).toMatchObject({ kind: 'lbtype', name: 'REL1', master: 'original', shared: false });
    const branch = await json<Record<string, unknown>>(['describe', 'src/a.c@@/main/dev'], { home });
    expect(branch).toMatchObject({ kind: 'branch', master: 'original', mastership: 'default' });
    const replica = await json<Record<string, unknown>>(['describe', 'replica:original'], { home });
    expect(replica).toMatchObject({ kind: 'replica', name: 'original', self: true, master: 'original' });
  });

  it('lshistory lists every change, in order, with dense ids', async () => {
    const history = await json<{ kind: string; id: number; origin: string; summary: string }[]>(['lshistory'], { home });
    expect(history.map((h) => h.id)).toEqual(history.map((_, i) => i + 1));
    expect(history.every((h) => h.origin === 'original')).toBe(true);
    const kinds = history.map((h) => h.kind);
    // 7 ops create the VOB; then each command's ops in order.
    expect(kinds.slice(7)).toEqual([
      'checkout',
      'mkelem',
      'checkin', // mkdir --auto src
      'checkout',
      'mkelem',
      'checkin', // mkelem --auto src/a.c
      'checkout',
      'checkin',
      'checkout',
      'checkin',
      'checkout',
      'checkin',
      'mktype',
      'mkbranch',
      'checkout',
      'checkin',
      'checkout',
      'checkin',
      'mktype',
      'mklabel',
      'mklabel',
    ]);
    expect(history.at(-2)!.summary).toBe('attached label "REL1" to version "src/a.c@@/main/dev/2"');
    const since = await json<unknown[]>(['lshistory', '--since', '2999-01-01'], { home });
    expect(since).toEqual([]);
  });

  it('ls shows the directory through the config spec', async () => {
    const rows = await json<{ name: string; version: string }[]>(['ls', 'src'], { home });
    expect(rows).toEqual([expect.objectContaining({ name: 'a.c', version: '/main/3', kind: 'file' })]);
    expect((await ok(['ls', '-invob', '/vobs/t', '.'], { home })).stdout).toContain('src@@/main/1    Rule: element * /main/LATEST');
  });

  it('lsvob and lstype list what was made', async () => {
    expect(JSON.parse((await ok(['lsvob', '--json', '--home', home])).stdout)).toEqual([
      expect.objectContaining({ tag: '/vobs/t', replica: 'original' }),
    ]);
    expect((await json<{ name: string }[]>(['lstype', '--kind', 'brtype'], { home })).map((t) => t.name)).toEqual(['dev', 'main']);
    expect((await json<{ name: string }[]>(['lstype', '-kind', 'eltype'], { home })).map((t) => t.name)).toEqual([
      'directory',
      'file',
      'text_file',
    ]);
  });
});
