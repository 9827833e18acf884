import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkvob } from '../../src/replication/mkvob.js';
import { concatenated } from '../../src/vob/bulkColumns.js';
import { oplogRunData, SCAN_BATCH, scanOplogAbove, type OplogRun } from '../../src/vob/oplogScan.js';
import type { Vob } from '../../src/vob/vob.js';
import { tempDir } from '../helpers/cli.js';

describe('bulk reads', () => {
  const root = tempDir();
  let vob: Vob;
  beforeAll(() => {
    vob = mkvob(join(root, 'v'), { tag: 'v', replicaName: 'r' });
  });
  afterAll(() => vob.close());

  it('concatenate BLOBs byte for byte: NULs, invalid UTF-8, empty values; NULLs are skipped', () => {
    vob.db.exec('CREATE TABLE scratch (n INTEGER PRIMARY KEY, b BLOB)');
    const select = vob.db.prepare(`SELECT ${concatenated('b')}, json_group_array(length(b)) FROM (SELECT b FROM scratch ORDER BY n)`).raw();
    fc.assert(
      fc.property(fc.array(fc.option(fc.uint8Array({ maxLength: 300 }), { freq: 8 }), { maxLength: 60 }), (values) => {
        vob.db.exec('DELETE FROM scratch');
        const insert = vob.db.prepare('INSERT INTO scratch (n, b) VALUES (?, ?)');
        values.forEach((v, n) => insert.run(n, v === null ? null : Buffer.from(v)));
        const [bytes, lengths] = select.get() as [Buffer | null, string];
        const present = values.filter((v) => v !== null);
        expect(JSON.parse(lengths)).toEqual(values.map((v) => (v === null ? null : v.length)));
        if (present.length === 0) expect(bytes).toBeNull();
        else expect(Buffer.compare(bytes!, Buffer.concat(present))).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('scanOplogAbove returns exactly the rows above each floor, in seq order, across runs', () => {
    // Three origins interleaved, more rows than one run holds, content on some rows.
    const origins = ['o-1', 'o-2', 'o-3'].map((o) => ({ oid: o, idx: vob.originIndex(o), next: 1 }));
    const insert = vob.db.prepare('INSERT INTO oplog (origin, id, kind, data, at, content) VALUES (?, ?, ?, ?, ?, ?)');
    vob.transaction(() => {
      for (let n = 0; n < 2 * SCAN_BATCH + 123; n++) {
        const o = origins[(n * 7) % 3]!;
        const data = randomBytes(n % 50);
        insert.run(o.idx, o.next++, n % 5 === 0 ? 'checkin' : 'mklabel', data, 1_800_000_000_000 + n, n % 5 === 0 ? randomBytes(32) : null);
      }
    });
    const floors = { 'o-1': 10, 'o-3': 500 }; // o-2 left out
    const expected = vob.db
      .prepare('SELECT seq, origin, id, kind, at, data, content FROM oplog WHERE origin IN (?, ?) ORDER BY seq')
      .all(origins[0]!.idx, origins[2]!.idx) as {
      seq: number;
      origin: number;
      id: number;
      kind: string;
      at: number;
      data: Buffer;
      content: Buffer | null;
    }[];
    const want = expected.filter((r) => r.id > (r.origin === origins[0]!.idx ? 10 : 500));
    const runs = [...scanOplogAbove(vob, floors)];
    expect(runs.length).toBeGreaterThan(1);
    const got = runs.flatMap((run: OplogRun) =>
      run.seq.map((seq, i) => ({
        seq,
        origin: run.origin[i],
        id: run.id[i],
        kind: run.kind[i],
        at: run.at[i],
        data: oplogRunData(run, i).toString('hex'),
        content: run.content[i],
      })),
    );
    expect(got).toEqual(
      want.map((r) => ({
        seq: r.seq,
        origin: r.origin === origins[0]!.idx ? 'o-1' : 'o-3',
        id: r.id,
        kind: r.kind,
        at: r.at,
        data: r.data.toString('hex'),
        content: r.content?.toString('hex'),
      })),
    );
    expect([...scanOplogAbove(vob, { 'o-2': 1_000_000 })]).toEqual([]);
    expect([...scanOplogAbove(vob, {})]).toEqual([]);
  });
});
