import { StateError } from '../core/errors.js';
import { loadSiteIdentity } from '../shipping/siteIdentity.js';
import { TusTransport } from '../shipping/tusTransport.js';
import type { SiteDatabase } from './siteDatabase.js';
import type { SiteHome } from './siteHome.js';
import { SiteUploadResume } from './siteUploadResume.js';

/**
 * The transport a site delivers packets with: tus over mutual TLS, presenting the site's certificate,
 * its interrupted uploads recorded in `site` (the home's open site.db), so they resume in a later run.
 *
 * @throws StateError when the site has no identity yet (`msite site init`).
 */
export function siteTransport(home: SiteHome, site: SiteDatabase, options: { chunkSize?: number } = {}): TusTransport {
  const identity = loadSiteIdentity(home.dir);
  if (!identity) {
    throw new StateError(`${home.dir} has no site key to deliver packets with`, { hint: `run msite site init --home ${home.dir}` });
  }
  return new TusTransport({ identity, resume: new SiteUploadResume(site), ...options });
}
