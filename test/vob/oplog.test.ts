import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOplog } from '../../src/vob/ops/applyOp.js';
import { Vob } from '../../src/vob/vob.js';
import { json, msite, msiteBinary, ok, tempDir } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

describe('the oplog', () => {
  const top = tempDir();

  /** A VOB of the test's own, with a directory src and a file x to check in. */
  async function newVob(): Promise<{ dir: string; home: string; vobDir: string; opCount: () => Promise<number> }> {
    const dir = mkdtempSync(join(top, 'case-'));
    const home = join(dir, 'home');
    const vobDir = join(dir, 'v.vob');
    await ok(['mkvob', '--tag', 'v', vobDir], { home });
    await ok(['mkdir', '--auto', 'src'], { home });
    writeFileSync(join(dir, 'x'), 'x\n');
    return { dir, home, vobDir, opCount: async () => (await json<unknown[]>(['lshistory'], { home })).length };
  }

  it('gets exactly one entry per change, with dense ids', async () => {
    const { dir, home, vobDir, opCount } = await newVob();
    const steps: [string[], number][] = [
      [['mklbtype', 'A'], 1],
      [['mklbtype', 'B', 'C'], 2],
      [['mkelem', '--auto', 'src/f'], 3],
      [['checkout', 'src/f'], 1],
      [['checkin', '--from', join(dir, 'x'), 'src/f'], 1],
      [['mklabel', 'A', 'src/f'], 1],
      [['rename', 'lbtype:C', 'D'], 1],
      [['lock', 'lbtype:D'], 1],
      [['unlock', 'lbtype:D'], 1],
      [['rmtype', 'lbtype:D'], 1],
    ];
    for (const [args, expected] of steps) {
      const before = await opCount();
      await ok(args, { home });
      expect((await opCount()) - before, args.join(' ')).toBe(expected);
    }
    const vob = Vob.open(vobDir);
    try {
      const ids = readOplog(vob).map((e) => e.id);
      expect(ids).toEqual(ids.map((_, i) => i + 1));
    } finally {
      vob.close();
    }
  });

  it('survives a restart: a new process sees the same entries and continues the ids', async () => {
    const { home } = await newVob();
    await ok(['mklbtype', 'A', 'B'], { home });
    const history = (): { id: number; kind: string; at: string }[] => {
      const r = msiteBinary(['lshistory', '--json'], { home });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { id: number; kind: string; at: string }[];
    };
    const before = history();
    expect(msiteBinary(['mkbrtype', 'later'], { home }).status).toBe(0);
    const after = history();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.at(-1)).toMatchObject({ id: before.length + 1, kind: 'mktype' });
  });

  it('a failing command adds no op and no partial state', async () => {
    const { dir, home, vobDir } = await newVob();
    for (const args of [
      ['mklbtype', 'A'],
      ['mkelem', '--auto', 'src/f'],
      ['checkout', 'src/f'],
      ['checkin', '--from', join(dir, 'x'), 'src/f'],
      ['mklabel', 'A', 'src/f'],
    ])
      await ok(args, { home });
    await ok(['mklbtype', 'DUP'], { home });
    const cases: [string[], RegExp][] = [
      [['checkin', 'src/f'], /is not checked out/],
      [['mklabel', 'NOSUCH', 'src/f'], /lbtype not found: "NOSUCH"/],
      [['mklbtype', 'NEW1', 'DUP'], /lbtype already exists: "DUP"/],
      [['mkelem', '--auto', 'src/f'], /already exists: "f"/],
      [['mkelem', '--auto', '--from', join(dir, 'missing'), 'src/g'], /cannot read --from file/],
      [['mkbranch', 'nosuch', 'src/f'], /brtype not found/],
      [['checkout', 'src/f@@/main/0'], /not the latest version/],
      [['rmtype', 'brtype:main'], /branches use it/],
      [['mklabel', 'A', 'src/f'], /already on "src\/f@@\/main\/1"/],
    ];
    for (const [args, message] of cases) {
      const before = snapshot(vobDir);
      const r = await msite(args, { home });
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^msite: error: /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(snapshot(vobDir), args.join(' ')).toEqual(before);
    }
  });
});
