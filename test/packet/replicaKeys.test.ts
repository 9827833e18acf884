import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { generateReplicaKeys, publicKeyOf, sign, verify } from '../../src/packet/replicaKeys.js';

const data = new TextEncoder().encode('header bytes');

describe('replica keys', () => {
  const a = generateReplicaKeys();
  const b = generateReplicaKeys();

  it('are Ed25519: a 60-character base64 SPKI public key and a PKCS#8 PEM private key', () => {
    expect(a.publicKey).toMatch(/^[A-Za-z0-9+/]{59}=$/);
    expect(Buffer.from(a.publicKey, 'base64').subarray(0, 12).toString('hex')).toBe('302a300506032b6570032100'); // SPKI prefix of Ed25519
    expect(a.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(publicKeyOf(a.privateKeyPem)).toBe(a.publicKey);
  });

  it('sign with 64-byte signatures that verify only for the same key and the same bytes', () => {
    const sig = sign(a.privateKeyPem, data);
    expect(sig).toHaveLength(64);
    expect(verify(a.publicKey, data, sig)).toBe(true);
    expect(verify(b.publicKey, data, sig)).toBe(false);
    expect(verify(a.publicKey, new TextEncoder().encode('header bytez'), sig)).toBe(false);
    const flipped = Uint8Array.from(sig);
    flipped[10] = flipped[10]! ^ 1;
    expect(verify(a.publicKey, data, flipped)).toBe(false);
    expect(verify(a.publicKey, data, sig.subarray(0, 63))).toBe(false);
    expect(verify(a.publicKey, data, new Uint8Array(0))).toBe(false);
  });

  it('refuse strings that are not keys, saying so', () => {
    const sig = sign(a.privateKeyPem, data);
    expect(() => verify('not a key', data, sig)).toThrow(InvalidInputError);
    expect(() => verify('bm90IGEga2V5', data, sig)).toThrow('"bm90IGEga2V5" is not an Ed25519 public key (base64 SPKI DER)');
    expect(() => sign('-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n', data)).toThrow(
      'the replica signing key is not a private key in PEM form',
    );
    expect(() => sign(a.publicKey, data)).toThrow(InvalidInputError);
    const ed448 = generateKeyPairSync('ed448');
    expect(() => sign(ed448.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), data)).toThrow(
      'the replica signing key is an ed448 key, not Ed25519',
    );
    const ed448Public = ed448.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(() => verify(ed448Public, data, sig)).toThrow(/is not an Ed25519 public key/);
  });
});
