import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { msite, ok, tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

interface Entry {
  path: string;
  from: string;
  to: string;
  base: string;
  needed: boolean;
  merge?: { conflicts: { start: number; end: number }[]; names?: { added: string[] } };
}

const lines = (...l: string[]) => l.map((x) => `${x}\n`).join('');

describe('two sites, each on its own branch, merged at the master of /main', () => {
  const root = tempDir('msite-twosite-');

  async function exchange(from: Site, to: Site): Promise<void> {
    const packets = await from.exportTo(to.name);
    if (packets.length) await to.run('syncreplica', '--import', ...packets);
  }

  /** A loaded snapshot view of `s`'s replica with config spec `spec`; returns a runner of commands in its src directory. */
  async function view(s: Site, tag: string, spec: string) {
    const dir = join(root, 'views', tag);
    await s.run('mkview', '--snapshot', '--tag', tag, '--vob', '/vobs/dev', dir);
    const cs = join(root, `${tag}.cs`);
    writeFileSync(cs, spec);
    await s.run('setcs', '--view', tag, cs);
    const src = join(dir, 'src');
    const run = (...args: string[]) => ok(args, { home: s.home, cwd: src });
    return {
      src,
      run,
      try: (...args: string[]) => msite(args, { home: s.home, cwd: src }),
      /** Checks out, writes and checks in each file. */
      async edit(files: Record<string, string>) {
        for (const [name, text] of Object.entries(files)) {
          await run('checkout', '-c', 'work', name);
          writeFileSync(join(src, name), text);
          await run('checkin', name);
        }
      },
    };
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
    const blr = await view(bangalore, 'blr_work', branchSpec('blr_dev'));
    await blr.edit({ 'conflict.c': lines('one', 'TWO from bangalore', 'three'), 'clean.c': lines('one', 'two', 'THREE from bangalore') });
    // A new file on bangalore's branch of its directory: the -mkbranch rule that selects its /main/0
    // puts its first version on blr_dev, as in ClearCase, so its /main stays boston_hub's to merge to.
    writeFileSync(join(blr.src, 'new.c'), lines('new from bangalore'));
    await blr.run('mkelem', '--auto', 'new.c');
    // bangalore masters not /main: a checkout there is refused, naming reqmaster.
    const blrMain = await view(bangalore, 'blr_main', mainSpec);
    expect((await blrMain.try('checkout', 'clean.c')).stderr).toMatch(
      /Master replica of branch "src\/clean.c@@\/main" is "boston_hub" \(request mastership with msite reqmaster/,
    );
    const bos = await view(boston, 'boston_work', branchSpec('boston_dev'));
    await bos.edit({ 'conflict.c': lines('one', 'TWO from boston', 'three'), 'clean.c': lines('ONE from boston', 'two', 'three') });

    // boston_hub integrates its own branch to /main first (trivial merges) in its main view.
    const main = await view(boston, 'boston_main', mainSpec);
    await main.run('findmerge', '.', '--flatest', 'boston_dev', '--merge', '-c', 'boston_dev to main');
    for (const f of ['conflict.c', 'clean.c']) await main.run('checkin', f);

    // bangalore's work arrives; findmerge finds both files, based where the branch grew.
    await exchange(bangalore, boston);
    await main.run('update');
    const needed = async () =>
      JSON.parse((await main.run('findmerge', '.', '--flatest', 'blr_dev', '--print', '--json')).stdout) as Entry[];
    expect((await needed()).map((e) => [e.path, e.from, e.to, e.base])).toEqual([
      ['src', '/main/blr_dev/1', '/main/2', '/main/2'],
      ['src/clean.c', '/main/blr_dev/1', '/main/2', '/main/1'],
      ['src/conflict.c', '/main/blr_dev/1', '/main/2', '/main/1'],
    ]);

    // One clean merge with merge --to, after a checkout.
    await main.run('checkout', 'clean.c');
    expect((await main.run('merge', '--to', 'clean.c', '--version', '/main/blr_dev/LATEST')).stdout).toBe(
      'Merged /main/blr_dev/1 to "src/clean.c" (base /main/1): merged.\n',
    );
    expect(readFileSync(join(main.src, 'clean.c'), 'utf8')).toBe(lines('ONE from boston', 'two', 'THREE from bangalore'));

    // The rest through findmerge --merge: the directory first (new.c comes in), then a conflict,
    // its blocks written into the file and their lines named.
    const merged = JSON.parse((await main.run('findmerge', '.', '--flatest', 'blr_dev', '--merge', '--json')).stdout) as Entry[];
    expect(merged.map((e) => [e.path, e.merge?.names?.added, e.merge?.conflicts])).toEqual([
      ['src', ['new.c'], []],
      ['src/conflict.c', undefined, [{ start: 2, end: 6 }]],
      // Its first version went on blr_dev (the view's -mkbranch rule), merged from /main/0.
      ['src/new.c', undefined, []],
    ]);
    expect(readFileSync(join(main.src, 'new.c'), 'utf8')).toBe(lines('new from bangalore'));
    expect(readFileSync(join(main.src, 'conflict.c'), 'utf8')).toBe(
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
    // Resolved by hand; the checkins draw the merge arrows.
    writeFileSync(join(main.src, 'conflict.c'), lines('one', 'TWO from boston and bangalore', 'three'));
    for (const f of ['.', 'clean.c', 'conflict.c', 'new.c']) await main.run('checkin', '-c', 'blr_dev to main', f);
    expect(await needed()).toEqual([]);
    // What boston_hub's own branch view selects is in /main too.
    expect((await main.run('findmerge', '.', '--ftag', 'boston_work', '--print')).stdout).toBe('No merges needed.\n');
    expect((await main.run('findmerge', '.', '--flatest', 'blr_dev', '--whynot')).stdout).toContain(
      'No merge "src/conflict.c": /main/blr_dev/1 is already merged into /main/3',
    );

    // The arrows replicate: bangalore sees them after the next exchange.
    await exchange(boston, bangalore);
    for (const s of [boston, bangalore]) {
      const d = await s.json<{ merges: { from: string[] } }>('describe', 'src/conflict.c@@/main/3');
      expect(d.merges.from).toEqual(['src/conflict.c@@/main/blr_dev/1']);
      const b = await s.json<{ merges: { to: string[] } }>('describe', 'src/conflict.c@@/main/blr_dev/1');
      expect(b.merges.to).toEqual(['src/conflict.c@@/main/3']);
    }
    expect((await bangalore.run('describe', 'src/conflict.c@@/main/3')).stdout).toContain(
      '\n  <- merged from src/conflict.c@@/main/blr_dev/1\n',
    );
    expect((await bangalore.json<{ merges: { from: string[] } }>('describe', 'src@@/main/3')).merges.from).toEqual([
      'src@@/main/blr_dev/1',
    ]);
    expect((await bangalore.run('lsvtree', 'src/clean.c')).stdout).toContain(
      'src/clean.c@@/main/blr_dev/1\n  -> merged to src/clean.c@@/main/3\n',
    );

    // The next merge from bangalore's branch starts at the version merged last time.
    await blr.edit({ 'clean.c': lines('one', 'two', 'THREE from bangalore', 'four') });
    await exchange(bangalore, boston);
    expect((await needed()).map((e) => [e.path, e.from, e.base])).toEqual([['src/clean.c', '/main/blr_dev/2', '/main/blr_dev/1']]);
  });
});
