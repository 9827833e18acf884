import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src/core/processAlive.js';
import { BIN, json, msite, startBinary, tempDir } from '../helpers/cli.js';
import { until } from '../helpers/loopbackSites.js';

/** `msite demo` as a user runs it: the built binary, its daemons child processes on loopback. */

const cwd = tempDir('msite-demo-test-');

interface Printed {
  root: string;
  sites: { name: string; url: string; pid: number; home: string }[];
}

/** The directory and the three sites `msite demo` printed once its family runs. */
function printed(stdout: string): Printed | undefined {
  const root = /^msite demo: three sites under (\S+); dashboards:$/m.exec(stdout)?.[1];
  const sites = [...stdout.matchAll(/^ {2}(\S+) +(http:\/\/127\.0\.0\.1:\d+\/) +\(daemon (\d+), home (\S+)\)$/gm)].map((m) => ({
    name: m[1]!,
    url: m[2]!,
    pid: Number(m[3]),
    home: m[4]!,
  }));
  return root !== undefined && sites.length === 3 ? { root, sites } : undefined;
}

const lbtypeOids = async (home: string): Promise<string[]> =>
  (await json<{ oid: string }[]>(['lstype', '--kind', 'lbtype'], { home })).map((t) => t.oid).sort();

const children: ReturnType<typeof spawn>[] = [];
/** Daemons of a demo that failed midway (they run in their own process groups, so they outlive it). */
const daemons: number[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const pid of daemons) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
});

describe('msite demo', () => {
  it.concurrent(
    'runs three sites whose changes flow through jobs, relay and receipt handlers; Ctrl-C stops it cleanly',
    async () => {
      const child = spawn(process.execPath, [BIN, 'demo', '--for', '300'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      await until('the demo prints its dashboards', () => printed(stdout) !== undefined || child.exitCode !== null, 60_000);
      const { root, sites } = printed(stdout) ?? { root: '', sites: [] };
      daemons.push(...sites.map((s) => s.pid));
      expect(
        sites.map((s) => s.name),
        stderr,
      ).toEqual(['boston_hub', 'sanfran_hub', 'bangalore']);
      for (const s of sites) {
        const health = await fetch(`${s.url}api/health`);
        expect(health.status).toBe(200);
        expect(((await health.json()) as { pid: number }).pid).toBe(s.pid);
      }

      // The export job runs every minute; here it is started now at each site, through its daemon. The
      // receipt handlers import what arrives (bangalore's packets through sanfran_hub's daemon).
      const homes = sites.map((s) => s.home);
      await until(
        'the three replicas hold the same label types',
        async () => {
          for (const home of homes) {
            const run = await msite(['schedule', '--run', 'Demo Sync Export'], { home });
            if (run.status === 0) await msite(['schedule', '--wait', 'Demo Sync Export'], { home });
          }
          await new Promise((r) => setTimeout(r, 500));
          const [a, b, c] = await Promise.all(homes.map(lbtypeOids));
          // Six made by the demo's script: REL1, each site's _LATEST, and two V2.0.
          return a!.length >= 6 && JSON.stringify(a) === JSON.stringify(b) && JSON.stringify(a) === JSON.stringify(c);
        },
        60_000,
      );
      // Seed 002's clash: at boston_hub, sanfran_hub's V2.0 came in renamed, with its conflict listed.
      const names = (await json<{ name: string }[]>(['lstype', '--kind', 'lbtype'], { home: homes[0] })).map((t) => t.name);
      expect(names).toEqual(
        expect.arrayContaining(['REL1', 'BOSTON_LATEST', 'SANFRAN_LATEST', 'BANGALORE_LATEST', 'V2.0', 'sanfran_hub_V2.0']),
      );
      expect((await msite(['lsconflict'], { home: homes[0] })).stdout).toContain('sanfran_hub_V2.0');

      child.kill('SIGINT');
      const started = Date.now();
      expect(await exited, stderr).toBe(0);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(stdout).toContain(`msite demo: SIGINT: stopping the daemons\nmsite demo: removed ${root}\n`);
      expect(existsSync(root)).toBe(false);
      for (const s of sites) expect(processAlive(s.pid)).toBe(false);
    },
    150_000,
  );

  it.concurrent(
    '--for SECONDS stops by itself and removes the homes',
    async () => {
      const r = await startBinary(['demo', '--for', '1'], cwd);
      expect(r.status, r.stderr).toBe(0);
      const { root, sites } = printed(r.stdout)!;
      expect(r.stdout).toContain(`msite demo: 1 s: stopping the daemons\nmsite demo: removed ${root}\n`);
      expect(existsSync(root)).toBe(false);
      for (const s of sites) expect(processAlive(s.pid)).toBe(false);
    },
    60_000,
  );
});
