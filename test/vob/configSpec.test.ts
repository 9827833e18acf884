import { describe, expect, it } from 'vitest';
import { compilePattern, parseBranchSelector, parseConfigSpec, parseSelector } from '../../src/vob/configSpec.js';

describe('config specs', () => {
  it('parses every selector form', () => {
    expect(parseSelector('CHECKEDOUT')).toEqual({ kind: 'checkedout' });
    expect(parseSelector('/main/LATEST')).toEqual({ kind: 'latest', branch: { anywhere: false, names: ['main'] } });
    expect(parseSelector('/main/dev/LATEST')).toEqual({ kind: 'latest', branch: { anywhere: false, names: ['main', 'dev'] } });
    expect(parseSelector('.../dev/LATEST')).toEqual({ kind: 'latest', branch: { anywhere: true, names: ['dev'] } });
    expect(parseSelector('/main/dev/3')).toEqual({ kind: 'number', branch: { anywhere: false, names: ['main', 'dev'] }, number: 3 });
    expect(parseSelector('REL1')).toEqual({ kind: 'label', name: 'REL1' });
    for (const bad of ['/main/', '/main', '/dev/LATEST', '//main/1', '/main/dev/-1', 'LATEST', '9x', '/main/LATEST/2']) {
      expect(parseSelector(bad), bad).toBeUndefined();
    }
  });

  it('parses branch paths after @@, with or without a version', () => {
    expect(parseBranchSelector('/main/dev', true)).toEqual({ branch: { anywhere: false, names: ['main', 'dev'] }, version: undefined });
    expect(parseBranchSelector('/main/dev', false)).toBeUndefined();
    expect(parseBranchSelector('/main/0', true)).toEqual({ branch: { anywhere: false, names: ['main'] }, version: 0 });
  });

  it('matches patterns by name, by path, and by subtree', () => {
    expect(compilePattern('*')('a/b/c.c')).toBe(true);
    expect(compilePattern('*.c')('src/x/a.c')).toBe(true);
    expect(compilePattern('*.c')('src/x/a.h')).toBe(false);
    expect(compilePattern('src/...')('src')).toBe(true);
    expect(compilePattern('src/...')('src/x/a.c')).toBe(true);
    expect(compilePattern('src/...')('srcx/a.c')).toBe(false);
    expect(compilePattern('/src/*.c')('src/a.c')).toBe(true);
    expect(compilePattern('src/*.c')('src/x/a.c')).toBe(false);
    expect(compilePattern('src/.../*.h')('src/x/y/a.h')).toBe(true);
  });

  it('parses rules with comments and -mkbranch, and names the line of an error', () => {
    const spec = parseConfigSpec(
      '# dev work\nelement * CHECKEDOUT\n\nelement *.c REL1 -mkbranch dev  # branch from REL1\nelement * /main/LATEST\n',
    );
    expect(spec.rules.map((r) => [r.line, r.pattern, r.selector.kind, r.mkbranch])).toEqual([
      [2, '*', 'checkedout', undefined],
      [4, '*.c', 'label', 'dev'],
      [5, '*', 'latest', undefined],
    ]);
    expect(() => parseConfigSpec('element * CHECKEDOUT\nelement * /main/x/\n', 'my.cs')).toThrow(
      'my.cs, line 2: bad version selector "/main/x/"',
    );
    expect(() => parseConfigSpec('# nothing\n', 'empty.cs')).toThrow('empty.cs: no rules');
    expect(() => parseConfigSpec('element * REL1 -mkbranch 3x\n')).toThrow('line 1: bad branch type name "3x"');
  });
});
