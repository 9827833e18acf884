import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/** A git command msite ran failed, or the path given is not a git repository. */
export class GitCommandError extends MsiteError {
  static readonly code = 'GIT_FAILED';
  static override readonly httpStatus: number = 422;
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(GitCommandError.code, message, options);
  }
}
