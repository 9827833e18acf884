import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.js';
import { toMsiteError } from '../core/errors.js';

/** How much a logged line matters: `-quiet 1` keeps warnings and errors, `-quiet 2` nothing. */
export type SyncLogLevel = 'info' | 'warning' | 'error';

/** Told each line as it is logged (the CLI prints it unless `-quiet` silences its level). */
export type SyncReporter = (line: string, level: SyncLogLevel) => void;

/**
 * The run log of `sync_export_list` or `sync_receive`, as MultiSite's scripts keep theirs: one file per
 * run in `log/sync_logs/` (or `-logdir`), named by script, time and process id, written when the run
 * ends and removed then unless the run failed somewhere or `-trace` asked to keep it.
 */
export class SyncLog {
  /** Where the log goes if it is kept. */
  readonly file: string;
  private readonly lines: string[] = [];

  constructor(
    private readonly dir: string,
    script: 'sync_export_list' | 'sync_receive',
    private readonly report?: SyncReporter,
  ) {
    this.file = uniqueLogFile(dir, script);
  }

  /** Logs a line (stamped with the time) and reports it. */
  say(line: string, level: SyncLogLevel = 'info'): void {
    this.lines.push(`${new Date().toISOString()} ${level === 'info' ? '' : `${level}: `}${line}`);
    this.report?.(line, level);
  }

  /**
   * Ends the run: the log is written and kept when `keep` (a failure, or `-trace`); returns its path
   * then. A log that cannot be written is a warning, never the run's failure.
   */
  finish(keep: boolean): string | undefined {
    try {
      mkdirSync(this.dir, { recursive: true });
      if (!keep) return undefined;
      writeFileAtomic(this.file, this.lines.join('\n') + '\n');
      return this.file;
    } catch (err) {
      rmSync(this.file, { force: true });
      this.report?.(`cannot write the log ${this.file}: ${toMsiteError(err).message}`, 'warning');
      return undefined;
    }
  }
}

/** A log file name of its own: time to the millisecond and process id, then a counter should two runs of one process meet. */
function uniqueLogFile(dir: string, script: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '.').replace('Z', '');
  for (let n = 0; ; n++) {
    const file = join(dir, `${script}.${stamp}.${process.pid}${n === 0 ? '' : `.${n}`}.log`);
    if (!existsSync(file)) return file;
  }
}
