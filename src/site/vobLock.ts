import { randomUUID } from 'node:crypto';
import { isoTime } from '../core/clock.js';
import { StateError } from '../core/errors.js';
import { processAlive, processIdentity } from '../core/processAlive.js';
import type { SiteHome } from './siteHome.js';

/** A lock row taken in site.db; `release` gives it back (only if it is still ours). */
export interface HeldVobLock {
  name: string;
  release(): void;
}

export interface VobLockOptions {
  /** How long to wait for a live holder, in milliseconds (0: do not wait). */
  waitMs: number;
  /** What the holder is doing, for the message another process sees (`sync_receive`). */
  command: string;
  /** How often to look again while waiting. */
  pollMs?: number;
}

interface LockRow {
  pid: number;
  process: string | null;
  token: string;
  command: string;
  since: number;
}

/**
 * Takes the site-wide lock `name` (`import:TAG`, `export:TAG`) for this process: one row in site.db's
 * `vob_lock`, so it holds across every process of the site, the receipt handler's and the scheduler's
 * alike. A holder whose process is gone (killed mid-import), or whose pid another process has since
 * been given (the row keeps the holder's processIdentity), is taken over. A live holder is waited for,
 * up to `waitMs`; each call takes its own token, so two calls in one process exclude each other too.
 *
 * @throws StateError naming the process that holds it, once the wait is over.
 */
export async function takeVobLock(home: SiteHome, name: string, options: VobLockOptions): Promise<HeldVobLock> {
  const token = randomUUID();
  const identity = processIdentity();
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const holder = home.withDatabase((site) =>
      site.db
        .transaction((): LockRow | undefined => {
          const row = site.db.prepare('SELECT pid, process, token, command, since FROM vob_lock WHERE name = ?').get(name) as
            LockRow | undefined;
          if (row && processAlive(row.pid, row.process)) return row;
          site.db
            .prepare('INSERT OR REPLACE INTO vob_lock (name, pid, process, token, command, since) VALUES (?, ?, ?, ?, ?, ?)')
            .run(name, process.pid, identity ?? null, token, options.command, Date.now());
          return undefined;
        })
        .immediate(),
    );
    if (holder === undefined) {
      return {
        name,
        release: () => home.withDatabase((site) => site.db.prepare('DELETE FROM vob_lock WHERE name = ? AND token = ?').run(name, token)),
      };
    }
    if (Date.now() >= deadline) {
      throw new StateError(
        `${name.replace(':', ' of VOB ')} is locked by process ${holder.pid} (${holder.command}, since ${isoTime(holder.since)})`,
        { hint: 'wait for it to finish, or give a longer -lockwait', data: { lock: name, pid: holder.pid } },
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(options.pollMs ?? 200, Math.max(1, deadline - Date.now()))));
  }
}
