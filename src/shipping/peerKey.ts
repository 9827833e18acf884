import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';

/**
 * A site key as text: `ed25519:` and the raw 32-byte Ed25519 public key in base64url (no padding), e.g.
 * `ed25519:Xq3…`. `msite site show` prints it, PEER lines hold it, and the peer listener and the sender
 * compare a TLS certificate's key with it: pinned by key, no CA.
 */
export const PEER_KEY_PREFIX = 'ed25519:';
const PEER_KEY = /^ed25519:[A-Za-z0-9_-]{43}$/;

/** Whether `text` is a site key in the form above. */
export function isPeerKeyText(text: string): boolean {
  return PEER_KEY.test(text) && Buffer.from(text.slice(PEER_KEY_PREFIX.length), 'base64url').length === 32;
}

/** The text form of an Ed25519 public (or private: its public half) key; undefined for any other kind of key. */
export function peerKeyText(key: KeyObject): string | undefined {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') return undefined;
  const jwk = pub.export({ format: 'jwk' });
  return jwk.x === undefined ? undefined : `${PEER_KEY_PREFIX}${jwk.x}`;
}

/** The text form of the key a certificate was made for; undefined when it is not an Ed25519 key. */
export function certificateKeyText(cert: X509Certificate | undefined): string | undefined {
  return cert ? peerKeyText(cert.publicKey) : undefined;
}
