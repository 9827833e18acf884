import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/** Why a packet was refused; stable, for scripts and --json. */
export type PacketErrorReason =
  | 'not-a-packet'
  | 'format-version'
  | 'truncated'
  | 'checksum'
  | 'signature'
  | 'unknown-signer'
  | 'malformed'
  | 'sealed-for-another-site'
  | 'sealed-damaged';

/**
 * A packet file that cannot be used as it is: not a packet, a format this msite cannot read, cut
 * short, changed in transit, signed by no known replica or by the wrong key, or inconsistent.
 * Permanent: the same file will fail the same way; only a resend helps. `data` holds `reason` and
 * `path` plus details (offsets, lengths, the signer).
 */
export class PacketError extends MsiteError {
  static readonly code = 'PACKET';
  static override readonly httpStatus: number = 422;
  readonly reason: PacketErrorReason;
  readonly path: string;

  constructor(reason: PacketErrorReason, path: string, message: string, options: MsiteErrorOptions = {}) {
    super(PacketError.code, message, { ...options, data: { reason, path, ...options.data }, persistence: 'permanent' });
    this.reason = reason;
    this.path = path;
  }
}
