import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BulkSelection } from '../../src/vob/bulkSelection.js';
import { mklabel } from '../../src/vob/commands/annotations.js';
import { checkin, checkout, mkbranch } from '../../src/vob/commands/checkouts.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { mktype } from '../../src/vob/commands/types.js';
import { parseConfigSpec } from '../../src/vob/configSpec.js';
import { createVob } from '../../src/vob/createVob.js';
import { elementPath } from '../../src/vob/queries.js';
import { selectVersion } from '../../src/vob/resolvePath.js';
import type { ElementRow } from '../../src/vob/rows.js';
import { tempDir } from '../helpers/cli.js';

describe('BulkSelection', () => {
  it('selects what selectVersion selects, rule by rule', () => {
    const vob = createVob(join(tempDir('msite-bulk-'), 'b.vob'), { tag: 'b' });
    try {
      const text = (s: string) => new TextEncoder().encode(s);
      mkelem(vob, 'src', { kind: 'directory', auto: true });
      for (const n of ['a.c', 'b.c', 'c.h', 'd.h']) mkelem(vob, `src/${n}`, { auto: true, content: text(n) });
      mktype(vob, 'brtype', ['dev']);
      mktype(vob, 'lbtype', ['REL1']);
      mklabel(vob, 'REL1', ['src/a.c', 'src/c.h']);
      mkbranch(vob, 'dev', 'src/b.c');
      checkout(vob, 'src/b.c@@/main/dev');
      checkin(vob, 'src/b.c', { content: text('dev') });
      checkout(vob, 'src/a.c');
      checkin(vob, 'src/a.c', { content: text('a2') });
      checkout(vob, 'src/d.h');
      const specs = [
        'element * CHECKEDOUT\nelement * .../dev/LATEST\nelement *.c REL1\nelement * /main/LATEST\n',
        'element *.h REL1\nelement * /main/1\nelement * /main/LATEST -time 2000-01-01\nelement * /main/0\n',
        'element * /main/LATEST\n',
      ];
      const elements = vob.q('SELECT * FROM element').all() as ElementRow[];
      for (const text of specs) {
        const spec = parseConfigSpec(text);
        const bulk = new BulkSelection(vob, spec);
        for (const e of elements) {
          const path = elementPath(vob, e.oid);
          const one = selectVersion(vob, e, path, spec);
          const many = bulk.select(bulk.element(e.oid)!, path);
          expect([path, many?.version.oid, many?.rule.line, many?.checkout?.oid]).toEqual([
            path,
            one?.version.oid,
            one?.rule.line,
            one?.checkout?.oid,
          ]);
        }
      }
    } finally {
      vob.close();
    }
  });
});
