import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { Io } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';

/** The built CLI (it runs dist/: `npm run build` first). */
export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/msite.js');

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout's exact bytes. */
  raw: Buffer;
}

export interface RunOptions {
  /** The site home, given as $MSITE_HOME. */
  home?: string;
  /** Set on top of this process's environment (less MSITE_HOME and MSITE_VOB). */
  env?: Record<string, string>;
  /** The working directory relative paths are taken from; default this process's. */
  cwd?: string;
  /** What standard input holds (default: nothing); never a terminal. */
  stdin?: string | Buffer;
}

/** A temp directory removed when the test file ends. */
export function tempDir(prefix = 'msite-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment a command sees: this process's, without a site home or VOB of its own, then `options`. */
function commandEnv(options: RunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.MSITE_HOME;
  delete env.MSITE_VOB;
  if (options.home) env.MSITE_HOME = options.home;
  if (options.env) Object.assign(env, options.env);
  return env;
}

/**
 * Runs `msite ARGS` in this process through `main(argv, io)`, with an Io that captures what it
 * writes; stdin and stderr are not terminals, as for a command run from a script.
 */
export async function msite(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const out: Buffer[] = [];
  let stderr = '';
  const io: Io = {
    out: (t) => {
      out.push(typeof t === 'string' ? Buffer.from(t, 'utf8') : Buffer.from(t));
    },
    err: (t) => {
      stderr += t;
    },
    env: commandEnv(options),
    cwd: options.cwd ?? process.cwd(),
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdinIsTTY: false,
    stderrIsTTY: false,
  };
  const status = await main(args, io);
  const raw = Buffer.concat(out);
  return { status, stdout: raw.toString('utf8'), stderr, raw };
}

/** Runs `msite` and fails the test with its stderr unless it succeeded. */
export async function ok(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await msite(args, options);
  if (r.status !== 0) throw new Error(`msite ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

/** Runs `msite --json ...` and parses what it printed. */
export async function json<T = unknown>(args: readonly string[], options: RunOptions = {}): Promise<T> {
  return JSON.parse((await ok([...args, '--json'], options)).stdout) as T;
}

/**
 * Runs the real `msite` executable (bin/msite.js on the built dist/) in a child process, for the
 * tests that are about the binary itself: its exit status, its streams, a process killed or racing.
 */
export function msiteBinary(args: readonly string[], options: RunOptions = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: commandEnv(options),
    cwd: options.cwd,
    input: options.stdin,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
}

/**
 * Starts the built `msite` in its own process now and resolves when it exits, so several can run at
 * once (races between processes); `home` goes in $MSITE_HOME.
 */
export function startBinary(args: readonly string[], home: string): Promise<Omit<RunResult, 'raw'>> {
  const env: NodeJS.ProcessEnv = { ...process.env, MSITE_HOME: home };
  delete env.MSITE_VOB;
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', rejectRun);
    child.on('close', (code) => resolveRun({ status: code ?? -1, stdout, stderr }));
  });
}
