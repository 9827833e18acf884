import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { GitCommandError } from './gitCommandError.js';

/** A local git repository, read through the `git` program (which must be on PATH). */
export class GitRepository {
  constructor(readonly dir: string) {}

  /** Runs `git -C dir ARGS` to completion and returns its standard output. */
  run(args: readonly string[], input?: string): Buffer {
    try {
      return execFileSync('git', ['-C', this.dir, ...args], {
        input,
        maxBuffer: 1 << 30,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (err) {
      const e = err as { stderr?: Buffer; code?: string; message: string };
      const why =
        e.code === 'ENOENT' ? 'git is not installed (no "git" on PATH)' : (e.stderr?.toString().trim().split('\n')[0] ?? e.message);
      throw new GitCommandError(`git ${args[0]} failed in ${this.dir}: ${why}`, { data: { args: [...args] }, cause: err });
    }
  }

  /** Lines of `git ARGS`'s output, without the empty last one. */
  lines(args: readonly string[], input?: string): string[] {
    const out = this.run(args, input).toString('utf8');
    return out === '' ? [] : out.replace(/\n$/, '').split('\n');
  }

  /** Refuses a path that is not a git repository, in one line. */
  check(): void {
    try {
      this.run(['rev-parse', '--git-dir']);
    } catch (err) {
      throw new GitCommandError(`not a git repository: ${this.dir}`, {
        hint: 'give the path of a git working tree or bare repository',
        cause: err,
      });
    }
  }

  /** Starts `git ARGS` with piped standard input and output; standard error is collected for the caller's message. */
  spawn(args: readonly string[]): { child: ChildProcessByStdio<Writable, Readable, Readable>; stderr: () => string } {
    const child = spawn('git', ['-C', this.dir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s;
    });
    child.stdin.on('error', () => {});
    return { child, stderr: () => stderr.trim() };
  }
}
