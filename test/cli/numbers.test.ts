import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { MAX_PACKET_SIZE } from '../../src/core/parseSize.js';
import { integerArg, sizeArg } from '../../src/cli/numberArgs.js';
import { msite, ok, tempDir } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

describe('number options parse one way', () => {
  it('sizes take bytes or k, m, g, above 0 and up to 2097151k', () => {
    const size = sizeArg('--maxsize');
    expect(size('1')).toBe(1);
    expect(size('500k')).toBe(500 * 1024);
    expect(size('20M')).toBe(20 * 1024 ** 2);
    expect(size('2097151k')).toBe(MAX_PACKET_SIZE);
    for (const bad of ['0', '-1', '', 'k', '1.5m', '2g', '3g', '2097152k', '1t', '99999999999999999999'])
      expect(() => size(bad), bad).toThrow(UsageError);
  });

  it('integers are decimal digits within their range', () => {
    const limit = integerArg('--limit', { min: 1, of: 'packets' });
    expect(limit('1')).toBe(1);
    expect(limit('007')).toBe(7);
    for (const bad of ['0', '-1', 'x', '', '1.0', '1e3', '0x10', ' 2', '99999999999999999999'])
      expect(() => limit(bad), bad).toThrow(UsageError);
    const port = integerArg('--port', { min: 0, max: 65535 });
    expect(port('0')).toBe(0);
    expect(port('65535')).toBe(65535);
    expect(() => port('65536')).toThrow(/^bad --port "65536": give a whole number from 0 to 65535$/);
  });
});

describe('a bad number on the command line is a usage error (exit 2), one line, and changes nothing', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const vobDir = join(dir, 'n.vob');
  const out = join(dir, 'out');

  beforeAll(async () => {
    await ok(['mkvob', '--tag', 'n', '--replica', 'here', vobDir], { home });
    mkdirSync(join(dir, 'creation'));
    await ok(['mkreplica', '--export', '--out', join(dir, 'creation'), 'far-host:far'], { home });
    await ok(['mklbtype', 'L1', 'L2'], { home });
    mkdirSync(out);
  });

  const cases: [string, string[], RegExp][] = [
    [
      '--maxsize -1',
      ['--maxsize', '-1'],
      /^msite: error: bad --maxsize "-1": give a size above 0, in bytes or with k, m or g \(e\.g\. 500k or 20m\)\n$/,
    ],
    ['--maxsize 0', ['--maxsize', '0'], /^msite: error: bad --maxsize "0": give a size above 0/],
    [
      '--maxsize 3g',
      ['--maxsize', '3g'],
      /^msite: error: bad --maxsize "3g": larger than MultiSite's maximum packet size of 2097151k \(give 2097151k or less; .*\)\n$/,
    ],
    ['-maxsize 2097152k', ['-maxsize', '2097152k'], /^msite: error: bad --maxsize "2097152k": larger than/],
    ['--limit 0', ['--maxsize', '1k', '--limit', '0'], /^msite: error: bad --limit "0": give a whole number of packets, at least 1\n$/],
    ['--limit x', ['--maxsize', '1k', '--limit', 'x'], /^msite: error: bad --limit "x": give a whole number of packets, at least 1\n$/],
    ['--limit=-3', ['--maxsize', '1k', '--limit=-3'], /^msite: error: bad --limit "-3"/],
  ];

  it.each(cases)('syncreplica --export %s', async (_name, args, message) => {
    const before = snapshot(vobDir);
    const r = await msite(['syncreplica', '--export', '--out', out, ...args, 'far'], { home });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stdout).toBe('');
    expect(readdirSync(out)).toEqual([]);
    expect(snapshot(vobDir)).toEqual(before);
  });

  it('serve --port 70000 is refused before the site home is touched', async () => {
    const fresh = join(dir, 'never');
    const r = await msite(['serve', '--port', '70000'], { home: fresh });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('msite: error: bad --port "70000": give a whole number from 0 to 65535 (0 picks a free port)\n');
    expect(existsSync(fresh)).toBe(false);
  });

  it('a good --maxsize at the maximum still exports', async () => {
    const r = await ok(['syncreplica', '--export', '--out', out, '--maxsize', '2097151k', '--limit', '1', 'far'], { home });
    expect(r.stdout).toMatch(/^Wrote /);
    expect(readdirSync(out)).toHaveLength(1);
  });
});
