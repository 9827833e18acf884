import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkvob } from '../../src/replication/mkvob.js';
import { CHUNK_BYTES, COMPRESS_MIN, ContentPool, DELTA_DEPTH, INLINE_LIMIT, hexOrder, type StagedBlob } from '../../src/vob/contentPool.js';
import { Vob } from '../../src/vob/vob.js';
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

  it('putAgainst stores a new version as a delta against its base when that pays, never deeper than DELTA_DEPTH', () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} of a source file that changes a little\n`);
    const versions: Buffer[] = [];
    let base: string | null = null;
    const shas: string[] = [];
    vob.transaction(() => {
      for (let v = 0; v < DELTA_DEPTH + 3; v++) {
        lines[(v * 31) % lines.length] = `changed in version ${v}\n`;
        versions.push(Buffer.from(lines.join('')));
        base = vob.pool.putAgainst(versions[v]!, base);
        shas.push(base);
      }
    });
    expect(shas.map((sha) => vob.pool.deltaDepth(sha))).toEqual(Array.from({ length: DELTA_DEPTH + 3 }, (_, v) => v % (DELTA_DEPTH + 1)));
    shas.forEach((sha, v) => expect(vob.pool.get(sha).equals(versions[v]!)).toBe(true));
    // Unrelated bytes, small ones and a missing base: stored as put stores them.
    const unrelated = vob.transaction(() => vob.pool.putAgainst(randomBytes(8192), shas[0]));
    const small = vob.transaction(() => vob.pool.putAgainst(Buffer.from('tiny'), shas[0]));
    const orphan = vob.transaction(() => vob.pool.putAgainst(text(4096, 9), 'ab'.repeat(32)));
    for (const sha of [unrelated, small, orphan]) expect(vob.pool.deltaDepth(sha)).toBe(0);
    expect(stored(unrelated).codec).not.toBe(2);
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

  it('sizesAndSmall gives every size and the verified bytes of small blobs kept in the database', () => {
    const blobs = Array.from({ length: 300 }, (_, i) => text(100 + i, i));
    const shas = vob.transaction(() => blobs.map((b) => vob.pool.put(b)));
    const medium = text(4096, 7); // deflated in the database
    const mediumSha = vob.pool.put(medium);
    const big = Buffer.alloc(200_000, 7); // deflated, but past the size asked for
    const bigSha = vob.pool.put(big);
    const inFile = randomBytes(INLINE_LIMIT + 10);
    const inFileSha = vob.pool.put(inFile);
    const missing = ContentPool.hash(Buffer.from('never stored'));
    vob.db.prepare('UPDATE content SET data = ? WHERE sha = ?').run(Buffer.from('tampered'), Buffer.from(shas[5]!, 'hex'));
    const { sizes, bytes } = vob.pool.sizesAndSmall([...shas, mediumSha, bigSha, inFileSha, missing, shas[0]!], 100_000);
    expect(sizes.size).toBe(shas.length + 3);
    expect([sizes.get(mediumSha), sizes.get(bigSha), sizes.get(inFileSha), sizes.get(missing)]).toEqual([
      medium.length,
      200_000,
      INLINE_LIMIT + 10,
      undefined,
    ]);
    // Left out: the damaged one (get names it), the one past 100,000 bytes, the one in a file.
    expect(bytes.size).toBe(shas.length);
    expect(bytes.has(shas[5]!)).toBe(false);
    for (const [i, sha] of shas.entries()) if (i !== 5) expect(bytes.get(sha)!.equals(blobs[i]!)).toBe(true);
    expect(bytes.get(mediumSha)!.equals(medium)).toBe(true);
    expect(() => vob.pool.get(shas[5]!)).toThrow(`content ${shas[5]} in the pool is damaged`);
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

  /** `bytes` as a source handing out pieces of `piece` bytes, as a file or a packet reader would. */
  async function* pieces(bytes: Buffer, piece = 256 * 1024): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
  }
  const gather = async (chunks: AsyncIterable<Buffer>, most = Infinity) => {
    const all: Buffer[] = [];
    for await (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(most);
      all.push(c);
    }
    return Buffer.concat(all);
  };
  const temporaries = () => readdirSync(join(vob.dir, 'pool')).filter((n) => n.includes('~msite-tmp~'));

  it('stages blobs larger than a chunk, commits them in a transaction, and reads them back in chunks', async () => {
    const random = randomBytes(CHUNK_BYTES * 2 + 123);
    const compressible = Buffer.from(randomBytes(CHUNK_BYTES * 1.5).toString('hex')); // deflates by about 45%
    const packed = text(CHUNK_BYTES + 5, 8); // deflates to under INLINE_LIMIT: stored in the database
    const small = text(3000, 9);
    const staged: StagedBlob[] = [];
    for (const bytes of [random, compressible, packed, small]) staged.push(await vob.pool.stage(pieces(bytes)));
    expect(staged.map((s) => s.size)).toEqual([random.length, compressible.length, packed.length, small.length]);
    expect(vob.pool.contains(staged[0]!.sha)).toBe(false);
    const shas = vob.transaction(() => staged.map((s) => vob.pool.commitStaged(s)));
    expect(shas).toEqual([random, compressible, packed, small].map((b) => ContentPool.hash(b)));
    expect(temporaries()).toEqual([]);
    // Random bytes are kept as given, in a file; compressible ones deflated.
    expect(stored(shas[0]!)).toEqual({ codec: 0, data: null });
    expect(stored(shas[1]!)).toEqual({ codec: 1, data: null });
    expect(stored(shas[2]!).codec).toBe(1);
    expect(stored(shas[2]!).data).not.toBeNull();
    for (const [i, bytes] of [random, compressible, packed, small].entries()) {
      expect(vob.pool.sizeOf(shas[i]!)).toBe(bytes.length);
      expect((await gather(vob.pool.chunks(shas[i]!, 100_000), 100_000)).equals(bytes)).toBe(true);
      expect(vob.pool.get(shas[i]!).equals(bytes)).toBe(true);
    }
    expect(() => vob.pool.sizeOf(ContentPool.hash(Buffer.from('none')))).toThrow('content not found');
  });

  it('a rolled-back commit records nothing, and the staged blob can be committed again', async () => {
    const bytes = randomBytes(CHUNK_BYTES + INLINE_LIMIT);
    const staged = await vob.pool.stage(pieces(bytes));
    expect(() =>
      vob.transaction(() => {
        vob.pool.commitStaged(staged);
        throw new Error('take it back');
      }),
    ).toThrow('take it back');
    expect(vob.pool.contains(staged.sha)).toBe(false);
    vob.transaction(() => vob.pool.commitStaged(staged));
    expect((await gather(vob.pool.chunks(staged.sha))).equals(bytes)).toBe(true);
    // Staged again once stored: the commit keeps the stored copy and drops the new one.
    const again = await vob.pool.stage(pieces(bytes));
    expect(vob.transaction(() => vob.pool.commitStaged(again))).toBe(staged.sha);
    expect(temporaries()).toEqual([]);
  });

  it('refuses a blob whose bytes do not hash to the expected SHA, and keeps nothing', async () => {
    for (const bytes of [randomBytes(CHUNK_BYTES * 2), text(100, 1)]) {
      const wrong = ContentPool.hash(Buffer.from('something else'));
      await expect(vob.pool.stage(pieces(bytes), { expectedSha: wrong })).rejects.toMatchObject({ code: 'INTEGRITY' });
      expect(temporaries()).toEqual([]);
      expect(vob.pool.contains(ContentPool.hash(bytes))).toBe(false);
    }
    const discarded = await vob.pool.stage(pieces(randomBytes(CHUNK_BYTES * 2)));
    expect(temporaries()).toHaveLength(1);
    discarded.discard();
    expect(temporaries()).toEqual([]);
    expect(() => vob.transaction(() => vob.pool.commitStaged(discarded))).toThrow('was discarded');
  });

  it('passes on what the source throws midway, and keeps nothing', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* pieces(randomBytes(CHUNK_BYTES * 2));
      throw new Error('the disk went away');
    }
    await expect(vob.pool.stage(failing())).rejects.toThrow('the disk went away');
    expect(temporaries()).toEqual([]);
  });

  it('chunks lets a consumer stop early, and a read-only open leaves temporary files alone', async () => {
    const bytes = Buffer.from(randomBytes(CHUNK_BYTES * 2).toString('hex'));
    const sha = vob.transaction(() => vob.pool.put(bytes));
    for await (const chunk of vob.pool.chunks(sha)) {
      expect(chunk.equals(bytes.subarray(0, CHUNK_BYTES))).toBe(true);
      break;
    }
    const left = join(vob.dir, 'pool', `.staged~msite-tmp~9999999~${hostname()}~2`);
    writeFileSync(left, 'x');
    vob.close();
    vob = Vob.open(vob.dir, { readonly: true });
    expect(existsSync(left)).toBe(true);
    expect((await gather(vob.pool.chunks(sha))).equals(bytes)).toBe(true);
  });

  it('chunks fails on a blob file that no longer hashes to its name, or is gone', async () => {
    const bytes = randomBytes(CHUNK_BYTES * 2);
    const sha = vob.transaction(() => vob.pool.put(bytes));
    const file = join(vob.dir, 'pool', sha.slice(0, 2), sha);
    writeFileSync(file, randomBytes(bytes.length));
    await expect(gather(vob.pool.chunks(sha))).rejects.toThrow(`content ${sha} in the pool is damaged`);
    rmSync(file);
    await expect(gather(vob.pool.chunks(sha))).rejects.toThrow(`content ${sha} in the pool is damaged`);
  });

  it('removes temporary files left by a stopped stage when the VOB is opened', async () => {
    const pool = join(vob.dir, 'pool');
    // A process id above any Linux's pid_max: no process runs with it.
    const left = join(pool, `.staged~msite-tmp~9999999~${hostname()}~1`);
    writeFileSync(left, randomBytes(1000));
    const running = await vob.pool.stage(pieces(randomBytes(CHUNK_BYTES * 2)));
    vob.close();
    vob = Vob.open(vob.dir);
    expect(existsSync(left)).toBe(false);
    // Ours, still to be committed, stays.
    expect(temporaries()).toHaveLength(1);
    running.discard();
  });
});
