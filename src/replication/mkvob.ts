import { generateReplicaKeys } from '../packet/replicaKeys.js';
import { createVob, type CreateVobOptions } from '../vob/createVob.js';
import type { Vob } from '../vob/vob.js';
import { writePrivateKey } from './replicaKey.js';

/**
 * Creates a VOB family ready to replicate: the VOB with its first replica, whose replica object
 * carries a fresh Ed25519 public key, and the private key beside the database for signing packets.
 */
export function mkvob(dir: string, options: Omit<CreateVobOptions, 'publicKey'>): Vob {
  const keys = generateReplicaKeys();
  const vob = createVob(dir, { ...options, publicKey: keys.publicKey });
  writePrivateKey(vob.dir, keys.privateKeyPem);
  return vob;
}
