import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { exportUpdate } from '../../src/replication/exportUpdate.js';
import { importPackets } from '../../src/replication/importPackets.js';
import { exportReplica, importReplica } from '../../src/replication/mkreplica.js';
import { mkvob } from '../../src/replication/mkvob.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { resolvePath } from '../../src/vob/resolvePath.js';
import { SCHEMA_VERSION } from '../../src/vob/schema.js';
import { json, ok, tempDir } from '../helpers/cli.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/vob-schema2');

describe('schema migrations', () => {
  it('a VOB written at schema 2 opens, migrates, keeps its history and goes on', async () => {
    const dir = tempDir();
    const vob = join(dir, 'old.vob');
    cpSync(FIXTURE, vob, { recursive: true });
    const home = join(dir, 'home');
    const history = await json<{ id: number; kind: string; origin: string }[]>(['lshistory', '--vob', vob], { home });
    expect(history.map((h) => h.id)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(history.every((h) => h.origin === 'boston_hub')).toBe(true);
    expect(history.at(-1)!.kind).toBe('mklabel');
    expect((await ok(['cat', '--vob', vob, 'src/hello.txt@@REL1'], { home })).stdout).toBe('hello\n');
    await ok(['mklbtype', '--vob', vob, 'REL2'], { home });
    expect((await json<{ id: number }[]>(['lshistory', '--vob', vob], { home })).at(-1)!.id).toBe(17);
    const db = new BetterSqlite3(join(vob, 'vob.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('an export carries the content of ops written before the oplog named it (schema < 6)', async () => {
    const dir = tempDir();
    const vob = mkvob(join(dir, 'a.vob'), { tag: 'a', replicaName: 'boston_hub' });
    mkdirSync(join(dir, 'p'));
    const [creation] = await exportReplica(vob, [{ host: 'sf', name: 'sanfran_hub' }], { out: join(dir, 'p') });
    const sibling = await importReplica(join(dir, 'b.vob'), creation!, { tag: 'b' });
    try {
      mkelem(vob, 'hello.txt', { auto: true, content: Buffer.from('hello\n') });
      // What the migration leaves for rows it found: no content column.
      vob.db.prepare('UPDATE oplog SET content = NULL').run();
      const { packets } = await exportUpdate(vob, ['sanfran_hub'], { out: join(dir, 'p') });
      const [outcome] = await importPackets(sibling, packets);
      expect(outcome).toMatchObject({ result: 'applied', discarded: 0 });
      expect(sibling.pool.get(resolvePath(sibling, 'hello.txt').version!.content!).toString()).toBe('hello\n');
    } finally {
      vob.close();
      sibling.close();
    }
  });
});
