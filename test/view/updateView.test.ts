import { chmodSync, lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mkelem } from '../../src/vob/commands/elements.js';
import { createVob } from '../../src/vob/createVob.js';
import { updateView } from '../../src/view/updateView.js';
import { View } from '../../src/view/view.js';
import { tempDir } from '../helpers/cli.js';

describe('update of a snapshot view', () => {
  const text = (s: string) => new TextEncoder().encode(s);

  it('creates new files in place, and repairs what an update that stopped while writing left', async () => {
    const dir = tempDir('msite-update-');
    const vobDir = join(dir, 'dev.vob');
    const vob = createVob(vobDir, { tag: '/vobs/dev' });
    mkelem(vob, 'd', { kind: 'directory', auto: true });
    for (const name of ['a', 'b', 'c', 'e']) mkelem(vob, `d/${name}.txt`, { auto: true, content: text(`${name} `.repeat(100)) });
    vob.close();
    const viewDir = join(dir, 'work');
    const view = View.create(viewDir, { tag: 'work', vobDir });
    try {
      const first = await updateView(view);
      expect(first.entries.filter((e) => e.action === 'load').map((e) => e.path)).toEqual(['d/a.txt', 'd/b.txt', 'd/c.txt', 'd/e.txt']);
      // Written where they belong (no temp names left), read-only, and the mark of files being written is gone.
      expect(readdirSync(join(viewDir, 'd')).sort()).toEqual(['a.txt', 'b.txt', 'c.txt', 'e.txt']);
      expect(lstatSync(join(viewDir, 'd', 'a.txt')).mode & 0o222).toBe(0);
      expect(view.meta('writing')).toBeUndefined();

      // What an update stopped while writing leaves: a.txt cut short and b.txt whole, neither recorded;
      // c.txt recorded but short (its bytes lost after); all three marked as being written. e.txt,
      // unrecorded and not marked, holds other bytes: a view-private file in the way.
      view.db.prepare("DELETE FROM loaded WHERE path IN ('d/a.txt', 'd/b.txt', 'd/e.txt')").run();
      view.setMeta('clean_at', undefined);
      view.setMeta('writing', JSON.stringify(['d/a.txt', 'd/b.txt', 'd/c.txt']));
      for (const [name, bytes] of [
        ['a', 'a a '],
        ['c', ''],
        ['e', 'mine\n'],
      ] as const) {
        chmodSync(join(viewDir, 'd', `${name}.txt`), 0o644);
        writeFileSync(join(viewDir, 'd', `${name}.txt`), bytes);
      }
      const again = await updateView(view);
      expect(again.entries.map((e) => [e.action, e.path])).toEqual([
        ['in-the-way', 'd/e.txt'],
        ['load', 'd/a.txt'],
        ['load', 'd/c.txt'],
      ]);
      expect(readFileSync(join(viewDir, 'd', 'a.txt'), 'utf8')).toBe('a '.repeat(100));
      expect(readFileSync(join(viewDir, 'd', 'c.txt'), 'utf8')).toBe('c '.repeat(100));
      expect(readFileSync(join(viewDir, 'd', 'e.txt'), 'utf8')).toBe('mine\n');
      expect(view.loaded('d/b.txt')).toMatchObject({ sha: expect.any(String), size: 200 });
      expect(view.meta('writing')).toBeUndefined();

      // Recorded now: an edit to a.txt is a hijack again.
      chmodSync(join(viewDir, 'd', 'a.txt'), 0o644);
      writeFileSync(join(viewDir, 'd', 'a.txt'), 'edited\n');
      expect((await updateView(view)).entries.map((e) => [e.action, e.path])).toEqual([
        ['hijacked', 'd/a.txt'],
        ['in-the-way', 'd/e.txt'],
      ]);
    } finally {
      view.close();
    }
  });
});
