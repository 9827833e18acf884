import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportUpdate } from '../../src/replication/exportUpdate.js';
import { importPackets } from '../../src/replication/importPackets.js';
import { exportReplica, importReplica } from '../../src/replication/mkreplica.js';
import { mkvob } from '../../src/replication/mkvob.js';
import { mklabel } from '../../src/vob/commands/annotations.js';
import { chmaster } from '../../src/vob/commands/chmaster.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { lshistory } from '../../src/vob/commands/history.js';
import { mktype, rmtype } from '../../src/vob/commands/types.js';
import type { Vob } from '../../src/vob/vob.js';
import { tempDir } from '../helpers/cli.js';

describe('an op that cannot apply here', () => {
  const root = tempDir();
  const vobs: Vob[] = [];
  afterAll(() => vobs.forEach((v) => v.close()));
  let n = 0;
  const send = async (from: Vob, to: string) => {
    const out = join(root, `p${++n}`);
    mkdirSync(out);
    return (await exportUpdate(from, [to], { out })).packets;
  };

  it('is recorded as discarded with its reason, and the ids stay dense', async () => {
    const a = mkvob(join(root, 'a.vob'), { tag: 'd', replicaName: 'a' });
    mkdirSync(join(root, 'c'));
    const [forB, forC] = await exportReplica(
      a,
      [
        { host: 'hb', name: 'b' },
        { host: 'hc', name: 'c' },
      ],
      { out: join(root, 'c') },
    );
    const b = await importReplica(join(root, 'b.vob'), forB!, { tag: 'd' });
    const c = await importReplica(join(root, 'c.vob'), forC!, { tag: 'd' });
    vobs.push(a, b, c);
    mktype(a, 'lbtype', ['L'], { shared: true });
    mkelem(a, 'f', { auto: true, content: new TextEncoder().encode('x') });
    chmaster(a, 'b', ['f@@/main']);
    await importPackets(b, await send(a, 'b'));
    await importPackets(c, await send(a, 'c'));

    // b labels its version with the shared type while a, the type's master, removes the type.
    mklabel(b, 'L', ['f']);
    rmtype(a, ['lbtype:L']);
    await importPackets(c, await send(a, 'c'));
    const [outcome] = await importPackets(c, await send(b, 'c'));
    expect(outcome).toMatchObject({ result: 'applied', discarded: 1 });
    expect(outcome!.warnings.join('\n')).toMatch(/op \d+ from b \(mklabel\) was discarded: type not found|lbtype not found/);
    const last = lshistory(c)
      .filter((h) => h.origin === 'b' && h.id !== null)
      .at(-1)!;
    expect(last).toMatchObject({ kind: 'mklabel', discarded: expect.stringMatching(/not found/) });
    // The next op from b still applies: the discarded one kept b's ids dense here.
    mktype(b, 'lbtype', ['AFTER']);
    expect((await importPackets(c, await send(b, 'c')))[0]).toMatchObject({ result: 'applied', applied: 1 });
  });
});
