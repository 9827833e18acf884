import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.js';
import { StorageError } from '../core/errors.js';
import type { Vob } from '../vob/vob.js';

/** The replica's private signing key lives beside its database, readable by its owner only. */
export const KEY_FILE = 'replica.key';

export function writePrivateKey(vobDir: string, privateKeyPem: string): void {
  writeFileAtomic(join(vobDir, KEY_FILE), privateKeyPem, { mode: 0o600 });
}

/** The key this replica signs its packets with. */
export function readPrivateKey(vob: Vob): string {
  const file = join(vob.dir, KEY_FILE);
  if (!existsSync(file)) {
    throw new StorageError(`replica ${vob.tag} has no signing key (${file})`, { hint: 'restore the key file from backup' });
  }
  return readFileSync(file, 'utf8');
}
