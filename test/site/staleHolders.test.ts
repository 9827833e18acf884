import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { processIdentity } from '../../src/core/processAlive.js';
import { claimDaemon } from '../../src/site/daemonClaim.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { takeVobLock } from '../../src/site/vobLock.js';
import { tempDir } from '../helpers/cli.js';

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    if (c.exitCode === null && c.signalCode === null) await once(c, 'exit');
  }
});

/** A live process that is not msite: what a pid recorded before a restart may name afterwards. */
async function unrelatedProcess(): Promise<number> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  await once(child, 'spawn');
  return child.pid!;
}

describe('a holder whose pid another process was given', () => {
  it('no longer holds the daemon claim or a VOB lock; the process it names still does', async () => {
    const dir = tempDir('msite-stale-');
    const home = SiteHome.locate(dir, {}, dir);
    const pid = await unrelatedProcess();
    const site = SiteDatabase.open(dir);
    try {
      const claimOf = (identity: string | undefined) =>
        site.db
          .prepare("INSERT OR REPLACE INTO daemon_state (key, value) VALUES ('daemon', ?)")
          .run(JSON.stringify({ pid, token: 't', since: 0, port: 1234, process: identity }));
      claimOf(processIdentity(pid));
      expect(() => claimDaemon(site.db, dir, { since: 1 })).toThrow(/a daemon already serves .*\(process \d+, port 1234\)/);
      // Recorded by an earlier holder of the pid: this process's identity is not the live one's.
      claimOf(processIdentity());
      claimDaemon(site.db, dir, { since: 1 }).release();

      const lockOf = (identity: string | undefined) =>
        site.db
          .prepare(
            "INSERT OR REPLACE INTO vob_lock (name, pid, process, token, command, since) VALUES ('import:v', ?, ?, 't', 'sync_receive', 0)",
          )
          .run(pid, identity ?? null);
      lockOf(processIdentity(pid));
      await expect(takeVobLock(home, 'import:v', { waitMs: 0, command: 'test' })).rejects.toThrow(/locked by process/);
      lockOf(processIdentity());
      (await takeVobLock(home, 'import:v', { waitMs: 0, command: 'test' })).release();
    } finally {
      site.close();
    }
  });
});
