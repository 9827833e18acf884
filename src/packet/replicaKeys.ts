import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { InvalidInputError } from '../core/errors.js';

/** Bytes of an Ed25519 signature. */
export const SIGNATURE_LENGTH = 64;

/**
 * A new Ed25519 key pair: the public key as a compact string (base64 of its SPKI DER, 60 characters)
 * to carry in the replica object, the private key as PKCS#8 PEM to keep beside the replica.
 */
export function generateReplicaKeys(): { publicKey: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The compact public key belonging to a private key PEM. */
export function publicKeyOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyObject(privateKeyPem)).export({ type: 'spki', format: 'der' }).toString('base64');
}

/** The 64-byte Ed25519 signature of `data`. */
export function sign(privateKeyPem: string, data: Uint8Array): Uint8Array {
  return cryptoSign(null, data, privateKeyObject(privateKeyPem));
}

/**
 * True when `signature` is the signature of `data` by the key `publicKey` (as generateReplicaKeys
 * gives it). A wrong signature is `false`; a string that is not an Ed25519 public key throws
 * InvalidInputError, since that is a bad key record, not a bad signature.
 */
export function verify(publicKey: string, data: Uint8Array, signature: Uint8Array): boolean {
  const key = publicKeyObject(publicKey);
  if (signature.length !== SIGNATURE_LENGTH) return false;
  return cryptoVerify(null, data, key, signature);
}

/**
 * Parsed keys by their text: parsing a PEM costs about ten times the signature itself, and a
 * process signs and checks with the same few keys over and over. Bounded, oldest out first.
 */
const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();
const CACHED_KEYS = 64;

function cached(cache: Map<string, KeyObject>, text: string, parse: (text: string) => KeyObject): KeyObject {
  let key = cache.get(text);
  if (key === undefined) {
    key = parse(text);
    if (cache.size >= CACHED_KEYS) cache.delete(cache.keys().next().value!);
    cache.set(text, key);
  }
  return key;
}

function privateKeyObject(pem: string): KeyObject {
  return cached(privateKeys, pem, parsePrivateKey);
}

function publicKeyObject(publicKey: string): KeyObject {
  return cached(publicKeys, publicKey, parsePublicKey);
}

function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new InvalidInputError('the replica signing key is not a private key in PEM form', {
      cause: err,
      hint: 'restore the key file from backup',
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InvalidInputError(`the replica signing key is an ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`, {
      hint: 'restore the key file from backup',
    });
  }
  return key;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parsePublicKey(publicKey: string): KeyObject {
  let key: KeyObject | undefined;
  if (BASE64.test(publicKey)) {
    try {
      key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    } catch {
      key = undefined;
    }
  }
  if (key?.asymmetricKeyType !== 'ed25519') {
    const shown = publicKey.length > 24 ? `${publicKey.slice(0, 24)}...` : publicKey;
    throw new InvalidInputError(`"${shown}" is not an Ed25519 public key (base64 SPKI DER)`, { data: { publicKey } });
  }
  return key;
}
