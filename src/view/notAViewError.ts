import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/** A path that should be in a snapshot view is not: no view's admin directory above it. */
export class NotAViewError extends MsiteError {
  static readonly code = 'NOT_A_VIEW';
  static override readonly httpStatus: number = 404;
  constructor(path: string, options: MsiteErrorOptions = {}) {
    super(NotAViewError.code, `not in a view: ${path}`, {
      hint: 'run it inside a snapshot view, or name one with --view DIR (see msite lsview)',
      ...options,
      data: { path, ...options.data },
    });
  }
}
