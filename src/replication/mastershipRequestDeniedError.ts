import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/** The master replica refused a request for mastership; nothing changed at either site. */
export class MastershipRequestDeniedError extends MsiteError {
  static readonly code = 'REQMASTER_DENIED';
  static override readonly httpStatus: number = 403;
  constructor(why: string, options: MsiteErrorOptions = {}) {
    super(MastershipRequestDeniedError.code, `Request for mastership denied: ${why}`, options);
  }
}
