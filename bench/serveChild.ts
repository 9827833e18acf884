import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, from dist/bench/. */
export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'msite.js');

/**
 * `msite serve` for `home` in a child process of its own (so its memory and CPU can be read from
 * /proc), on free ports; resolves with its peer port once it listens. `nodeArgs` go to node (a CPU
 * profile, say).
 */
export function serveChild(home: string, nodeArgs: readonly string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MSITE_HOME: home, MSITE_LOG_LEVEL: 'info' };
  delete env.MSITE_VOB;
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve', '--home', home, '--port', '0', '--admin-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolveServe, rejectServe) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /msite serve: peers on port (\d+)\n/.exec(out);
      if (m) resolveServe({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => rejectServe(new Error(`msite serve exited ${code}: ${err}`)));
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
