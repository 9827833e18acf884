import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newOid } from '../../src/core/ids.js';
import { mkvob } from '../../src/replication/mkvob.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { mktype } from '../../src/vob/commands/types.js';
import { applyLocalMany } from '../../src/vob/ops/applyOp.js';
import { typeByName } from '../../src/vob/queries.js';
import { resolvePath } from '../../src/vob/resolvePath.js';
import { tempDir } from '../helpers/cli.js';

describe('labels and attributes in runs', () => {
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

      mktype(vob, 'attype', ['origin'], { vtype: 'string' });
      const attype = typeByName(vob, 'attype', 'origin')!.oid;
      const attr = (p: string, value: string, replace = false) => ({
        kind: 'mkattr' as const,
        data: { attribute: newOid(), attype, object: v(p), value, replace },
      });
      applyLocalMany(vob, [attr('a@@/main/1', 'x'), attr('b@@/main/1', 'y'), attr('a@@/main/1', 'z', true)]);
      const value = (p: string) => vob.q('SELECT value FROM attribute WHERE object = ?').pluck().get(v(p));
      expect([value('a@@/main/1'), value('b@@/main/1')]).toEqual(['z', 'y']);
      expect(() => applyLocalMany(vob, [attr('c@@/main/1', 'w'), attr('b@@/main/1', 'w')])).toThrow(
        'the object already has an attribute of type "origin"',
      );
      expect(value('c@@/main/1')).toBeUndefined();
    } finally {
      vob.close();
    }
  });
});
