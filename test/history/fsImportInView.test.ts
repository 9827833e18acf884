import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, msite, ok, tempDir } from '../helpers/cli.js';

interface LsRow {
  name: string;
  version: string | null;
  mode: string | null;
  viewPrivate: boolean;
}

describe('fsimport into a snapshot view', () => {
  it("takes the view's VOB and config spec, branches as a checkout there would, updates the view, and refuses its checkouts", async () => {
    const root = tempDir('msite-fsimport-view-');
    const home = join(root, 'home');
    const drop = join(root, 'drop');
    mkdirSync(join(drop, 'lib'), { recursive: true });
    writeFileSync(join(drop, 'README'), 'read me\n');
    writeFileSync(join(drop, 'build.sh'), '#!/bin/sh\n');
    chmodSync(join(drop, 'build.sh'), 0o755);
    writeFileSync(join(drop, 'lib', 'x.c'), 'int x;\n');
    symlinkSync('lib/x.c', join(drop, 'x.c'));
    await ok(['mkvob', '--tag', 'v', join(root, 'v.vob')], { home });
    await ok(['mkbrtype', '--vob', 'v', 'dev'], { home });
    const view = join(root, 'view');
    await ok(['mkview', '--snapshot', '--tag', 'dv', '--vob', 'v', view], { home });
    const history = async () => (await json<unknown[]>(['lshistory', '--vob', 'v'], { home })).length;

    // TARGET-DIR is a directory of the view: no --vob, and run from outside the view.
    const first = await ok(['fsimport', '--recurse', '-c', 'drop 1', drop, view], { home, cwd: root });
    expect(first.stdout).toContain('6 new elements, 1 new versions');
    expect(first.stdout).toContain('Updated view "dv": 4 loaded, 0 unchanged.');
    expect(readFileSync(join(view, 'drop', 'lib', 'x.c'), 'utf8')).toBe('int x;\n');
    expect(lstatSync(join(view, 'drop', 'build.sh')).mode & 0o100).toBe(0o100);
    expect(readlinkSync(join(view, 'drop', 'x.c'))).toBe('lib/x.c');
    const ls = () => json<LsRow[]>(['ls', 'drop'], { home, cwd: view });
    expect((await ls()).map((e) => [e.name, e.version, e.mode, e.viewPrivate])).toEqual([
      ['README', '/main/1', null, false],
      ['build.sh', '/main/1', 'executable', false],
      ['lib', '/main/1', null, false],
      ['x.c', '/main/1', 'symlink', false],
    ]);

    // Again: nothing changes, in the VOB or the view.
    const ops = await history();
    const again = await ok(['fsimport', '--recurse', drop, view], { home, cwd: root });
    expect(again.stdout).toContain('0 new elements, 0 new versions, 0 names removed, 4 unchanged.');
    expect(again.stdout).toContain('Updated view "dv": 0 loaded,');
    expect(await history()).toBe(ops);

    // With a -mkbranch rule in the view's spec, new versions go on dev, as a checkout in the view would.
    const spec = join(root, 'dev.cs');
    writeFileSync(spec, 'element * CHECKEDOUT\nelement * .../dev/LATEST\nelement * /main/LATEST -mkbranch dev\nload /\n');
    await ok(['setcs', spec], { home, cwd: view });
    writeFileSync(join(drop, 'README'), 'read me, on dev\n');
    const onDev = await ok(['fsimport', '--recurse', `${drop}/.`, join(view, 'drop')], { home, cwd: root });
    expect(onDev.stdout).toContain('0 new elements, 1 new versions');
    expect(readFileSync(join(view, 'drop', 'README'), 'utf8')).toBe('read me, on dev\n');
    expect((await ls()).find((e) => e.name === 'README')?.version).toBe('/main/dev/1');
    expect((await ok(['cat', '--vob', 'v', 'drop/README@@/main/LATEST'], { home })).stdout).toBe('read me\n');

    // An element checked out in the view is refused, and nothing is imported.
    await ok(['checkout', 'drop/lib/x.c'], { home, cwd: view });
    writeFileSync(join(drop, 'lib', 'x.c'), 'int x = 1;\n');
    writeFileSync(join(drop, 'NEW'), 'new\n');
    const before = await history();
    const refused = await msite(['fsimport', '--recurse', `${drop}/.`, join(view, 'drop')], { home, cwd: root });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      'msite: error: cannot import into "drop": "drop/lib/x.c" is checked out in this view (check them in or uncheckout them first)\n',
    );
    expect(await history()).toBe(before);

    // A VOB path with --vob still works, with its own config spec (/main/LATEST: README differs there too).
    await ok(['uncheckout', 'drop/lib/x.c'], { home, cwd: view });
    const byVob = await ok(['fsimport', '--vob', 'v', '--recurse', `${drop}/.`, 'drop'], { home, cwd: root });
    expect(byVob.stdout).toContain('1 new elements, 3 new versions');
    expect(byVob.stdout).not.toContain('Updated view');

    // The view imported into itself: its view-private file becomes an element, its .msite is left out.
    await ok(['update'], { home, cwd: view });
    writeFileSync(join(view, 'local.txt'), 'mine\n');
    const self = await ok(['fsimport', '--recurse', `${view}/.`, view], { home, cwd: root });
    expect(self.stdout).toContain('Created file element "local.txt".\nCreated a new version of ".".\n1 new elements, 1 new versions');
    expect((await json<LsRow[]>(['ls', 'local.txt'], { home, cwd: view }))[0]).toMatchObject({ version: '/main/1', viewPrivate: false });
  });
});
