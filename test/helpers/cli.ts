import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/msite.js');

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  raw: Buffer;
}

/** A temp directory removed when the test file ends. */
export function tempDir(prefix = 'msite-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the real `msite` executable (the built CLI) in a child process; `home` goes in $MSITE_HOME. */
export function msite(args: readonly string[], options: { home?: string; env?: Record<string, string>; cwd?: string } = {}): RunResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.MSITE_HOME;
  delete env.MSITE_VOB;
  if (options.home) env.MSITE_HOME = options.home;
  if (options.env) Object.assign(env, options.env);
  const r = spawnSync(process.execPath, [BIN, ...args], { env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
}

/** Runs `msite` and fails the test with its stderr unless it succeeded. */
export function ok(args: readonly string[], options: Parameters<typeof msite>[1] = {}): RunResult {
  const r = msite(args, options);
  if (r.status !== 0) throw new Error(`msite ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

/** Runs `msite --json ...` and parses what it printed. */
export function json<T = unknown>(args: readonly string[], options: Parameters<typeof msite>[1] = {}): T {
  return JSON.parse(ok([...args, '--json'], options).stdout) as T;
}
