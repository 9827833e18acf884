import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContentPool, DELTA_DEPTH } from '../../src/vob/contentPool.js';
import { Vob } from '../../src/vob/vob.js';
import { msite, tempDir } from '../helpers/cli.js';
import { family } from '../helpers/sites.js';

/** Text-like content: `lines` numbered lines, the ones in `edits` changed. */
function text(lines: number, edits: readonly number[] = []): Buffer {
  return Buffer.from(
    Array.from({ length: lines }, (_, i) => (edits.includes(i) ? `line ${i} was edited\n` : `line ${i} of a rebuilt text file\n`)).join(''),
  );
}

const codecs = (vobDir: string): Record<string, number> => {
  const vob = Vob.open(vobDir, { readonly: true });
  try {
    const rows = vob.q('SELECT hex(sha) AS sha, codec FROM content').all() as { sha: string; codec: number }[];
    return Object.fromEntries(rows.map((r) => [r.sha.toLowerCase(), r.codec]));
  } finally {
    vob.close();
  }
};

describe('versions travel and are stored as deltas', () => {
  it('a file’s versions go as deltas against the one before, are stored so at the replica, and read back exact', async () => {
    const root = tempDir();
    const [boston, sanfran] = await family(root, ['boston_hub', 'sanfran_hub']);
    await boston!.run('checkout', '--vob', '/vobs/dev', '.');
    const versions = [text(20_000), text(20_000, [5]), text(20_000, [5, 900]), text(20_000, [5, 900, 19_000])];
    const random = randomBytes(300 * 1024);
    const file = join(root, 'f');
    writeFileSync(file, versions[0]!);
    await boston!.run('mkelem', '--vob', '/vobs/dev', '--from', file, 'a.txt');
    writeFileSync(file, random);
    await boston!.run('mkelem', '--vob', '/vobs/dev', '--from', file, 'b.bin');
    await boston!.run('checkin', '--vob', '/vobs/dev', '.');
    for (const v of versions.slice(1)) {
      writeFileSync(file, v);
      await boston!.run('checkout', '--vob', '/vobs/dev', 'a.txt');
      await boston!.run('checkin', '--vob', '/vobs/dev', '--from', file, 'a.txt');
    }
    const packets = await boston!.exportTo('sanfran_hub');
    // The first version deflated, three small deltas, the random file raw: far less than the versions.
    const whole = versions.reduce((n, v) => n + v.length, 0);
    expect(statSync(packets[0]!).size).toBeLessThan(random.length + whole / 8);
    // lspacket --dump reads it as an import does, keeping only the ops.
    const [dumped] = await sanfran!.json<{ ops: unknown[]; opCount: number; dumpError?: string }[]>(
      'lspacket',
      '--vob',
      '/vobs/dev',
      '--dump',
      ...packets,
    );
    expect(dumped!.dumpError).toBeUndefined();
    expect(dumped!.ops).toHaveLength(dumped!.opCount);
    await sanfran!.run('syncreplica', '--import', ...packets);

    for (const [n, v] of versions.entries()) {
      const r = await msite(['cat', '--vob', '/vobs/dev', `a.txt@@/main/${n + 1}`], { home: sanfran!.home });
      expect(r.raw.equals(v), `version ${n + 1}`).toBe(true);
    }
    const stored = codecs(join(root, 'sanfran_hub.vob'));
    const shaOf = (b: Buffer) => ContentPool.hash(b);
    expect(stored[shaOf(versions[0]!)]).toBe(1); // deflated, as the origin keeps it
    expect(versions.slice(1).map((v) => stored[shaOf(v)])).toEqual([2, 2, 2]); // deltas, as they came
    expect(stored[shaOf(random)]).toBe(0); // raw: it does not compress
    // The next version goes as a delta against the one sanfran has.
    const fifth = text(20_000, [5, 900, 19_000, 12_345]);
    writeFileSync(file, fifth);
    await boston!.run('checkout', '--vob', '/vobs/dev', 'a.txt');
    await boston!.run('checkin', '--vob', '/vobs/dev', '--from', file, 'a.txt');
    const next = await boston!.exportTo('sanfran_hub');
    expect(statSync(next[0]!).size).toBeLessThan(4096);
    await sanfran!.run('syncreplica', '--import', ...next);
    expect((await msite(['cat', '--vob', '/vobs/dev', 'a.txt'], { home: sanfran!.home })).raw.equals(fifth)).toBe(true);

    const vob = Vob.open(join(root, 'sanfran_hub.vob'), { readonly: true });
    try {
      expect(vob.pool.deltaDepth(shaOf(versions[3]!))).toBe(3);
      expect(vob.pool.deltaDepth(shaOf(fifth))).toBe(4);
      expect(DELTA_DEPTH).toBeGreaterThan(3);
      expect(vob.pool.getMany(versions.map(shaOf)).get(shaOf(versions[2]!))!.equals(versions[2]!)).toBe(true);
    } finally {
      vob.close();
    }
  });
});
