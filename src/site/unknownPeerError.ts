import { MsiteError } from '../core/errors.js';

/** A connection to the peer listener whose client certificate is missing or made from a key no PEER line names. */
export class UnknownPeerError extends MsiteError {
  static readonly code = 'UNKNOWN_PEER';
  static override readonly httpStatus: number = 403;
  constructor(publicKey: string | undefined) {
    super(
      UnknownPeerError.code,
      publicKey === undefined
        ? 'refused: no client certificate with an Ed25519 site key'
        : `refused: the key ${publicKey} is not a PEER of this site`,
      {
        data: { publicKey },
        hint:
          publicKey === undefined ? 'connect with the site certificate' : 'add it with msite site peer HOST URL PUBLIC-KEY at this site',
      },
    );
  }
}
