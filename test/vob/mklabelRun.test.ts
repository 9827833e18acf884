import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mkvob } from '../../src/replication/mkvob.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { mktype } from '../../src/vob/commands/types.js';
import { applyLocalMany } from '../../src/vob/ops/applyOp.js';
import { typeByName } from '../../src/vob/queries.js';
import { resolvePath } from '../../src/vob/resolvePath.js';
import { tempDir } from '../helpers/cli.js';

describe('mklabel in runs', () => {
  it('labels many versions at once as one by one, moves with replace, and a refused label is refused in its own words', () => {
    const vob = mkvob(join(tempDir(), 'v'), { tag: 'v', replicaName: 'boston_hub' });
    try {
      for (const name of ['a', 'b', 'c']) mkelem(vob, name, { auto: true, content: Buffer.from(name) });
      mktype(vob, 'lbtype', ['REL1']);
      const lbtype = typeByName(vob, 'lbtype', 'REL1')!.oid;
      const v = (p: string) => resolvePath(vob, p).version!.oid;
      applyLocalMany(vob, [
        { kind: 'mklabel', data: { lbtype, version: v('a@@/main/1') } },
        { kind: 'mklabel', data: { lbtype, version: v('b@@/main/1') } },
        { kind: 'mklabel', data: { lbtype, version: v('a@@/main/0'), replace: true } },
      ]);
      const labeled = (p: string) => resolvePath(vob, `${p}@@REL1`).version!.number;
      expect([labeled('a'), labeled('b')]).toEqual([0, 1]);
      expect(() =>
        applyLocalMany(vob, [
          { kind: 'mklabel', data: { lbtype, version: v('c@@/main/1') } },
          { kind: 'mklabel', data: { lbtype, version: v('b@@/main/0') } },
        ]),
      ).toThrow('label "REL1" is already on "b@@/main/1"');
      expect(() => resolvePath(vob, 'c@@REL1')).toThrow(/not found/);
    } finally {
      vob.close();
    }
  });
});
