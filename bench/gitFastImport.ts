import { execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { History } from './history.js';

/**
 * Git with no user or system configuration, so a developer's ~/.gitconfig (gc settings, hooks,
 * fsync options) cannot change what is measured.
 */
export function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  };
}

export function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Base of the commit timestamps: fixed, so the stream (and so the pack) is the same every run. */
const EPOCH = 1_700_000_000;

/**
 * The whole history as one fast-import stream: one commit per step on refs/heads/main, the file's
 * bytes inline. Built as a single Buffer before timing starts, so only git's work is measured.
 */
export function buildFastImportStream(history: History): Buffer {
  const parts: Buffer[] = [];
  const committer = 'Bench <bench@example.invalid>';
  history.steps.forEach((step, i) => {
    const msg = Buffer.from(step.comment);
    const header = `commit refs/heads/main\n` + `committer ${committer} ${EPOCH + i} +0000\n` + `data ${msg.length}\n`;
    parts.push(Buffer.from(header), msg);
    parts.push(Buffer.from(`\nM 100644 inline ${history.paths[step.file]!}\ndata ${step.content.length}\n`), step.content);
    parts.push(Buffer.from('\n'));
  });
  parts.push(Buffer.from('done\n'));
  return Buffer.concat(parts);
}

export interface FastImportResult {
  seconds: number;
  stderr: string;
}

/**
 * Runs `git fast-import` in `repo` on `stream` and times the whole process: spawn, feeding the
 * stream, and waiting for it to write its pack and refs and exit.
 */
export function runFastImport(repo: string, stream: Buffer): Promise<FastImportResult> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    // --done: git refuses a truncated stream instead of importing part of it.
    const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: repo, env: gitEnv(), stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    // An early exit closes stdin under us (EPIPE); the exit code below reports the real failure.
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - start) / 1000;
      if (code !== 0) reject(new Error(`git fast-import exited with ${code}: ${stderr.trim()}`));
      else resolvePromise({ seconds, stderr });
    });
    child.stdin.end(stream);
  });
}
