import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkvob } from '../../src/replication/mkvob.js';
import { COMPRESS_MIN, ContentPool, INLINE_LIMIT, hexOrder } from '../../src/vob/contentPool.js';
import type { Vob } from '../../src/vob/vob.js';
import { tempDir } from '../helpers/cli.js';

describe('the content pool', () => {
  const root = tempDir();
  let n = 0;
  let vob: Vob;
  beforeEach(() => {
    vob = mkvob(join(root, `v${++n}`), { tag: 'v', replicaName: 'r' });
  });
  afterEach(() => vob.close());

  const text = (size: number, seed: number) => Buffer.from(`line ${seed}\n`.repeat(Math.ceil(size / 8)).slice(0, size));
  const stored = (sha: string) =>
    vob.db.prepare('SELECT codec, data FROM content WHERE sha = ?').get(Buffer.from(sha, 'hex')) as { codec: number; data: Buffer | null };

  it('keeps small blobs as given, deflates larger ones, and puts the largest in files', () => {
    const small = vob.pool.put(text(COMPRESS_MIN - 1, 1));
    const medium = vob.pool.put(text(4096, 2));
    const large = vob.pool.put(randomBytes(INLINE_LIMIT + 1));
    expect(stored(small).codec).toBe(0);
    expect(stored(medium).codec).toBe(1);
    expect(stored(large).data).toBeNull();
    for (const [sha, bytes] of [
      [small, text(COMPRESS_MIN - 1, 1)],
      [medium, text(4096, 2)],
    ] as const)
      expect(vob.pool.get(sha).equals(bytes)).toBe(true);
  });

  it('getMany returns every blob asked for, by range reads and look-ups alike', () => {
    const blobs = Array.from({ length: 1000 }, (_, i) => text(100 + (i % 700), i));
    const shas = vob.transaction(() => blobs.map((b) => vob.pool.put(b)));
    const big = randomBytes(INLINE_LIMIT + 10);
    const bigSha = vob.pool.put(big);
    // Every other blob: the ranges hold rows that were not asked for.
    const asked = shas.filter((_, i) => i % 2 === 0);
    const got = vob.pool.getMany([...asked, bigSha, asked[0]!]);
    expect(got.size).toBe(asked.length + 1);
    for (const sha of asked) expect(got.get(sha)!.equals(blobs[shas.indexOf(sha)]!)).toBe(true);
    expect(got.get(bigSha)!.equals(big)).toBe(true);
  });

  it('getMany names a missing or damaged blob as get does', () => {
    const shas = vob.transaction(() => Array.from({ length: 600 }, (_, i) => vob.pool.put(text(300, i))));
    const missing = ContentPool.hash(Buffer.from('never stored'));
    expect(() => vob.pool.getMany([...shas, missing])).toThrow(`content ${missing} is missing from the pool`);
    vob.db.prepare('UPDATE content SET data = ? WHERE sha = ?').run(Buffer.from('tampered'), Buffer.from(shas[300]!, 'hex'));
    expect(() => vob.pool.getMany(shas)).toThrow(`content ${shas[300]} in the pool is damaged`);
  });

  it('hexOrder sorts as Array.prototype.sort does, tied prefixes included', () => {
    const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
    // Shared 8-digit prefixes make the typed-array keys tie.
    const tied = fc.tuple(fc.constantFrom('00000000', 'ffffffff', '12345678'), hex).map(([p, h]) => p + h.slice(8));
    fc.assert(
      fc.property(fc.array(fc.oneof(hex, tied), { maxLength: 300 }), (values) => {
        expect(hexOrder(values).map((n) => values[n])).toEqual([...values].sort());
      }),
    );
  });

  it('forgets what a rolled-back transaction stored', () => {
    const bytes = text(200, 9);
    const sha = ContentPool.hash(bytes);
    expect(() =>
      vob.transaction(() => {
        vob.pool.put(bytes);
        expect(vob.pool.contains(sha)).toBe(true);
        throw new Error('take it back');
      }),
    ).toThrow('take it back');
    expect(vob.pool.contains(sha)).toBe(false);
    vob.transaction(() => {
      vob.transaction(() => vob.pool.put(bytes));
      expect(() =>
        vob.transaction(() => {
          vob.pool.put(text(201, 9));
          throw new Error('inner');
        }),
      ).toThrow('inner');
      expect(vob.pool.contains(sha)).toBe(true);
    });
    expect(vob.pool.get(sha).equals(bytes)).toBe(true);
  });
});
