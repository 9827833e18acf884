import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultShippingConf, loadShippingConf, storageBays, type ShippingConf } from './shippingConf.js';

/** The storage bay a site home uses when shipping.conf names none (MultiSite's `ms_ship`). */
export function defaultStorageBay(homeDir: string): string {
  return join(homeDir, 'shipping', 'ms_ship');
}

/** The site's shipping.conf (`<home>/shipping.conf`), or every default when the file does not exist. */
export function siteShippingConf(homeDir: string): ShippingConf {
  const file = join(homeDir, 'shipping.conf');
  return existsSync(file) ? loadShippingConf(file) : defaultShippingConf();
}

/**
 * The `incoming/` directories of the storage bays of one class, or of every class: where delivered
 * packets wait for `syncreplica --import --receive`, `lspacket` and sync_receive. Relative bay paths
 * are taken from the site home.
 */
export function incomingBays(homeDir: string, cls?: string): string[] {
  const conf = siteShippingConf(homeDir);
  const classes = cls ? [cls] : [...conf.classes.keys()];
  const bays = new Set(classes.flatMap((c) => storageBays(conf, c)).map((b) => resolve(homeDir, b)));
  if (bays.size === 0) bays.add(defaultStorageBay(homeDir));
  return [...bays].map((b) => join(b, 'incoming')).filter((d) => existsSync(d));
}
