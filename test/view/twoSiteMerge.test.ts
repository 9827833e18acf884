import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MastershipError } from '../../src/core/errors.js';
import { View, withView } from '../../src/view/view.js';
import { checkinInView, checkoutInView } from '../../src/view/viewCheckouts.js';
import { ok, tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

interface Entry {
  path: string;
  from: string;
  to: string;
  base: string;
  needed: boolean;
  why: string;
  merge?: { contributors: { how: string }[]; conflicts: { start: number; end: number }[] };
}

const lines = (...l: string[]) => l.map((x) => `${x}\n`).join('');

describe('two sites, each on its own branch, merged at the master of /main', () => {
  const root = tempDir('msite-twosite-');

  async function exchange(from: Site, to: Site): Promise<void> {
    const packets = await from.exportTo(to.name);
    if (packets.length) await to.run('syncreplica', '--import', ...packets);
  }

  /** A snapshot view of `s`'s replica, with `spec` (load rules included). */
  function view(s: Site, tag: string, spec: string): View {
    return View.create(join(root, 'views', tag), { tag, vobDir: join(root, `${s.name}.vob`), configSpec: spec });
  }

  /** Checks out, writes and checks in each file of a view. */
  async function edit(v: View, files: Record<string, string>): Promise<void> {
    for (const [name, text] of Object.entries(files)) {
      const file = join(v.root, name);
      await checkoutInView(v, file);
      writeFileSync(file, text);
      await checkinInView(v, file);
    }
  }

  const branchSpec = (brtype: string) =>
    `element * CHECKEDOUT\nelement * .../${brtype}/LATEST\nelement * /main/LATEST -mkbranch ${brtype}\nload /\n`;
  const mainSpec = 'element * CHECKEDOUT\nelement * /main/LATEST\nload /\n';

  it('merges bangalore’s branch to /main at boston_hub: one conflict resolved by hand, one clean; arrows at both sites', async () => {
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    const base = join(root, 'base');
    writeFileSync(base, lines('one', 'two', 'three'));
    await boston.run('mkdir', '--auto', 'src');
    for (const f of ['src/conflict.c', 'src/clean.c']) await boston.run('mkelem', '--auto', '--from', base, f);
    await boston.run('mkbrtype', 'boston_dev');
    await exchange(boston, bangalore);
    await bangalore.run('mkbrtype', 'blr_dev');

    // Each site works on its own branch in its own view.
    const blr = view(bangalore, 'blr_work', branchSpec('blr_dev'));
    await edit(blr, {
      'src/conflict.c': lines('one', 'TWO from bangalore', 'three'),
      'src/clean.c': lines('one', 'two', 'THREE from bangalore'),
    });
    // A checkout of /main, which boston_hub masters, is refused at bangalore with reqmaster named.
    const blrMain = view(bangalore, 'blr_main', mainSpec);
    const refusal = await checkoutInView(blrMain, join(blrMain.root, 'src/clean.c')).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(MastershipError);
    expect((refusal as MastershipError).toLine()).toMatch(
      /Master replica of branch "src\/clean.c@@\/main" is "boston_hub" \(request mastership with msite reqmaster/,
    );
    blrMain.close();

    const bos = view(boston, 'boston_work', branchSpec('boston_dev'));
    await edit(bos, {
      'src/conflict.c': lines('one', 'TWO from boston', 'three'),
      'src/clean.c': lines('ONE from boston', 'two', 'three'),
    });
    bos.close();

    // boston_hub integrates its own branch to /main first (trivial merges), in its main view.
    // The CLI opens the view on its own: the test does too, for each step.
    view(boston, 'boston_main', mainSpec).close();
    const src = join(root, 'views', 'boston_main', 'src');
    const inIntegration = <T>(fn: (v: View) => Promise<T>) => withView(src, {}, fn);
    const home = { home: boston.home };
    await ok(['findmerge', src, '--flatest', 'boston_dev', '--merge', '-c', 'boston_dev to main'], home);
    for (const f of ['conflict.c', 'clean.c']) await inIntegration((v) => checkinInView(v, join(src, f)));

    // bangalore's work arrives; findmerge finds both files, based at /main/1.
    await exchange(bangalore, boston);
    const needed = async () =>
      JSON.parse((await ok(['findmerge', src, '--flatest', 'blr_dev', '--print', '--json'], home)).stdout) as Entry[];
    expect((await needed()).map((e) => [e.path, e.from, e.to, e.base])).toEqual([
      ['src/clean.c', '/main/blr_dev/1', '/main/2', '/main/1'],
      ['src/conflict.c', '/main/blr_dev/1', '/main/2', '/main/1'],
    ]);

    // One clean merge with `merge --to`, after a checkout.
    const clean = join(src, 'clean.c');
    await inIntegration((v) => checkoutInView(v, clean));
    const cleanMerge = await ok(['merge', '--to', clean, '--version', '/main/blr_dev/LATEST'], home);
    expect(cleanMerge.stdout).toBe('Merged /main/blr_dev/1 to "src/clean.c" (base /main/1): merged.\n');
    expect(readFileSync(clean, 'utf8')).toBe(lines('ONE from boston', 'two', 'THREE from bangalore'));

    // One conflict, through findmerge --merge: conflict blocks written, and the lines named.
    const merged = JSON.parse((await ok(['findmerge', src, '--flatest', 'blr_dev', '--merge', '--json'], home)).stdout) as Entry[];
    expect(merged.map((e) => [e.path, e.merge?.conflicts])).toEqual([['src/conflict.c', [{ start: 2, end: 6 }]]]);
    const conflicted = join(src, 'conflict.c');
    expect(readFileSync(conflicted, 'utf8')).toBe(
      lines(
        'one',
        '<<<<<<< src/conflict.c (checked out from /main/2)',
        'TWO from boston',
        '=======',
        'TWO from bangalore',
        '>>>>>>> src/conflict.c@@/main/blr_dev/1',
        'three',
      ),
    );
    // Resolved by hand, and both checked in: the checkins draw the merge arrows.
    writeFileSync(conflicted, lines('one', 'TWO from boston and bangalore', 'three'));
    for (const f of [clean, conflicted]) expect((await inIntegration((v) => checkinInView(v, f))).mergeArrows).toBe(1);
    expect(await needed()).toEqual([]);
    const whynot = (await ok(['findmerge', src, '--flatest', 'blr_dev', '--whynot'], home)).stdout;
    expect(whynot).toContain('No merge "src/conflict.c": /main/blr_dev/1 is already merged into /main/3');

    // The arrows replicate: bangalore sees them after the next exchange.
    await exchange(boston, bangalore);
    for (const s of [boston, bangalore]) {
      const d = await s.json<{ merges: { from: string[]; to: string[] } }>('describe', 'src/conflict.c@@/main/3');
      expect(d.merges.from).toEqual(['src/conflict.c@@/main/blr_dev/1']);
      const b = await s.json<{ merges: { from: string[]; to: string[] } }>('describe', 'src/conflict.c@@/main/blr_dev/1');
      expect(b.merges.to).toEqual(['src/conflict.c@@/main/3']);
    }
    expect((await bangalore.run('lsvtree', 'src/clean.c')).stdout).toContain(
      'src/clean.c@@/main/blr_dev/1\n  -> merged to src/clean.c@@/main/3\n',
    );

    // The next merge from bangalore's branch starts at the version merged last time.
    await edit(blr, { 'src/clean.c': lines('one', 'two', 'THREE from bangalore', 'four') });
    blr.close();
    await exchange(bangalore, boston);
    expect((await needed()).map((e) => [e.path, e.from, e.base])).toEqual([['src/clean.c', '/main/blr_dev/2', '/main/blr_dev/1']]);
  });
});
