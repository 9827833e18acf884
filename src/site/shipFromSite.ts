import type { Transport } from '../shipping/transport.js';
import { runShippingServer, type ShippingRunResult, type ShippingServerOptions } from '../shipping/shippingServer.js';
import { loadSiteIdentity } from '../shipping/siteIdentity.js';
import type { SiteDatabase } from './siteDatabase.js';
import { siteTransport } from './siteTransport.js';
import type { SiteHome } from './siteHome.js';

/**
 * One shipping server pass at a site: over every due order of its bays (`orders` undefined, `--poll`)
 * or over the order files named. `https:` PEERs are reached through the tus transport with the site's
 * key, once `msite site init` has made one; `file:` PEERs through their bay directory. The site's
 * database stays open for the pass (claims and attempts are recorded there) and is the caller's to close.
 */
export async function shipFromSite(
  home: SiteHome,
  site: SiteDatabase,
  orders: readonly string[] | undefined,
  options: Omit<ShippingServerOptions, 'homeDir' | 'db' | 'transports'> = {},
): Promise<ShippingRunResult> {
  const transports: Record<string, Transport> = {};
  if (loadSiteIdentity(home.dir)) transports['https:'] = siteTransport(home, site);
  return runShippingServer({ ...options, homeDir: home.dir, db: site.db, transports }, orders);
}

/**
 * `shipFromSite` with the site's database opened for the pass and closed after it: what a command
 * that ships once and ends wants (`--fship`, `-poll`, a receipt handler forwarding an order).
 */
export async function shipFromHome(
  home: SiteHome,
  orders: readonly string[] | undefined,
  options: Omit<ShippingServerOptions, 'homeDir' | 'db' | 'transports'> = {},
): Promise<ShippingRunResult> {
  try {
    return await shipFromSite(home, home.database(), orders, options);
  } finally {
    home.close();
  }
}
