import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { writeSiteSettings } from '../../src/site/siteSettings.js';

/** Names a site home's host, as `msite site init --host` does, without making its keys. */
export function setSiteHost(home: string, host: string): void {
  const site = SiteDatabase.open(home);
  try {
    writeSiteSettings(site, { host });
  } finally {
    site.close();
  }
}

/** A well-formed PEER key (`ed25519:` and 32 bytes in base64url) for sites reached without TLS. */
export const SOME_PEER_KEY = `ed25519:${Buffer.alloc(32, 7).toString('base64url')}`;
