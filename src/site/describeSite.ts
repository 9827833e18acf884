import { StateError } from '../core/errors.js';
import { loadSiteAgeIdentity } from '../shipping/siteAgeIdentity.js';
import { loadSiteIdentity } from '../shipping/siteIdentity.js';
import type { SiteHome } from './siteHome.js';
import { DEFAULT_ADMIN_PORT, DEFAULT_PEER_PORT, readSiteSettings } from './siteSettings.js';

/** Who a site is and where it listens: what `msite site show` prints. */
export interface SiteDescription {
  home: string;
  host: string;
  port: number;
  adminPort: number;
  /** What a peer puts in its PEER line for this site: `https://HOST:PORT`. */
  url: string;
  /** The admin listener (admin API, dashboard, /metrics), on loopback. */
  adminUrl: string;
  /** The site key as PEER lines write it. */
  publicKey: string;
  /** The age recipient packets for this site are sealed to; null for a home made before sites had one (site init makes it). */
  recipient: string | null;
}

/**
 * The site's description.
 *
 * @throws StateError when the home has no identity yet.
 */
export function describeSite(home: SiteHome): SiteDescription {
  const identity = loadSiteIdentity(home.dir);
  const settings = identity ? home.withDatabase(readSiteSettings) : {};
  if (!identity || settings.host === undefined) {
    throw new StateError(`${home.dir} has no site identity yet`, { hint: `run msite site init --home ${home.dir}` });
  }
  const port = settings.port ?? DEFAULT_PEER_PORT;
  const adminPort = settings.adminPort ?? DEFAULT_ADMIN_PORT;
  return {
    home: home.dir,
    host: settings.host,
    port,
    adminPort,
    url: `https://${settings.host}:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    publicKey: identity.publicKey,
    recipient: loadSiteAgeIdentity(home.dir)?.recipient ?? null,
  };
}
