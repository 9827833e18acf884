import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Oid } from '../../src/core/ids.js';
import { MERGE_HLTYPE, mergeHltypeOid, mergeSourcesOf, mergeTargetsOf, recordMergeArrow } from '../../src/vob/mergeArrows.js';
import { checkin, checkout } from '../../src/vob/commands/checkouts.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { mktype, rmtype } from '../../src/vob/commands/types.js';
import { createVob } from '../../src/vob/createVob.js';
import { getType } from '../../src/vob/queries.js';
import { resolveObject } from '../../src/vob/selectors.js';
import { Vob } from '../../src/vob/vob.js';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

/** Runs `fn` on a site's replica of /vobs/dev, opened through the library. */
function withVob<T>(root: string, s: Site, fn: (vob: Vob) => T): T {
  const vob = Vob.open(join(root, `${s.name}.vob`));
  try {
    return fn(vob);
  } finally {
    vob.close();
  }
}

const oidOf = (vob: Vob, selector: string) => resolveObject(vob, selector).oid;

async function exchange(from: Site, to: Site): Promise<void> {
  const packets = await from.exportTo(to.name);
  if (packets.length) await to.run('syncreplica', '--import', ...packets);
}

/** boston_hub with src/f.c@@/main/1; bangalore with its own branch blr and src/f.c@@/main/blr/1; both know both. */
async function twoSites(root: string): Promise<[Site, Site]> {
  const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
  const text = join(root, 'text');
  writeFileSync(text, 'one\n');
  await boston.run('mkdir', '--auto', 'src');
  await boston.run('mkelem', '--auto', 'src/f.c');
  await boston.run('checkout', 'src/f.c');
  await boston.run('checkin', '--from', text, 'src/f.c');
  await exchange(boston, bangalore);
  await bangalore.run('mkbrtype', 'blr');
  await bangalore.run('mkbranch', 'blr', 'src/f.c');
  await bangalore.run('checkout', 'src/f.c@@/main/blr');
  await bangalore.run('checkin', '--from', text, 'src/f.c@@/main/blr');
  await exchange(bangalore, boston);
  return [boston, bangalore];
}

describe('merge arrows', () => {
  const root = tempDir();

  it('Merge is a predefined shared hltype; an arrow to a version mastered here replicates', async () => {
    const dir = mkdtempSync(join(root, 'arrow-'));
    const [boston, bangalore] = await twoSites(dir);
    const types = await boston.json<{ name: string; shared?: boolean }[]>('lstype', '--kind', 'hltype');
    expect(types.map((t) => t.name)).toEqual([MERGE_HLTYPE]);
    // boston_hub masters /main/1 but not bangalore's /main/blr/1: the arrow needs only its target.
    const [from, to] = withVob(dir, boston, (vob) => {
      const from = oidOf(vob, 'src/f.c@@/main/blr/1');
      const to = oidOf(vob, 'src/f.c@@/main/1');
      recordMergeArrow(vob, from, to);
      expect(mergeSourcesOf(vob, to)).toEqual([from]);
      expect(mergeTargetsOf(vob, from)).toEqual([to]);
      return [from, to];
    });
    await exchange(boston, bangalore);
    withVob(dir, bangalore, (vob) => {
      expect(mergeSourcesOf(vob, to)).toEqual([from]);
      expect(mergeTargetsOf(vob, to)).toEqual([]);
    });
  });

  it('a VOB without Merge gets it on demand, and two replicas doing so at once make one type', async () => {
    const dir = mkdtempSync(join(root, 'older-'));
    const [boston, bangalore] = await twoSites(dir);
    // A VOB made before Merge was predefined: its master removes the type everywhere.
    await boston.run('rmtype', `hltype:${MERGE_HLTYPE}`);
    await exchange(boston, bangalore);
    const atBoston = withVob(dir, boston, (vob) => {
      expect(getType(vob, mergeHltypeOid(vob))).toBeUndefined();
      const arrow = [oidOf(vob, 'src/f.c@@/main/blr/1'), oidOf(vob, 'src/f.c@@/main/1')] as [Oid, Oid];
      recordMergeArrow(vob, ...arrow);
      return arrow;
    });
    const atBangalore = withVob(dir, bangalore, (vob) => {
      const arrow = [oidOf(vob, 'src/f.c@@/main/1'), oidOf(vob, 'src/f.c@@/main/blr/1')] as [Oid, Oid];
      recordMergeArrow(vob, ...arrow);
      return arrow;
    });
    await exchange(boston, bangalore);
    await exchange(bangalore, boston);
    const seen = (s: Site) =>
      withVob(dir, s, (vob) => {
        const type = getType(vob, mergeHltypeOid(vob))!;
        return {
          type: { name: type.name, master: type.master, shared: type.shared },
          hltypes: vob.q(`SELECT count(*) FROM type WHERE kind = 'hltype'`).pluck().get() as number,
          arrows: [mergeSourcesOf(vob, atBoston[1]), mergeSourcesOf(vob, atBangalore[1])],
        };
      });
    const b = seen(boston);
    expect(b).toEqual(seen(bangalore));
    expect(b).toMatchObject({ type: { name: MERGE_HLTYPE, shared: 1 }, hltypes: 1, arrows: [[atBoston[0]], [atBangalore[0]]] });
    expect((await boston.run('lsconflict')).stdout).not.toMatch(/Merge/);
  });

  it('a VOB whose own Merge hltype was made before Merge was predefined draws its arrows with it', () => {
    const vob = createVob(join(mkdtempSync(join(root, 'own-')), 'o.vob'), { tag: 'o' });
    try {
      rmtype(vob, [`hltype:${MERGE_HLTYPE}`]);
      const [own] = mktype(vob, 'hltype', [MERGE_HLTYPE]);
      mkelem(vob, 'f', { auto: true, content: Buffer.from('1') });
      checkout(vob, 'f');
      checkin(vob, 'f', { content: Buffer.from('2') });
      const [from, to] = [oidOf(vob, 'f@@/main/1'), oidOf(vob, 'f@@/main/2')];
      recordMergeArrow(vob, from, to);
      expect(mergeSourcesOf(vob, to)).toEqual([from]);
      expect(vob.q('SELECT hltype FROM hyperlink').pluck().all()).toEqual([own!.oid]);
    } finally {
      vob.close();
    }
  });
});
