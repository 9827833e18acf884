import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mklabel } from '../../src/vob/commands/annotations.js';
import { checkin, checkout, mkbranch } from '../../src/vob/commands/checkouts.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { cat } from '../../src/vob/commands/listing.js';
import { mktype } from '../../src/vob/commands/types.js';
import { parseConfigSpec } from '../../src/vob/configSpec.js';
import { createVob } from '../../src/vob/createVob.js';
import { versionId } from '../../src/vob/queries.js';
import { BulkSelection } from '../../src/vob/bulkSelection.js';
import { resolvePath } from '../../src/vob/resolvePath.js';
import type { Vob } from '../../src/vob/vob.js';

describe('path resolution through config specs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msite-resolve-'));
  let vob: Vob;
  const text = (s: string) => new TextEncoder().encode(s);

  beforeAll(() => {
    vob = createVob(join(dir, 'r.vob'), { tag: 'r' });
    mkelem(vob, 'src', { kind: 'directory', auto: true });
    mkelem(vob, 'src/a.c', { auto: true, content: text('main 1') });
    mkelem(vob, 'src/b.h', { auto: true, content: text('header 1') });
    mktype(vob, 'brtype', ['dev']);
    mktype(vob, 'lbtype', ['REL1']);
    mklabel(vob, 'REL1', ['src/a.c', 'src/b.h']);
    checkout(vob, 'src/a.c');
    checkin(vob, 'src/a.c', { content: text('main 2') });
  });
  afterAll(() => {
    vob.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('selects by the first matching rule', () => {
    const spec = parseConfigSpec('element *.c REL1\nelement * /main/LATEST\n');
    expect(versionId(vob, resolvePath(vob, 'src/a.c', spec).version!)).toBe('/main/1');
    expect(versionId(vob, resolvePath(vob, 'src/a.c').version!)).toBe('/main/2');
    expect(versionId(vob, resolvePath(vob, 'src/b.h', spec).version!)).toBe('/main/1');
  });

  it('checks out through a -mkbranch rule onto a new branch from the selected version', () => {
    const spec = parseConfigSpec('element * CHECKEDOUT\nelement * .../dev/LATEST\nelement * REL1 -mkbranch dev\nelement * /main/LATEST\n');
    expect(checkout(vob, 'src/a.c', { config: spec }).branch).toBe('/main/dev');
    checkin(vob, 'src/a.c', { content: text('dev 1'), config: spec });
    expect(versionId(vob, resolvePath(vob, 'src/a.c', spec).version!)).toBe('/main/dev/1');
    expect(cat(vob, 'src/a.c@@/main/dev/0').toString()).toBe('main 1');
    expect(cat(vob, 'src/a.c', spec).toString()).toBe('dev 1');
    expect(cat(vob, 'src/a.c@@.../dev/LATEST').toString()).toBe('dev 1');
  });

  it('shows a new name in a checked-out directory only through CHECKEDOUT', () => {
    checkout(vob, 'src');
    mkelem(vob, 'src/new.c');
    expect(resolvePath(vob, 'src/new.c').element.kind).toBe('file');
    expect(() => resolvePath(vob, 'src/new.c', parseConfigSpec('element * /main/LATEST\n'))).toThrow('element not found: "src/new.c"');
    checkin(vob, 'src');
    expect(resolvePath(vob, 'src/new.c', parseConfigSpec('element * /main/LATEST\n')).element.kind).toBe('file');
  });

  it('resolves a branch, an element, and branches from a branch', () => {
    expect(resolvePath(vob, 'src/b.h@@/main').extended).toBe('branch');
    expect(resolvePath(vob, 'src/b.h@@').extended).toBe('element');
    mkbranch(vob, 'dev', 'src/b.h@@REL1');
    expect(versionId(vob, resolvePath(vob, 'src/b.h@@/main/dev/0').version!)).toBe('/main/dev/0');
  });
});

describe('config spec rules that stop, refuse and qualify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msite-rules-'));
  let vob: Vob;
  const text = (s: string) => new TextEncoder().encode(s);

  beforeAll(() => {
    vob = createVob(join(dir, 'r.vob'), { tag: 'r' });
    mkelem(vob, 'src', { kind: 'directory', auto: true });
    mkelem(vob, 'src/a.c', { auto: true, content: text('a 1') });
    mkelem(vob, 'src/a.o', { auto: true, content: text('object') });
    mkelem(vob, 'src/secret', { auto: true, content: text('do not use') });
    mktype(vob, 'brtype', ['dev']);
  });
  afterAll(() => {
    vob.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('-none gives no version, -error refuses, -file and -directory qualify, in resolvePath and BulkSelection alike', () => {
    const spec = parseConfigSpec(
      'element *.o -none\nelement secret -error\nelement -directory * /main/LATEST\nelement -file * /main/LATEST\n',
      'rules.cs',
    );
    const bulk = new BulkSelection(vob, spec);
    const bulkOf = (path: string) => bulk.select(resolvePath(vob, path).element, path);
    expect(resolvePath(vob, 'src/a.o', spec).version).toBeUndefined();
    expect(bulkOf('src/a.o')).toBeUndefined();
    expect(() => resolvePath(vob, 'src/secret', spec)).toThrow(
      'rules.cs, line 2: "element secret -error" forbids selecting a version of "src/secret"',
    );
    expect(() => bulkOf('src/secret')).toThrow('forbids selecting');
    expect(bulkOf('src')!.rule.line).toBe(3);
    expect(bulkOf('src/a.c')!.rule.line).toBe(4);
    expect(versionId(vob, resolvePath(vob, 'src/a.c', spec).version!)).toBe('/main/1');
    // Directories at /main/0 (empty): nothing is found below them.
    const dirs = parseConfigSpec('element -directory src /main/0\nelement * /main/LATEST\n');
    expect(versionId(vob, resolvePath(vob, 'src', dirs).version!)).toBe('/main/0');
    expect(() => resolvePath(vob, 'src/a.c', dirs)).toThrow('element not found: "src/a.c"');
  });

  it('-nocheckout refuses a checkout of what the rule selects; a mkbranch block branches a checkout', () => {
    expect(() => checkout(vob, 'src/a.c', { config: parseConfigSpec('element * /main/LATEST -nocheckout\n', 'ro.cs') })).toThrow(
      'cannot check out "src/a.c": the rule that selects it, "element * /main/LATEST -nocheckout" (ro.cs, line 1), has -nocheckout',
    );
    const spec = parseConfigSpec('element * CHECKEDOUT\nelement * .../dev/LATEST\nmkbranch dev\nelement * /main/LATEST\nend mkbranch\n');
    expect(checkout(vob, 'src/a.c', { config: spec }).branch).toBe('/main/dev');
    checkin(vob, 'src/a.c', { content: text('a dev 1'), config: spec });
    expect(cat(vob, 'src/a.c', spec).toString()).toBe('a dev 1');
  });

  it('mkelem puts the first version on the branch a -mkbranch rule selecting /main/0 names', () => {
    const spec = parseConfigSpec(
      'element * CHECKEDOUT\nelement * .../dev/LATEST\nelement -file * /main/0 -mkbranch dev\nelement * /main/LATEST\n',
    );
    const made = mkelem(vob, 'src/new.c', { auto: true, content: text('new on dev'), config: spec });
    expect(versionId(vob, resolvePath(vob, 'src/new.c', spec).version!)).toBe('/main/dev/1');
    expect(resolvePath(vob, 'src/new.c', spec).version!.oid).toBe(made.version);
    expect(cat(vob, 'src/new.c', spec).toString()).toBe('new on dev');
    expect(versionId(vob, resolvePath(vob, 'src/new.c@@/main/LATEST').version!)).toBe('/main/0');
    // Without the rule: /main/1, as before.
    mkelem(vob, 'src/plain.c', {
      auto: true,
      content: text('on main'),
      config: parseConfigSpec('element * CHECKEDOUT\nelement * /main/LATEST\n'),
    });
    expect(versionId(vob, resolvePath(vob, 'src/plain.c').version!)).toBe('/main/1');
  });
});
