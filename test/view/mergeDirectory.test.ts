import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkin, checkout, mkbranch } from '../../src/vob/commands/checkouts.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { rmname } from '../../src/vob/commands/namespace.js';
import { mktype } from '../../src/vob/commands/types.js';
import { parseConfigSpec } from '../../src/vob/configSpec.js';
import { createVob } from '../../src/vob/createVob.js';
import { dirEntries, getCheckout } from '../../src/vob/queries.js';
import { mergeVersions } from '../../src/view/mergeVersions.js';
import { View, withView } from '../../src/view/view.js';
import { checkoutInView } from '../../src/view/viewCheckouts.js';
import { tempDir } from '../helpers/cli.js';

describe('merging a directory', () => {
  it('takes the names the other side added and removed, and leaves names both sides changed', async () => {
    const dir = tempDir('msite-mergedir-');
    const vobDir = join(dir, 'd.vob');
    const vob = createVob(vobDir, { tag: 'd' });
    const text = (s: string) => Buffer.from(s);
    try {
      mkelem(vob, 'd', { kind: 'directory', auto: true });
      for (const n of ['keep', 'gone', 'both']) mkelem(vob, `d/${n}`, { auto: true, content: text(n) });
      mktype(vob, 'brtype', ['dev']);
      mkbranch(vob, 'dev', 'd');
      const dev = parseConfigSpec('element * CHECKEDOUT\nelement * .../dev/LATEST\nelement * /main/LATEST\n', 'dev');
      // On dev: "gone" removed, "new" and "both" (another element) entered.
      checkout(vob, 'd', { config: dev });
      rmname(vob, 'd/gone', { config: dev });
      rmname(vob, 'd/both', { config: dev });
      mkelem(vob, 'd/new', { content: text('new'), config: dev });
      mkelem(vob, 'd/both', { content: text('dev both'), config: dev });
      checkin(vob, 'd', { config: dev });
      // On main: "both" removed too, then entered as yet another element.
      checkout(vob, 'd');
      rmname(vob, 'd/both');
      mkelem(vob, 'd/both', { content: text('main both') });
      checkin(vob, 'd');
    } finally {
      vob.close();
    }
    View.create(join(dir, 'view'), { tag: 'v', vobDir, configSpec: 'element * CHECKEDOUT\nelement * /main/LATEST\nload /\n' }).close();
    const d = join(dir, 'view', 'd');
    await withView(d, {}, async (view) => {
      await checkoutInView(view, d);
      const r = await mergeVersions(view, d, ['/main/dev/LATEST']);
      expect(r.names).toEqual({ added: ['new'], removed: ['gone'], conflicts: ['both'] });
      const entries = JSON.parse(getCheckout(view.vob, view.locate(d).checkout!)!.entries!) as Record<string, string>;
      expect(Object.keys(entries)).toEqual(['both', 'keep', 'new']);
      expect(entries.both).toBe(dirEntries(view.vob, view.locate(d).version!).get('both'));
      expect(view.pendingMerges(view.locate(d).element)).toHaveLength(1);
      // The view follows: the new name's file is loaded, the removed one's is not there.
      expect(readFileSync(join(d, 'new'), 'utf8')).toBe('new');
      expect(existsSync(join(d, 'gone'))).toBe(false);
    });
  });
});
