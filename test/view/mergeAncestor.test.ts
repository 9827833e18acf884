import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Oid } from '../../src/core/ids.js';
import { checkin, checkout, mkbranch } from '../../src/vob/commands/checkouts.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { mktype } from '../../src/vob/commands/types.js';
import { parseConfigSpec } from '../../src/vob/configSpec.js';
import { createVob } from '../../src/vob/createVob.js';
import { recordMergeArrow } from '../../src/vob/mergeArrows.js';
import { resolveObject } from '../../src/vob/selectors.js';
import type { Vob } from '../../src/vob/vob.js';
import { alreadyMerged, mergeAncestor } from '../../src/view/mergeAncestor.js';
import { tempDir } from '../helpers/cli.js';

describe('mergeAncestor', () => {
  let vob: Vob;
  const v = (id: string) => resolveObject(vob, `f@@${id}`).oid;
  const name = (oid: Oid) => {
    const row = vob.q('SELECT b.brtype, v.number FROM version v JOIN branch b ON b.oid = v.branch WHERE v.oid = ?').get(oid) as {
      brtype: string;
      number: number;
    };
    return `${row.brtype === vob.meta('main_brtype') ? 'main' : 'dev'}/${row.number}`;
  };
  const commit = (path: string, text: string, config?: string) => {
    const spec = config ? parseConfigSpec(config) : undefined;
    checkout(vob, path, { config: spec });
    return checkin(vob, path, { content: Buffer.from(text), config: spec });
  };
  const dev = 'element * CHECKEDOUT\nelement * .../dev/LATEST\nelement * /main/LATEST\n';

  beforeAll(() => {
    vob = createVob(join(tempDir(), 'a.vob'), { tag: 'a' });
    mkelem(vob, 'f', { auto: true });
    commit('f', 'main 1'); // /main/1
    mktype(vob, 'brtype', ['dev']);
    mkbranch(vob, 'dev', 'f');
    commit('f', 'dev 1', dev); // /main/dev/1
    commit('f', 'main 2'); // /main/2
    commit('f', 'dev 2', dev); // /main/dev/2
  });
  afterAll(() => vob.close());

  it('without arrows, the base is where the branch grew from', () => {
    expect(name(mergeAncestor(vob, [v('/main/2')], v('/main/dev/2')).oid)).toBe('main/1');
    expect(alreadyMerged(vob, v('/main/dev/1'), [v('/main/2')])).toBe(false);
    expect(alreadyMerged(vob, v('/main/1'), [v('/main/dev/2')])).toBe(true);
  });

  it('after a merge from the branch, the next base is the version merged', () => {
    commit('f', 'main 3 = main 2 + dev 1'); // /main/3
    recordMergeArrow(vob, v('/main/dev/1'), v('/main/3'));
    expect(alreadyMerged(vob, v('/main/dev/1'), [v('/main/3')])).toBe(true);
    expect(alreadyMerged(vob, v('/main/dev/2'), [v('/main/3')])).toBe(false);
    expect(name(mergeAncestor(vob, [v('/main/3')], v('/main/dev/2')).oid)).toBe('dev/1');
    // Merging back the other way: the base is main/3's newest ancestor on both sides.
    expect(name(mergeAncestor(vob, [v('/main/dev/2')], v('/main/3')).oid)).toBe('dev/1');
    // A checkout with a merge already pending counts that version as merged.
    expect(name(mergeAncestor(vob, [v('/main/2'), v('/main/dev/1')], v('/main/dev/2')).oid)).toBe('dev/1');
  });
});
