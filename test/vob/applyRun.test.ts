import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newOid, type OplogId, type ReplicaOid } from '../../src/core/ids.js';
import { mkvob } from '../../src/replication/mkvob.js';
import { chmaster } from '../../src/vob/commands/chmaster.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import {
  actualOf,
  applyImported,
  applyImportedMany,
  applyLocal,
  readOplog,
  type ImportOutcome,
  type OplogEntry,
} from '../../src/vob/ops/applyOp.js';
import { resolvePath } from '../../src/vob/resolvePath.js';
import { Vob } from '../../src/vob/vob.js';
import { tempDir } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

describe('ops applied in runs', () => {
  const root = tempDir();

  it('an imported run with one op that cannot apply goes op by op: that one is discarded, the rest apply', () => {
    const vob = mkvob(join(root, 'v'), { tag: 'v', replicaName: 'boston_hub' });
    try {
      mkelem(vob, 'a.c', { auto: true });
      const sanfran = newOid() as unknown as ReplicaOid;
      applyLocal(vob, 'mkreplica', { replica: sanfran, name: 'sanfran_hub', host: 'sf' });
      chmaster(vob, 'sanfran_hub', ['a.c@@/main']);
      const branch = resolvePath(vob, 'a.c@@/main').branch!.oid;
      const content = vob.transaction(() => ['v1', 'v2', 'v3', 'v4'].map((t) => vob.pool.put(Buffer.from(t))));
      const entry = (id: number, number: number, c: string): OplogEntry => ({
        origin: sanfran,
        id: id as OplogId,
        kind: 'mkversion',
        data: { branch, version: newOid(), number, content: c, comment: '' },
        at: 1_000 + id,
      });
      const entries = [entry(1, 1, content[0]!), entry(2, 2, content[1]!), entry(3, 7, content[2]!), entry(4, 3, content[3]!)];
      const outcomes: ImportOutcome[] = [];
      vob.transaction(() => applyImportedMany(vob, entries, { onOutcome: (_, o) => outcomes.push(o) }));
      expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'discarded', 'applied']);
      expect(outcomes[2]).toMatchObject({ reason: 'version number 7 does not follow 2 on branch "a.c@@/main"' });
      expect(actualOf(vob, sanfran)).toBe(4);
      expect(vob.pool.get(resolvePath(vob, 'a.c@@/main/3').version!.content!).toString()).toBe('v4');
      const logged = readOplog(vob).filter((e) => e.origin === sanfran);
      expect(logged.map((e) => [e.id, e.discarded !== null])).toEqual([
        [1, false],
        [2, false],
        [3, true],
        [4, false],
      ]);
    } finally {
      vob.close();
    }
  });

  it('a run that applies whole leaves the VOB as applying its ops one by one does', () => {
    const base = join(root, 'base');
    const setup = mkvob(base, { tag: 'b', replicaName: 'boston_hub' });
    const sanfran = newOid() as unknown as ReplicaOid;
    let entries: OplogEntry[];
    try {
      mkelem(setup, 'f', { auto: true });
      mkelem(setup, 'g', { auto: true });
      applyLocal(setup, 'mkreplica', { replica: sanfran, name: 'sanfran_hub', host: 'sf' });
      chmaster(setup, 'sanfran_hub', ['f@@/main', 'g@@/main']);
      const f = resolvePath(setup, 'f@@/main').branch!.oid;
      const g = resolvePath(setup, 'g@@/main').branch!.oid;
      const content = setup.transaction(() => ['1', '2', '3', '4', '5'].map((t) => setup.pool.put(Buffer.from(t))));
      const next = { [f]: 1, [g]: 1 };
      entries = [f, g, f, f, g].map((branch, n) => ({
        origin: sanfran,
        id: (n + 1) as OplogId,
        kind: 'mkversion',
        data: { branch, version: newOid(), number: next[branch]!++, content: content[n]!, comment: `c${n}` },
        at: 2_000 + n,
      }));
    } finally {
      setup.close();
    }
    cpSync(base, join(root, 'one'), { recursive: true });
    cpSync(base, join(root, 'run'), { recursive: true });
    const one = Vob.open(join(root, 'one'));
    const run = Vob.open(join(root, 'run'));
    try {
      one.transaction(() => entries.forEach((e) => expect(applyImported(one, e)).toEqual({ status: 'applied' })));
      run.transaction(() => applyImportedMany(run, entries));
    } finally {
      one.close();
      run.close();
    }
    const { version, branch, oplog, epoch } = snapshot(join(root, 'one'));
    expect((version as unknown[]).length).toBe(10); // 3 of the root directory, 2 /main/0, 5 new
    const ran = snapshot(join(root, 'run'));
    expect({ version: ran.version, branch: ran.branch, oplog: ran.oplog, epoch: ran.epoch }).toEqual({ version, branch, oplog, epoch });
  });
});
