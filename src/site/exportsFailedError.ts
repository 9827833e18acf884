import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/**
 * A sync_export_list run in which some exports failed (each was reported on its own line first). Its
 * exit status is their number, as MultiSite's script's is.
 */
export class ExportsFailedError extends MsiteError {
  static readonly code = 'EXPORTS_FAILED';

  constructor(
    readonly failed: number,
    total: number,
    logFile: string | undefined,
    options: MsiteErrorOptions = {},
  ) {
    super(ExportsFailedError.code, `sync_export_list: ${failed} of ${total} export${total === 1 ? '' : 's'} failed`, {
      hint: logFile === undefined ? 'the next run tries again' : `see ${logFile}`,
      persistence: 'transient',
      ...options,
      data: { failed, total, ...(logFile === undefined ? {} : { logFile }), ...options.data },
    });
  }

  /** The number of failed exports; at most 255, what an exit status holds. */
  override get exitCode(): number {
    return Math.min(this.failed, 255);
  }
}
