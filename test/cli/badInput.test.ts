import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/vob/schema.js';
import { msite, ok, tempDir } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

describe('bad input gets one clear error line and changes nothing', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const vobDir = join(dir, 'b.vob');
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  beforeAll(async () => {
    await ok(['mkvob', '--tag', 'b', vobDir], { home });
    await ok(['mkdir', '--auto', 'src'], { home });
    await ok(['mkelem', '--auto', '--from', file('a', 'a\n'), 'src/a.c'], { home });
    mkdirSync(join(dir, 'notavob'));
    writeFileSync(join(dir, 'notavob', 'vob.db'), 'this is not a database at all, just text '.repeat(200));
    mkdirSync(join(dir, 'empty'));
  });

  const cases: [string, string[], number, RegExp][] = [
    ['unknown path', ['cat', 'src/nope.c'], 1, /element not found: "src\/nope.c"/],
    ['unknown path below a file', ['ls', 'src/a.c/x'], 1, /element not found/],
    ['malformed extended name: trailing slash', ['cat', 'src/a.c@@/main/'], 1, /malformed version-extended name "src\/a.c@@\/main\/"/],
    ['malformed extended name: not from main', ['cat', 'src/a.c@@/dev/3'], 1, /malformed version-extended name/],
    ['malformed extended name: junk after number', ['cat', 'src/a.c@@/main/1/x/'], 1, /malformed version-extended name/],
    ['malformed extended name: negative', ['cat', 'src/a.c@@/main/-1'], 1, /malformed version-extended name/],
    ['malformed extended name: double @@', ['cat', 'src/a.c@@@@'], 1, /malformed version-extended name/],
    ['version that does not exist', ['cat', 'src/a.c@@/main/9'], 1, /version not found: "src\/a.c@@\/main\/9"/],
    ['branch that does not exist', ['cat', 'src/a.c@@/main/dev/1'], 1, /branch not found/],
    ['unknown label in extended name', ['cat', 'src/a.c@@NOLABEL'], 1, /lbtype not found: "NOLABEL"/],
    [
      'bad selector in config spec',
      ['ls', '--config', file('bad1.cs', 'element * /main/\n'), 'src'],
      1,
      /bad1.cs, line 1: bad version selector "\/main\/"/,
    ],
    [
      'unknown config rule',
      ['ls', '--config', file('bad2.cs', '# ok\nelement * CHECKEDOUT\nfile * /main/LATEST\n'), 'src'],
      1,
      /bad2.cs, line 3: unknown rule "file"/,
    ],
    [
      'config rule without selector',
      ['ls', '--config', file('bad3.cs', 'element *\n'), 'src'],
      1,
      /line 1: a rule needs a pattern and a version selector/,
    ],
    [
      'bad -mkbranch',
      ['ls', '--config', file('bad4.cs', 'element * /main/LATEST -mkbranch\n'), 'src'],
      1,
      /line 1: unexpected "-mkbranch"/,
    ],
    ['unreadable config file', ['ls', '--config', join(dir, 'nope.cs'), 'src'], 1, /cannot read config spec .*nope.cs: no such file/],
    [
      'unreadable --from file',
      ['checkin', '--from', join(dir, 'missing'), 'src/a.c'],
      1,
      /cannot read --from file .*missing: no such file/,
    ],
    ['--from a directory', ['mkelem', '--auto', '--from', dir, 'src/d'], 1, /cannot read --from file .*: it is a directory/],
    ['bad type selector', ['rename', 'lbtype:', 'X'], 1, /bad selector "lbtype:"/],
    ['bad kind', ['lstype', '--kind', 'widget'], 2, /bad --kind "widget"/],
    ['bad type name', ['mklbtype', '9lives'], 1, /invalid lbtype name "9lives"/],
    ['reserved label name', ['mklbtype', 'LATEST'], 1, /reserved/],
    ['bad element name', ['mkelem', '--auto', 'src/a@@b'], 1, /"src\/a@@b" is a version-extended name; give a plain path/],
    ['bad --since', ['lshistory', '--since', 'yesterday-ish'], 1, /bad --since time "yesterday-ish"/],
    ['unknown VOB tag', ['ls', '--vob', 'nosuchtag'], 1, /VOB tag not found: "nosuchtag"/],
  ];

  it.each(cases)('%s', async (_name, args, status, message) => {
    const before = snapshot(vobDir);
    const r = await msite(args, { home });
    expect(r.status).toBe(status);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^msite: error: /);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(snapshot(vobDir)).toEqual(before);
  });

  it('a directory that is not a VOB', async () => {
    for (const d of [join(dir, 'notavob'), join(dir, 'empty')]) {
      const r = await msite(['ls', '--vob', d], { home });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^msite: error: not a VOB: ${d}`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('a VOB with a newer schema version is refused, untouched', async () => {
    // In a home of its own: the cases above name no VOB, and need theirs to be the only one.
    const newerHome = join(dir, 'newer-home');
    const newer = join(dir, 'newer.vob');
    await ok(['mkvob', '--tag', 'newer', newer], { home: newerHome });
    const db = new BetterSqlite3(join(newer, 'vob.db'));
    db.pragma('user_version = 99');
    db.close();
    const before = snapshot(newer);
    const r = await msite(['ls', '--vob', 'newer'], { home: newerHome });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^msite: error: cannot open VOB .*newer.vob: its schema version 99 is newer than this msite supports \\(${SCHEMA_VERSION}\\) \\(upgrade msite\\)\n$`,
      ),
    );
    expect(snapshot(newer)).toEqual(before);
  });

  it('mkvob refuses a taken tag and a used directory, leaving nothing behind', async () => {
    expect((await msite(['mkvob', '--tag', 'b', join(dir, 'other.vob')], { home })).stderr).toMatch(/VOB tag already exists: "b"/);
    expect((await msite(['ls', '--vob', join(dir, 'other.vob')], { home })).stderr).toMatch(/not a VOB/);
    expect((await msite(['mkvob', '--tag', 'c', vobDir], { home })).stderr).toMatch(/the path exists and is not an empty directory/);
  });

  it.each([
    ['unknown option', ['ls', '--frobnicate'], /unknown option '--frobnicate'/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['missing argument', ['mklabel', 'REL1'], /missing required argument 'paths'/],
    ['missing option value', ['lshistory', '--since'], /option '--since <time>' argument missing/],
  ])('usage error: %s exits 2', async (_n, args, message) => {
    const r = await msite(args, { home });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^msite: error: /);
    expect(r.stderr).toMatch(message);
  });

  it('no command at all prints the usage and exits 2', async () => {
    const r = await msite([], { home });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^Usage: msite \[options\] \[command\]/);
  });

  it('accepts both option spellings, and --opt=value', async () => {
    await ok(['mklbtype', '-c', 'one dash', '-invob', 'b', 'ONEDASH'], { home });
    expect((await ok(['lstype', '-kind', 'lbtype', '-json', '-invob', 'b'], { home })).stdout).toContain('"ONEDASH"');
    expect((await ok(['lstype', '--kind=lbtype', '--json', '--vob=b'], { home })).stdout).toContain('"ONEDASH"');
    expect((await ok(['lshistory', '-since', '2000-01-01', '-json', '-invob', 'b'], { home })).stdout).toContain('"mktype"');
    expect((await ok(['lshistory', '-since=2000-01-01', '-json', '--vob', 'b'], { home })).stdout).toContain('"mktype"');
  });
});
