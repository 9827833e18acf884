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

  it('gives the rules of time and mkbranch blocks their -time and -mkbranch, and parses -file, -directory, -nocheckout, -none, -error', () => {
    const spec = parseConfigSpec(
      [
        'element * CHECKEDOUT',
        'mkbranch dev',
        'time 2026-11-22T10:00Z',
        'element -file *.c .../dev/LATEST',
        'element *.h /main/LATEST -time 2026-11-01T00:00Z -mkbranch hdr',
        'end time',
        'element -directory src/... /main/LATEST -nocheckout',
        'end mkbranch dev',
        'mkbranch fix -override',
        'element *.y /main/LATEST -mkbranch other',
        'end mkbranch',
        'element *.o -none',
        'element secret -error',
        'element * /main/LATEST',
      ].join('\n'),
    );
    expect(
      spec.rules.map((r) => [
        r.line,
        r.elementKind ?? '',
        r.selector.kind,
        r.mkbranch ?? '',
        r.time ? new Date(r.time).toISOString() : '',
        r.nocheckout,
      ]),
    ).toEqual([
      [1, '', 'checkedout', '', '', false],
      [4, 'file', 'latest', 'dev', '2026-11-22T10:00:00.000Z', false],
      [5, '', 'latest', 'hdr', '2026-11-01T00:00:00.000Z', false],
      [7, 'directory', 'latest', 'dev', '', true],
      [10, '', 'latest', 'fix', '', false],
      [12, '', 'none', '', '', false],
      [13, '', 'error', '', '', false],
      [14, '', 'latest', '', '', false],
    ]);
    const bad: [string, string][] = [
      ['time 2026-11-22\nelement * /main/LATEST\n', 'line 1: the time block is not ended'],
      [
        'mkbranch a\nmkbranch b\nelement * /main/LATEST\nend mkbranch\nend mkbranch\n',
        'line 2: a mkbranch block is already open (line 1): nested mkbranch blocks are not supported',
      ],
      ['mkbranch a\nelement * /main/LATEST\nend mkbranch b\n', 'line 3: "end mkbranch b" ends the block of a (line 1)'],
      ['element * /main/LATEST\nend time\n', 'line 2: "end time" without a time block'],
      ['element * /main/LATEST\nend\n', 'line 2: "end" ends a time or mkbranch block'],
      ['element *.o -none -mkbranch dev\n', 'line 1: -none selects no version'],
      ['element -file *.c\n', 'line 1: a rule needs a pattern and a version selector'],
      ['time someday\nelement * /main/LATEST\nend time\n', 'line 1: '],
    ];
    for (const [text, message] of bad) expect(() => parseConfigSpec(text, 'cs'), text).toThrow(`cs, ${message}`);
  });
});
