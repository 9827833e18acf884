import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { View, withView } from '../../src/view/view.js';
import { checkoutInView } from '../../src/view/viewCheckouts.js';
import { msite, ok, tempDir } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

describe('msite merge', () => {
  const dir = tempDir('msite-merge-');
  const home = join(dir, 'home');
  const vobDir = join(dir, 'dev.vob');
  const src = join(dir, 'view', 'src');
  const run = (...args: string[]) => ok(args, { home });
  const put = (name: string, bytes: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  beforeAll(async () => {
    await run('mkvob', '--tag', '/vobs/dev', vobDir);
    await run('mkdir', '--auto', 'src');
    await run('mkelem', '--auto', '--from', put('t0', 'a\nb\n'), 'src/t.txt');
    await run('mkelem', '--auto', '--from', put('b0', Buffer.from([1, 0, 2])), 'src/b.bin');
    await run('mkbrtype', 'dev');
    const dev = put('dev.cs', 'element * CHECKEDOUT\nelement * .../dev/LATEST\nelement * /main/LATEST -mkbranch dev\n');
    for (const [f, bytes] of [
      ['src/t.txt', 'a\nb\nfrom dev\n'],
      ['src/b.bin', Buffer.from([9, 0, 9])],
    ] as const) {
      await run('checkout', '--config', dev, f);
      await run('checkin', '--config', dev, '--from', put('x', bytes), f);
    }
    await run('checkout', 'src/b.bin');
    await run('checkin', '--from', put('b1', Buffer.from([7, 0, 7])), 'src/b.bin');
    View.create(join(dir, 'view'), { tag: 'v', vobDir }).close();
  });

  it('--print shows the result and changes nothing, even without a checkout', async () => {
    const t = join(src, 't.txt');
    const before = snapshot(vobDir);
    const r = await run('merge', '--to', t, '--print', `${t}@@/main/dev/LATEST`);
    expect(r.stdout).toBe('a\nb\nfrom dev\n');
    expect(r.stderr).toBe('Merged /main/dev/1 to "src/t.txt" (base /main/1): trivial merge, the version taken whole.\n');
    expect(snapshot(vobDir)).toEqual(before);
    expect(existsSync(t)).toBe(false);
  });

  it('refuses a binary file unless a contributor is chosen, and a file not checked out', async () => {
    const b = join(src, 'b.bin');
    const notOut = await msite(['merge', '--to', b, '/main/dev/1'], { home });
    expect(notOut.stderr).toMatch(/^msite: error: cannot merge to "src\/b.bin": it is not checked out in this view \(check it out first/);
    await withView(src, {}, (v) => checkoutInView(v, b));
    const refused = await msite(['merge', '--to', b, '/main/dev/1'], { home });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      'msite: error: cannot merge "src/b.bin": it is not a text file (keep the target with --ours (-ours), take the merged version with --theirs (-theirs), or record the merge only with --ndata (-ndata))\n',
    );
    expect([...readFileSync(b)]).toEqual([7, 0, 7]);
    expect((await run('merge', '--to', b, '-theirs', '/main/dev/1')).stdout).toMatch(/binary file, one contributor taken whole/);
    expect([...readFileSync(b)]).toEqual([9, 0, 9]);
    expect((await msite(['merge', '--to', b, '--ours', '--theirs', '/main/dev/1'], { home })).status).toBe(2);
    expect((await msite(['merge', '--to', b], { home })).stderr).toMatch(/name the versions to merge from/);
  });
});
