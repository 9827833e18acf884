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
