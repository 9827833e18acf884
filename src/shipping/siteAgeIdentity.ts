import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.js';
import { StorageError } from '../core/errors.js';

/**
 * The site's age identity: the secret key packets for this site are sealed to (sealedPacket.ts). The
 * file is in age-keygen's format, so the age command-line tool reads it too:
 *
 *     # created: 2026-12-02T15:30:00.000Z
 *     # public key: age1…
 *     AGE-SECRET-KEY-1…
 */
export const SITE_AGE_KEY_FILE = 'site-age.key';

export interface SiteAgeIdentity {
  /** `AGE-SECRET-KEY-1…`. */
  identity: string;
  /** `age1…`: what `site show` publishes and peers put in this site's PEER line. */
  recipient: string;
}

function parse(text: string, file: string): SiteAgeIdentity {
  const identity = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(text)?.[0];
  const recipient = /^# public key: (age1[0-9a-z]+)$/m.exec(text)?.[1];
  if (identity === undefined || recipient === undefined) {
    throw new StorageError(`${file} is not an age identity file with its public key`, {
      hint: `move it away and run msite site init to make a new one (packets sealed to the old one can then no longer be opened)`,
    });
  }
  return { identity, recipient };
}

/** The site's age identity in `homeDir`; undefined when it has none yet (`msite site init` makes one). */
export function loadSiteAgeIdentity(homeDir: string): SiteAgeIdentity | undefined {
  const file = join(homeDir, SITE_AGE_KEY_FILE);
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new StorageError(`cannot read the site's age key ${file}: ${(cause as Error).message}`, { cause });
  }
  return parse(text, file);
}

/**
 * Makes the site's age identity once, readable by its owner only; an existing one is kept, since
 * peers seal packets to its recipient.
 */
export async function ensureSiteAgeIdentity(homeDir: string): Promise<SiteAgeIdentity> {
  const existing = loadSiteAgeIdentity(homeDir);
  if (existing) return existing;
  // Loaded when a key is made (site init), not by every command that reads one: ~100 ms.
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const file = join(homeDir, SITE_AGE_KEY_FILE);
  writeFileAtomic(file, `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  return { identity, recipient };
}
