import { readFileSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomicFile.js';
import { processAlive } from '../core/processAlive.js';

/**
 * `<home>/daemon.json`: how commands find the site's running daemon. Written atomically once it
 * listens, removed when it stops. A file left by a daemon that died (its pid is gone, or given to
 * another process since) is ignored.
 */

const daemonSchema = z.object({
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
  host: z.string().default('127.0.0.1'),
  startedAt: z.string().optional(),
  /** The peer listener's port, when it runs. */
  peerPort: z.number().int().min(1).max(65535).optional(),
  /** The daemon's processIdentity: a file naming a pid another process reused is stale. */
  process: z.string().optional(),
});
export type DaemonInfo = z.infer<typeof daemonSchema>;

/** The live daemon of the site home whose daemon file is `file`; undefined when none runs. */
export function readDaemonFile(file: string): DaemonInfo | undefined {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: DaemonInfo;
  try {
    parsed = daemonSchema.parse(JSON.parse(raw));
  } catch {
    // Half-written files cannot occur (atomic write); anything else is not ours to trust.
    return undefined;
  }
  return processAlive(parsed.pid, parsed.process) ? parsed : undefined;
}

export function writeDaemonFile(file: string, info: DaemonInfo): void {
  writeFileAtomic(file, `${JSON.stringify(info, null, 2)}\n`);
}

/** Removes the file if it still describes process `pid` (a newer daemon's file is left alone). */
export function removeDaemonFile(file: string, pid: number = process.pid): void {
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
    if (current.pid !== pid) return;
  } catch {
    return;
  }
  rmSync(file, { force: true });
}
