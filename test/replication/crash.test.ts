import { spawn } from 'node:child_process';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { mktype } from '../../src/vob/commands/types.js';
import { Vob } from '../../src/vob/vob.js';
import { BIN, tempDir } from '../helpers/cli.js';
import { family, typeNames, type Site } from '../helpers/sites.js';

const OPS = 3000;

function opsFrom(vobDir: string, replicaName: string): number {
  const db = new BetterSqlite3(join(vobDir, 'vob.db'), { readonly: true });
  try {
    return db
      .prepare('SELECT count(*) FROM oplog o JOIN replica_index x ON x.idx = o.origin JOIN replica r ON r.oid = x.oid WHERE r.name = ?')
      .pluck()
      .get(replicaName) as number;
  } finally {
    db.close();
  }
}

/** Starts an import in a child process and SIGKILLs it after `ms`; resolves with how it ended. */
function killedImport(home: string, packet: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'syncreplica', '--import', packet], {
      env: { ...process.env, MSITE_HOME: home },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal ?? `exit ${code}`);
    });
  });
}

describe('an import killed at any moment', () => {
  const root = tempDir();
  let boston: Site;
  let bangalore: Site;
  let packet: string;
  let before: number;

  beforeAll(async () => {
    [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    const vob = Vob.open(join(root, 'boston_hub.vob'));
    try {
      mktype(
        vob,
        'lbtype',
        Array.from({ length: OPS }, (_, i) => `L${i}`),
      );
    } finally {
      vob.close();
    }
    packet = (await boston.exportTo('bangalore'))[0]!;
    before = opsFrom(join(root, 'bangalore.vob'), 'boston_hub');
  });

  it('never leaves a half-applied packet, and the next import completes', async () => {
    const vobDir = join(root, 'bangalore.vob');
    const outcomes: string[] = [];
    // Kill moments spread from process start-up to the end of the apply.
    for (const ms of [30, 150, 300, 450, 600, 800, 1000, 1300]) {
      outcomes.push(await killedImport(bangalore.home, packet, ms));
      const n = opsFrom(vobDir, 'boston_hub');
      expect([before, before + OPS], `after a kill at ${ms} ms`).toContain(n);
      if (n === before + OPS) break;
    }
    expect(outcomes).toContain('SIGKILL');
    await bangalore.run('syncreplica', '--import', packet);
    expect(opsFrom(vobDir, 'boston_hub')).toBe(before + OPS);
    expect(await typeNames(bangalore, 'lbtype')).toEqual(await typeNames(boston, 'lbtype'));
  });
});
