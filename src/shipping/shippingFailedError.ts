import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/** A shipping pass in which some delivery failed (each failure was reported on its own line first). */
export class ShippingFailedError extends MsiteError {
  static readonly code = 'SHIPPING_FAILED';

  constructor(failures: readonly string[], options: MsiteErrorOptions = {}) {
    super(
      ShippingFailedError.code,
      `shipping_server: ${failures.length} deliver${failures.length === 1 ? 'y' : 'ies'} failed; the next poll tries again`,
      { hint: 'see log/shipping_server_log in the site home', persistence: 'transient', ...options, data: { failures, ...options.data } },
    );
  }
}
