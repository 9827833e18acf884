import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/**
 * A delivery to a hop failed. `persistence` says whether a later attempt may succeed (the hop was
 * down, the link dropped, its disk was full) or not (it refused the packet: unknown peer, bad name,
 * too large, SHA-256 mismatch; or it is not who its PEER line says).
 */
export class DeliveryError extends MsiteError {
  static readonly code = 'DELIVERY';
  constructor(message: string, options: MsiteErrorOptions & { persistence: 'transient' | 'permanent' }) {
    super(DeliveryError.code, message, options);
  }
}
