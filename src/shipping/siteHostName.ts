import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The file that names the site's host when it is not the machine's name (one line). */
export const SITE_HOST_FILE = 'host';

/**
 * The site's own host name: what its replicas' host fields, its peers' `PEER` lines and `ROUTE`s call
 * it. Orders record it as their origin and in their hops, so a route that comes back here is seen.
 *
 * Read through this one function so that the site's settings can become its source in one place:
 * today `<home>/host` when that file exists (several site homes on one machine, as in tests, each
 * need their own name), else the machine's host name.
 */
export function siteHost(homeDir: string): string {
  try {
    const name = readFileSync(join(homeDir, SITE_HOST_FILE), 'utf8').trim();
    if (name !== '') return name;
  } catch {
    // No setting: the machine's name.
  }
  return hostname();
}
