import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// @peculiar/x509 registers its algorithms with tsyringe, which needs the Reflect metadata API loaded first.
import { writeFileAtomic } from '../core/atomicFile.js';
import { StorageError } from '../core/errors.js';
import { peerKeyText } from './peerKey.js';

/** The private key file in the site home: PKCS#8 PEM, readable by its owner only. */
export const SITE_KEY_FILE = 'site.key';
/** The site's self-signed certificate, made from its key: what it presents on both ends of a TLS link. */
export const SITE_CERT_FILE = 'site.crt';

/** A site's key pair and certificate, as TLS wants them. */
export interface SiteIdentity {
  /** PEM. */
  key: string;
  /** PEM. */
  cert: string;
  /** The public key as PEER lines write it (peerKey.ts). */
  publicKey: string;
}

const ED25519 = { name: 'Ed25519' } as const;

/** The site's identity in `homeDir`; undefined when it has none yet (`msite site init` makes one). */
export function loadSiteIdentity(homeDir: string): SiteIdentity | undefined {
  const keyFile = join(homeDir, SITE_KEY_FILE);
  const certFile = join(homeDir, SITE_CERT_FILE);
  if (!existsSync(keyFile) || !existsSync(certFile)) return undefined;
  let key: string;
  let cert: string;
  try {
    key = readFileSync(keyFile, 'utf8');
    cert = readFileSync(certFile, 'utf8');
  } catch (cause) {
    throw new StorageError(`cannot read the site key ${keyFile}: ${(cause as Error).message}`, { cause });
  }
  const publicKey = keyText(key, keyFile);
  if (certificateText(cert, certFile) !== publicKey) {
    throw new StorageError(`the site certificate ${certFile} was not made from the site key ${keyFile}`, {
      hint: `remove ${certFile} and run msite site init to make it again`,
    });
  }
  return { key, cert, publicKey };
}

function keyText(pem: string, file: string): string {
  let text: string | undefined;
  try {
    text = peerKeyText(createPrivateKey(pem));
  } catch {
    text = undefined;
  }
  if (text === undefined) throw new StorageError(`the site key ${file} is not an Ed25519 private key`);
  return text;
}

function certificateText(pem: string, file: string): string | undefined {
  try {
    return peerKeyText(new X509Certificate(pem).publicKey);
  } catch {
    throw new StorageError(`the site certificate ${file} is not a PEM certificate`, {
      hint: `remove it and run msite site init to make it again`,
    });
  }
}

/**
 * Makes the site's Ed25519 key (once: an existing key is kept, since peers pin it) and a self-signed
 * certificate for it naming `host` (made again when the host changes or it is missing). Peers check the
 * key, not the certificate's names or dates, so the certificate is valid for a century.
 */
export async function ensureSiteIdentity(homeDir: string, host: string): Promise<SiteIdentity> {
  const keyFile = join(homeDir, SITE_KEY_FILE);
  const certFile = join(homeDir, SITE_CERT_FILE);
  let key: string;
  if (existsSync(keyFile)) {
    key = readFileSync(keyFile, 'utf8');
  } else {
    key = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    writeFileAtomic(keyFile, key, { mode: 0o600 });
  }
  const publicKey = keyText(key, keyFile);
  if (existsSync(certFile)) {
    const cert = readFileSync(certFile, 'utf8');
    let current: X509Certificate | undefined;
    try {
      current = new X509Certificate(cert);
    } catch {
      current = undefined;
    }
    if (current && peerKeyText(current.publicKey) === publicKey && current.subject === `CN=${host}`) return { key, cert, publicKey };
  }
  const cert = await selfSignedCertificate(key, host);
  writeFileAtomic(certFile, cert);
  return { key, cert, publicKey };
}

async function selfSignedCertificate(privatePem: string, host: string): Promise<string> {
  // Loaded here, not with the module: @peculiar/x509 and the reflect-metadata it needs take ~130 ms to
  // load, and only `site init` (or a changed host) makes a certificate; every other command reads one.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const privateKey = createPrivateKey(privatePem);
  const subtle = webcrypto.subtle;
  const keys = {
    privateKey: await subtle.importKey('pkcs8', privateKey.export({ format: 'der', type: 'pkcs8' }), ED25519, true, ['sign']),
    publicKey: await subtle.importKey(
      'spki',
      // The public half, from the private key.
      createPublicKey(privateKey).export({ format: 'der', type: 'spki' }),
      ED25519,
      true,
      ['verify'],
    ),
  };
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: BigInt(now).toString(16).padStart(16, '0'),
    name: `CN=${host}`,
    notBefore: new Date(now - 24 * 60 * 60 * 1000),
    notAfter: new Date(now + 100 * 365 * 24 * 60 * 60 * 1000),
    keys: keys,
    signingAlgorithm: ED25519,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  return cert.toString('pem');
}
