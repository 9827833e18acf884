import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/**
 * A failure the daemon reported: it keeps the daemon's own code and message, so a command run
 * through the daemon fails the way it would have run locally, and the HTTP status it answered.
 */
export class DaemonError extends MsiteError {
  /** The code when the daemon's answer carried none. */
  static readonly code = 'DAEMON';
  readonly status: number;
  constructor(code: string | undefined, status: number, message: string, options: MsiteErrorOptions = {}) {
    super(code ?? DaemonError.code, message, { ...options, data: { status, ...options.data } });
    this.status = status;
  }
  /** The status the daemon answered, passed on unchanged. */
  override get httpStatus(): number {
    return this.status;
  }
}
