import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/**
 * How msite starts programs (scheduled jobs, notification programs): injected, so a test can watch or replace process creation. The
 * real one, `childProcessSpawner`, starts real child processes.
 */
export interface Spawner {
  spawn(command: string, args: readonly string[], options: SpawnOptions): SpawnedProcess;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the program's standard input, which is then closed. Default: nothing (closed at once). */
  input?: string;
}

export interface ProcessExit {
  /** The exit code; 128 + the signal number when a signal ended it, as a shell reports it. */
  status: number;
  signal?: NodeJS.Signals;
  /** Why the program could not be started at all (ENOENT, EACCES…); `status` is then 127 or 126. */
  startError?: string;
}

export interface SpawnedProcess {
  /** The process id; 0 when the program could not be started. */
  readonly pid: number;
  /** Standard output and standard error, interleaved as they arrive. */
  onOutput(listener: (chunk: Buffer) => void): void;
  readonly exit: Promise<ProcessExit>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts real child processes with `child_process.spawn`; no shell is involved. */
export const childProcessSpawner: Spawner = {
  spawn(command, args, options) {
    const child = spawn(command, [...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const listeners: Array<(chunk: Buffer) => void> = [];
    const deliver = (chunk: Buffer): void => listeners.forEach((l) => l(chunk));
    child.stdout?.on('data', deliver);
    child.stderr?.on('data', deliver);
    if (options.input !== undefined && child.stdin) {
      // A program that exits without reading its input must not crash us with EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
    const exit = new Promise<ProcessExit>((resolveExit) => {
      let startError: string | undefined;
      child.once('error', (err: NodeJS.ErrnoException) => {
        // Only a failure to start arrives here before 'close'; a failed kill() is reported there too,
        // but then the process exists and 'close' follows.
        if (child.pid === undefined) {
          startError = `cannot run ${command}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message}`;
          resolveExit({ status: err.code === 'EACCES' ? 126 : 127, startError });
        }
      });
      child.once('close', (code, signal) => {
        if (startError !== undefined) return;
        if (signal) resolveExit({ status: 128 + (constants.signals[signal] ?? 0), signal });
        else resolveExit({ status: code ?? 0 });
      });
    });
    return {
      pid: child.pid ?? 0,
      onOutput: (listener) => {
        listeners.push(listener);
      },
      exit,
      kill: (signal = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
  },
};
