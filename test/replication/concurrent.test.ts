import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mktype } from '../../src/vob/commands/types.js';
import { Vob } from '../../src/vob/vob.js';
import { BIN, tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

function run(home: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MSITE_HOME: home } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('two imports of one packet at once (a receipt handler and a scheduled job)', () => {
  it('serialize: both succeed and every op is applied once', async () => {
    const root = tempDir();
    const [boston, bangalore] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    const vob = Vob.open(join(root, 'boston_hub.vob'));
    try {
      mktype(
        vob,
        'lbtype',
        Array.from({ length: 1500 }, (_, i) => `C${i}`),
      );
    } finally {
      vob.close();
    }
    const [packet] = await boston.exportTo('bangalore');
    const results = await Promise.all([
      run(bangalore.home, ['syncreplica', '--import', packet!]),
      run(bangalore.home, ['syncreplica', '--import', packet!]),
    ]);
    expect(
      results.map((r) => r.code),
      results.map((r) => r.out).join('\n'),
    ).toEqual([0, 0]);
    const names = (await bangalore.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name);
    expect(names).toHaveLength(1500);
    const ids = (await bangalore.json<{ id: number | null; origin: string }[]>('lshistory'))
      .filter((h) => h.origin === 'boston_hub' && h.id !== null)
      .map((h) => h.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
