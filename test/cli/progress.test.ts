import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProgress, progressLine } from '../../src/cli/progressLine.js';
import { BIN, tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

/**
 * Runs `msite ARGS` with a real pseudo-terminal as its terminal (util-linux `script`), as an
 * administrator at a shell would; returns everything the terminal received.
 */
function atTerminal(home: string, args: string[]): { status: number; screen: string } {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    env: { ...process.env, MSITE_HOME: home },
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, screen: r.stdout };
}

describe('progress of long work', () => {
  const top = tempDir();
  /** Two sites of the test's own; boston_hub has three changes sanfran_hub lacks. */
  async function sites(): Promise<{ root: string; boston: Site; sanfran: Site }> {
    const root = mkdtempSync(join(top, 'case-'));
    const [boston, sanfran] = (await family(root, ['boston_hub', 'sanfran_hub'])) as [Site, Site];
    for (const t of ['A', 'B', 'C']) await boston.run('mklbtype', t);
    return { root, boston, sanfran };
  }

  /* eslint-disable no-control-regex -- the screen holds the terminal's escape sequences */
  it('syncreplica shows a line on a terminal, drawn in place and erased at the end', async () => {
    const { root, boston, sanfran } = await sites();
    const out = join(root, 'tty-out');
    mkdirSync(out);
    const exported = atTerminal(boston.home, ['syncreplica', '--export', '--out', out, 'sanfran_hub']);
    expect(exported.status).toBe(0);
    expect(exported.screen).toMatch(/\r\x1b\[Kmsite: reading ops: 3 of 3 ops \(100%\)/);
    expect(exported.screen).toMatch(/\r\x1b\[Kmsite: writing packets: 1 of 1 packets \(100%\)/);
    // Erased before the result, which stands alone on its line.
    expect(exported.screen).toMatch(/\r\x1b\[KWrote .*sync_boston_hub_/);
    const imported = atTerminal(sanfran.home, ['syncreplica', '--import', out]);
    expect(imported.status).toBe(0);
    expect(imported.screen).toMatch(/msite: applying sync_boston_hub_\S+: 3 of 3 ops \(100%\)/);
    expect(imported.screen).toMatch(/\r\x1b\[K.*applied/);
  });

  it('writes nothing of it when the output is not a terminal (scripts, scheduled jobs)', async () => {
    const { root, boston, sanfran } = await sites();
    await boston.run('mklbtype', 'D');
    const out = join(root, 'pipe-out');
    mkdirSync(out);
    const exported = await boston.run('syncreplica', '--export', '--out', out, 'sanfran_hub');
    expect(exported.stderr).toBe('');
    const imported = await sanfran.run('syncreplica', '--import', out);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).not.toContain('\r');
  });

  it("is drawn again at most every 100 ms within a step, and always at a step's end or a new step", () => {
    const writes: string[] = [];
    let t = 0;
    const line = progressLine({ isTTY: true, write: (s) => writes.push(s) }, () => t);
    line.listener({ step: 'reading ops', done: 0, total: 10, unit: 'ops' });
    t = 50;
    line.listener({ step: 'reading ops', done: 5, total: 10, unit: 'ops' });
    line.listener({ step: 'reading ops', done: 10, total: 10, unit: 'ops' });
    line.listener({ step: 'writing packets', done: 0, total: 1, unit: 'packets' });
    line.end();
    line.end();
    expect(writes).toEqual([
      '\r\x1b[Kmsite: reading ops: 0 of 10 ops (0%)',
      '\r\x1b[Kmsite: reading ops: 10 of 10 ops (100%)',
      '\r\x1b[Kmsite: writing packets: 0 of 1 packets (0%)',
      '\r\x1b[K',
    ]);
    expect(formatProgress({ step: 'applying p', done: 45_000, total: 103_150, unit: 'ops' })).toBe(
      'applying p: 45,000 of 103,150 ops (43%)',
    );
  });
});
