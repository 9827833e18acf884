import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.js';
import { InvalidInputError, writingTo } from '../core/errors.js';
import { shippingConfTemplate } from '../shipping/shippingConfTemplate.js';
import { ensureSiteAgeIdentity } from '../shipping/siteAgeIdentity.js';
import { ensureSiteIdentity } from '../shipping/siteIdentity.js';
import { describeSite, type SiteDescription } from './describeSite.js';
import { writeReceiptHandler } from './receiptHandlerScript.js';
import type { SiteHome } from './siteHome.js';
import { readSiteSettings, writeSiteSettings, type SiteSettings } from './siteSettings.js';

const HOST = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The directories a site home holds besides its files: the default bays and the sync logs. */
export function siteDirectories(homeDir: string): string[] {
  const ship = join(homeDir, 'shipping');
  return [join(ship, 'ms_ship', 'incoming'), join(ship, 'ms_ship', 'outgoing'), join(ship, 'ms_rtn'), join(homeDir, 'log', 'sync_logs')];
}

/**
 * `msite site init`: creates or updates the site home. Settings given are recorded, others keep what
 * an earlier init recorded (the host defaults to the machine's name); the site key and its age key
 * (packets for it are sealed to) are made once and kept (peers pin and seal to them), its certificate
 * made again when the host changes; shipping.conf is written from its template only when there is
 * none; the default bays and log directories are made, and the receipt handler script
 * (`bin/sync_receive_handler`, which the template's RECEIPT-HANDLER line names). Running it
 * again changes nothing that was not asked for.
 *
 * @throws InvalidInputError for a host name that is not one; what the home's files throw otherwise.
 */
export async function initSite(home: SiteHome, wanted: SiteSettings): Promise<SiteDescription> {
  if (wanted.host !== undefined && !HOST.test(wanted.host)) {
    throw new InvalidInputError(`bad host name "${wanted.host}": letters, digits, ".", "_" and "-", starting with a letter or digit`);
  }
  for (const dir of siteDirectories(home.dir)) writingTo('create directory', dir, () => mkdirSync(dir, { recursive: true }));
  const settings = home.withDatabase((site) => {
    const recorded = readSiteSettings(site);
    const host = wanted.host ?? recorded.host ?? defaultHost();
    writeSiteSettings(site, { ...wanted, host });
    return readSiteSettings(site);
  });
  await ensureSiteIdentity(home.dir, settings.host!);
  await ensureSiteAgeIdentity(home.dir);
  const handler = writeReceiptHandler(home.dir);
  if (!existsSync(home.shippingConfFile)) writeFileAtomic(home.shippingConfFile, shippingConfTemplate(handler));
  return describeSite(home);
}

/** The machine's name, as a host name shipping.conf accepts. */
function defaultHost(): string {
  const name = hostname()
    .split('.')[0]!
    .replace(/[^A-Za-z0-9._-]/g, '-');
  return HOST.test(name) ? name : 'localhost';
}
