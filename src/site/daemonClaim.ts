import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { StateError } from '../core/errors.js';
import { processAlive, processIdentity } from '../core/processAlive.js';

/** The `daemon_state` key whose row says which process serves the site home. */
const CLAIM_KEY = 'daemon';

const claimSchema = z.object({
  pid: z.number().int(),
  token: z.string(),
  port: z.number().int().optional(),
  peerPort: z.number().int().optional(),
  since: z.number(),
  /** The holder's processIdentity: a live process that only reused the pid is not the holder. */
  process: z.string().optional(),
});
export type DaemonClaimRow = z.infer<typeof claimSchema>;

/** What the daemon that holds the site home says of itself. */
export type DaemonClaimInfo = Omit<DaemonClaimRow, 'token'>;

/** The claim a daemon holds; `release` gives it back (only while it is still this one). */
export interface DaemonClaim {
  readonly token: string;
  release(): void;
}

function readClaim(db: Database): DaemonClaimRow | undefined {
  const value = db.prepare('SELECT value FROM daemon_state WHERE key = ?').pluck().get(CLAIM_KEY) as string | undefined;
  if (value === undefined) return undefined;
  const parsed = claimSchema.safeParse(JSON.parse(value));
  // A row this msite cannot read was not written by a daemon that could still be running it.
  return parsed.success ? parsed.data : undefined;
}

/** The live daemon holding the site home, if any: a claim whose process is gone does not count. */
export function liveDaemonClaim(db: Database): DaemonClaimInfo | undefined {
  const row = readClaim(db);
  if (row === undefined || !processAlive(row.pid, row.process)) return undefined;
  return {
    pid: row.pid,
    since: row.since,
    ...(row.port !== undefined ? { port: row.port } : {}),
    ...(row.peerPort !== undefined ? { peerPort: row.peerPort } : {}),
  };
}

/** The error a second daemon for one home fails with, naming the process that holds it. */
export function daemonHeldError(homeDir: string, holder: Pick<DaemonClaimInfo, 'pid' | 'port'>): StateError {
  return new StateError(
    `a daemon already serves ${homeDir} (process ${holder.pid}${holder.port !== undefined ? `, port ${holder.port}` : ''})`,
    {
      data: { pid: holder.pid, ...(holder.port !== undefined ? { port: holder.port } : {}) },
      hint: `stop it first: kill ${holder.pid}`,
    },
  );
}

/**
 * Claims the site home for this process's daemon: one `daemon_state` row, read and written in one
 * immediate transaction, so of two daemons starting at once on one home exactly one gets it (a file
 * checked then written, as daemon.json alone was, lets both through). A claim whose process is gone
 * (a daemon killed, the machine restarted) is taken over, and so is one whose pid another process
 * has since been given (after a restart pids are soon reused): the claim records the holder's
 * processIdentity beside its pid.
 *
 * @throws StateError naming the process that holds the home.
 */
export function claimDaemon(db: Database, homeDir: string, info: { port?: number; peerPort?: number; since: number }): DaemonClaim {
  const token = randomUUID();
  const identity = processIdentity();
  const row: DaemonClaimRow = { pid: process.pid, token, ...info, ...(identity ? { process: identity } : {}) };
  db.transaction(() => {
    const holder = liveDaemonClaim(db);
    if (holder) throw daemonHeldError(homeDir, holder);
    db.prepare('INSERT OR REPLACE INTO daemon_state (key, value) VALUES (?, ?)').run(CLAIM_KEY, JSON.stringify(row));
  }).immediate();
  return {
    token,
    release: () => {
      db.transaction(() => {
        if (readClaim(db)?.token === token) db.prepare('DELETE FROM daemon_state WHERE key = ?').run(CLAIM_KEY);
      }).immediate();
    },
  };
}
