import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MastershipError, MsiteError } from '../../src/core/errors.js';
import { exportUpdate } from '../../src/replication/exportUpdate.js';
import { importPackets } from '../../src/replication/importPackets.js';
import { exportReplica, importReplica } from '../../src/replication/mkreplica.js';
import { mkvob } from '../../src/replication/mkvob.js';
import { checkout } from '../../src/vob/commands/checkouts.js';
import { chmaster } from '../../src/vob/commands/chmaster.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { lshistory } from '../../src/vob/commands/history.js';
import { importVersions } from '../../src/vob/commands/importVersions.js';
import { readOplog } from '../../src/vob/ops/applyOp.js';
import { storedContentGroup } from '../../src/vob/ops/registry.js';
import { resolvePath } from '../../src/vob/resolvePath.js';
import type { Vob } from '../../src/vob/vob.js';
import { tempDir } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

const bytes = (s: string) => Buffer.from(s);

describe('importVersions, the bulk path', () => {
  const root = tempDir();
  let n = 0;
  let dir: string;
  let vob: Vob;
  beforeEach(() => {
    dir = join(root, `v${++n}`);
    vob = mkvob(dir, { tag: 'v', replicaName: 'boston_hub' });
    mkelem(vob, 'src', { kind: 'directory', auto: true });
    mkelem(vob, 'src/a.c', { auto: true });
    mkelem(vob, 'src/b.c', { auto: true });
  });
  afterEach(() => vob.close());

  const cat = (path: string) => vob.pool.get(resolvePath(vob, path).version!.content!).toString();

  it('adds each item as the next version of its branch, one mkversion op each, ids dense', () => {
    const before = readOplog(vob).length;
    const result = importVersions(
      vob,
      [
        { path: 'src/a.c', content: bytes('a1'), comment: 'first' },
        { path: 'src/b.c', content: bytes('b1') },
        { path: 'src/a.c', content: bytes('a2') },
      ],
      { batch: 2 },
    );
    expect(result.versions).toBe(3);
    expect(cat('src/a.c@@/main/1')).toBe('a1');
    expect(cat('src/a.c@@/main/2')).toBe('a2');
    expect(cat('src/b.c')).toBe('b1');
    const ops = readOplog(vob);
    expect(ops.slice(before).map((o) => o.kind)).toEqual(['mkversion', 'mkversion', 'mkversion']);
    expect(ops.map((o) => o.id)).toEqual(ops.map((_, i) => i + 1));
    expect(lshistory(vob).at(-1)!.summary).toBe('created version "src/a.c@@/main/2"');
    expect(resolvePath(vob, 'src/a.c@@/main/1').version!.comment).toBe('first');
  });

  it('rolls a refused batch back whole, keeps the batches before it, and says how many went in', () => {
    checkout(vob, 'src/b.c');
    const before = snapshot(dir);
    const err = (() => {
      try {
        importVersions(
          vob,
          [
            { path: 'src/a.c', content: bytes('a1') },
            { path: 'src/a.c', content: bytes('a2') },
            { path: 'src/a.c', content: bytes('a3') },
            { path: 'src/b.c', content: bytes('b1') },
          ],
          { batch: 2 },
        );
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(MsiteError);
    expect((err as MsiteError).message).toBe('"src/b.c" is already checked out at this replica');
    expect((err as MsiteError).data.imported).toBe(2);
    expect(resolvePath(vob, 'src/a.c').version!.number).toBe(2);
    const after = snapshot(dir);
    expect((after.version as unknown[]).length - (before.version as unknown[]).length).toBe(2);
  });

  it('refuses a branch another replica masters, naming it, and changes nothing', async () => {
    mkdirSync(join(root, `p${n}`));
    await exportReplica(vob, [{ host: 'sf', name: 'sanfran_hub' }], { out: join(root, `p${n}`) });
    chmaster(vob, 'sanfran_hub', ['src/a.c@@/main']);
    const before = snapshot(dir);
    expect(() => importVersions(vob, [{ path: 'src/a.c', content: bytes('x') }])).toThrow(MastershipError);
    expect(() => importVersions(vob, [{ path: 'src/a.c', content: bytes('x') }])).toThrow(
      'Unable to perform operation "checkin" in replica "boston_hub" of VOB "v": Master replica of branch "src/a.c@@/main" is "sanfran_hub"',
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it('an mkversion names its branch first, where an export reads it without decoding the op', () => {
    importVersions(vob, [{ path: 'src/a.c', content: bytes('a1') }]);
    const branch = resolvePath(vob, 'src/a.c@@/main').branch!.oid;
    const rows = vob.db.prepare('SELECT kind, data FROM oplog ORDER BY seq DESC LIMIT 2').all() as { kind: string; data: Buffer }[];
    expect(rows.map((r) => storedContentGroup(r.kind, r.data))).toEqual([branch.replace(/-/g, ''), undefined]);
  });

  it('refuses a directory and bad batch sizes', () => {
    expect(() => importVersions(vob, [{ path: 'src', content: bytes('x') }])).toThrow('a directory version has entries');
    expect(() => importVersions(vob, [], { batch: 0 })).toThrow('batch must be a positive integer');
  });

  it('replicates: the versions reach a sibling in an update packet, bytes and numbers alike', async () => {
    const packets = join(root, `q${n}`);
    mkdirSync(packets);
    const [creation] = await exportReplica(vob, [{ host: 'sf', name: 'sanfran_hub' }], { out: packets });
    const sibling = await importReplica(join(root, `s${n}`), creation!, { tag: 's' });
    try {
      importVersions(vob, [
        { path: 'src/a.c', content: bytes('a1') },
        { path: 'src/a.c', content: bytes('a2') },
      ]);
      const update = await exportUpdate(vob, ['sanfran_hub'], { out: packets });
      const [outcome] = await importPackets(sibling, update.packets);
      expect(outcome!.result).toBe('applied');
      expect(outcome!.discarded).toBe(0);
      const v = resolvePath(sibling, 'src/a.c@@/main/2').version!;
      expect(sibling.pool.get(v.content!).toString()).toBe('a2');
      expect(v.oid).toBe(resolvePath(vob, 'src/a.c@@/main/2').version!.oid);
    } finally {
      sibling.close();
    }
  });
});
