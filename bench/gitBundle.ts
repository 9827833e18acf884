import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { gitEnv } from './gitFastImport.js';

/**
 * Runs `git ARGS` in `cwd` to completion and times the whole process (spawn to exit), with no user
 * or system configuration (gitEnv). Throws with git's stderr when it fails.
 */
export function timedGit(cwd: string, args: string[]): number {
  const start = performance.now();
  const r = spawnSync('git', args, { cwd, env: gitEnv(), stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = (performance.now() - start) / 1000;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return seconds;
}

/** `git bundle create BUNDLE --all` in `repo`: every ref and the objects they reach, in one file. */
export function bundleCreate(repo: string, bundle: string): number {
  return timedGit(repo, ['bundle', 'create', bundle, '--all']);
}

/** `git clone --quiet [--bare] BUNDLE DIR`, run in `cwd`. */
export function cloneFromBundle(cwd: string, bundle: string, dir: string, options: { bare: boolean }): number {
  return timedGit(cwd, ['clone', '--quiet', ...(options.bare ? ['--bare'] : []), bundle, dir]);
}
