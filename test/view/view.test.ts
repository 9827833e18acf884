import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Oid } from '../../src/core/ids.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkin, checkout, mkbranch } from '../../src/vob/commands/checkouts.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { mktype } from '../../src/vob/commands/types.js';
import { createVob } from '../../src/vob/createVob.js';
import { mergeSourcesOf } from '../../src/vob/mergeArrows.js';
import { parseConfigSpec } from '../../src/vob/configSpec.js';
import { resolvePath } from '../../src/vob/resolvePath.js';
import { NotAViewError } from '../../src/view/notAViewError.js';
import { openView, View } from '../../src/view/view.js';
import { checkinInView, checkoutInView, uncheckoutInView } from '../../src/view/viewCheckouts.js';
import { tempDir } from '../helpers/cli.js';

describe('a snapshot view', () => {
  const dir = tempDir('msite-view-');
  const vobDir = join(dir, 'dev.vob');
  const viewDir = join(dir, 'work');
  const text = (s: string) => new TextEncoder().encode(s);
  let devVersion: Oid;

  beforeAll(() => {
    const vob = createVob(vobDir, { tag: '/vobs/dev' });
    mkelem(vob, 'src', { kind: 'directory', auto: true });
    mkelem(vob, 'src/a.c', { auto: true, content: text('main 1\n') });
    mktype(vob, 'brtype', ['dev']);
    mkbranch(vob, 'dev', 'src/a.c');
    checkout(vob, 'src/a.c@@/main/dev');
    checkin(vob, 'src/a.c', { content: text('dev 1\n') });
    devVersion = resolvePath(vob, 'src/a.c@@/main/dev/1').version!.oid;
    vob.close();
    View.create(viewDir, { tag: 'work', vobDir }).close();
  });
  afterAll(() => undefined);

  it('opens from any path inside it and locates elements through its config spec', () => {
    const view = openView(join(viewDir, 'src', 'a.c'));
    try {
      expect(view.root).toBe(viewDir);
      const loc = view.locate(join(viewDir, 'src', 'a.c'));
      expect(loc).toMatchObject({ path: 'src/a.c', kind: 'file', checkedOut: false, rule: 'element * /main/LATEST' });
      expect(view.loadPaths()).toEqual(['.']);
    } finally {
      view.close();
    }
    expect(() => openView(dir)).toThrow(NotAViewError);
  });

  it('turns pending merges into merge arrows at checkin, and forgets them at uncheckout', async () => {
    const file = join(viewDir, 'src', 'a.c');
    const view = openView(viewDir);
    try {
      const co = await checkoutInView(view, file);
      expect(co.branch).toBe('/main');
      expect(readFileSync(file, 'utf8')).toBe('main 1\n');
      const loc = view.locate(file);
      expect(loc.checkedOut).toBe(true);
      view.addPendingMerge(loc.element, devVersion);
      expect(view.pendingMerges(loc.element)).toEqual([devVersion]);
      writeFileSync(file, 'main 1\ndev 1\n');
      const ci = await checkinInView(view, file, { comment: 'merged dev' });
      expect(ci).toMatchObject({ version: '/main/2', mergeArrows: 1 });
      expect(mergeSourcesOf(view.vob, ci.oid)).toEqual([devVersion]);
      expect(view.pendingMerges(loc.element)).toEqual([]);

      await checkoutInView(view, file);
      view.addPendingMerge(loc.element, devVersion);
      writeFileSync(file, 'scratch\n');
      const un = await uncheckoutInView(view, file, { keep: true });
      expect(readFileSync(un.kept!, 'utf8')).toBe('scratch\n');
      expect(readFileSync(file, 'utf8')).toBe('main 1\ndev 1\n');
      expect(view.pendingMerges(loc.element)).toEqual([]);
    } finally {
      view.close();
    }
  });

  it('refuses a bad config spec line by file and line, keeping the old spec', () => {
    const view = openView(viewDir);
    try {
      const before = view.configSpecText();
      expect(() => view.setConfigSpec('element * /main/LATEST\nload /\nelement * BAD/ONE\n', 'my.cs', dir)).toThrow(
        'my.cs, line 3: bad version selector "BAD/ONE"',
      );
      expect(view.configSpecText()).toBe(before);
      writeFileSync(join(dir, 'inc.cs'), 'element * /main/LATEST -time 2000-01-01\nelement * /main/LATEST\n');
      const spec = view.setConfigSpec('element * CHECKEDOUT\ninclude inc.cs\nload /src\n', join(dir, 'top.cs'), dir);
      expect(spec.rules.map((r) => [r.source, r.line])).toEqual([
        [join(dir, 'top.cs'), 1],
        [join(dir, 'inc.cs'), 1],
        [join(dir, 'inc.cs'), 2],
      ]);
      // -time before anything existed selects nothing; the next rule does.
      expect(view.locate(join(viewDir, 'src', 'a.c')).rule).toBe('element * /main/LATEST');
      expect(view.loadPaths()).toEqual(['src']);
    } finally {
      view.close();
    }
    expect(() => parseConfigSpec('element * /main/LATEST\ninclude nowhere.cs\n', join(dir, 'x.cs'))).toThrow(
      /x\.cs, line 2: cannot read included file/,
    );
  });
});
