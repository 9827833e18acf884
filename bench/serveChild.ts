import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The built CLI: from dist/bench/ when the bench runs, from bench/ when a test imports this. */
export const BIN = existsSync(join(here, '..', 'bin', 'msite.js'))
  ? join(here, '..', 'bin', 'msite.js')
  : join(here, '..', '..', 'bin', 'msite.js');

/** A `msite serve` child process, once it listens. */
export interface ServedChild {
  child: ChildProcess;
  /** Its peer listener's port; undefined when the site has no identity (no peer listener). */
  peerPort: number | undefined;
  /** Resolves with its exit code when it ends. */
  exited: Promise<number | null>;
  /** What it has written on stderr so far. */
  stderr(): string;
}

export interface ServeChildOptions {
  /** The peer listener's port: default 0, any free one (a restart passes the previous one). */
  port?: number;
  /** More environment (MSITE_STOP_GRACE, say). */
  env?: Record<string, string>;
  /** Arguments for node (a CPU profile, say). */
  nodeArgs?: readonly string[];
}

/**
 * `msite serve` for `home` in a child process of its own (so its memory and CPU can be read from
 * /proc, and signals reach it alone), its admin listener on a free port; resolves once it listens,
 * and rejects if it exits first.
 */
export function serveChild(home: string, options: ServeChildOptions = {}): Promise<ServedChild> {
  const env: NodeJS.ProcessEnv = { ...process.env, MSITE_LOG_LEVEL: 'info', ...options.env };
  delete env.MSITE_VOB;
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), BIN, 'serve', '--home', home, '--port', String(options.port ?? 0), '--admin-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const served = (peerPort: number | undefined): ServedChild => ({ child, peerPort, exited, stderr: () => err });
  return new Promise((resolveServe, rejectServe) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const peers = /msite serve: peers on port (\d+)\n/.exec(out);
      if (peers) resolveServe(served(Number(peers[1])));
      else if (out.includes('msite serve: no peer listener')) resolveServe(served(undefined));
    });
    void exited.then((code) => rejectServe(new Error(`msite serve exited ${code}: ${err}`)));
  });
}

/** Resolves once `child` has exited (at once if it has). */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolveExit) =>
    child.exitCode !== null || child.signalCode !== null ? resolveExit() : child.once('exit', () => resolveExit()),
  );
}

/** Stops a child with SIGTERM (a daemon then closes its listeners and database) and waits for it. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited(child);
}
