import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { PacketsNotAppliedError } from '../../src/replication/packetsNotAppliedError.js';
import { syncImport } from '../../src/replication/syncImport.js';
import { receivePackets } from '../../src/shipping/receivePackets.js';
import { Vob } from '../../src/vob/vob.js';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

const GARBAGE = 'sync_nobody_2026-01-01T000000Z_1_1';

/** boston_hub and bangalore, and two update packets from boston_hub: the second needs the first. */
async function twoPackets(): Promise<{ root: string; bangalore: Site; p1: string; p2: string }> {
  const root = tempDir();
  const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
  await boston.run('mklbtype', 'R1');
  const [p1] = await boston.exportTo('bangalore');
  await boston.run('mklbtype', 'R2');
  const [p2] = await boston.exportTo('bangalore');
  return { root, bangalore, p1: p1!, p2: p2! };
}

async function withVob<T>(root: string, fn: (vob: Vob) => Promise<T>): Promise<T> {
  const vob = Vob.open(join(root, 'bangalore.vob'));
  try {
    return await fn(vob);
  } finally {
    vob.close();
  }
}

describe('receivePackets: the incoming storage bays', () => {
  it('removes applied packets from the bay; a waiting one stays without failing the run, a refused one stays and fails it', async () => {
    const { root, bangalore, p1, p2 } = await twoPackets();
    // No bay yet: a success with nothing done.
    expect(await withVob(root, (vob) => receivePackets(vob, bangalore.home))).toEqual({ outcomes: [], failure: undefined });
    const incoming = join(bangalore.home, 'shipping', 'ms_ship', 'incoming');
    mkdirSync(incoming, { recursive: true });
    copyFileSync(p2, join(incoming, basename(p2)));

    const waiting = await withVob(root, (vob) => receivePackets(vob, bangalore.home));
    expect(waiting.outcomes.map((o) => o.result)).toEqual(['deferred']);
    expect(waiting.failure).toBeUndefined();
    expect(readdirSync(incoming)).toEqual([basename(p2)]);

    copyFileSync(p1, join(incoming, basename(p1)));
    writeFileSync(join(incoming, GARBAGE), 'not a packet');
    const diagnosed = await withVob(root, (vob) => receivePackets(vob, bangalore.home, { diagnose: true }));
    expect(diagnosed.failure).toBeUndefined();
    expect(readdirSync(incoming)).toHaveLength(3);

    const r = await withVob(root, (vob) => receivePackets(vob, bangalore.home));
    expect(r.outcomes.map((o) => [basename(o.path), o.result]).sort()).toEqual(
      [
        [basename(p1), 'applied'],
        [basename(p2), 'applied'],
        [GARBAGE, 'refused'],
      ].sort(),
    );
    expect(r.failure).toBeInstanceOf(PacketsNotAppliedError);
    expect(r.failure!.message).toBe('1 of 3 packets were not applied');
    expect(r.failure!.data).toEqual({ packets: [join(incoming, GARBAGE)] });
    expect(readdirSync(incoming)).toEqual([GARBAGE]);
  });
});

describe('syncImport: packets named on the command line', () => {
  it('a packet that waits fails the run, and is left where it is', async () => {
    const { root, p2 } = await twoPackets();
    const r = await withVob(root, (vob) => syncImport(vob, [p2]));
    expect(r.outcomes.map((o) => o.result)).toEqual(['deferred']);
    expect(r.failure).toBeInstanceOf(PacketsNotAppliedError);
    expect(r.failure!.toLine()).toBe(
      '1 of 1 packet was not applied (they are left in place; see the reasons above, or syncreplica --import --diagnose)',
    );
    expect(readdirSync(join(p2, '..'))).toEqual([basename(p2)]);
  });

  it('every packet applied is a success; a diagnosis never fails; no packets at all is refused', async () => {
    const { root, p1, p2 } = await twoPackets();
    expect((await withVob(root, (vob) => syncImport(vob, [p2], { diagnose: true }))).failure).toBeUndefined();
    const r = await withVob(root, (vob) => syncImport(vob, [p2, p1]));
    expect(r.outcomes.map((o) => o.result)).toEqual(['applied', 'applied']);
    expect(r.failure).toBeUndefined();
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(withVob(root, (vob) => syncImport(vob, [empty]))).rejects.toThrow(InvalidInputError);
  });
});
