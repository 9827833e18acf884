import type { SiteDatabase } from './siteDatabase.js';

/** The peer listener's port when neither `--port` nor `msite site init` names one. */
export const DEFAULT_PEER_PORT = 7071;
/** The admin listener's port when neither `--admin-port` nor `msite site init` names one. */
export const DEFAULT_ADMIN_PORT = 7072;

/** What `msite site init` records in site.db's `site_setting` table; absent: not set. */
export interface SiteSettings {
  /** The site's name as its peers and replicas know it. */
  host?: string;
  /** The peer listener's port. */
  port?: number;
  /** The admin listener's port (always on 127.0.0.1). */
  adminPort?: number;
  /** The address the peer listener binds to; absent: every interface. */
  listen?: string;
}

const NUMERIC: ReadonlySet<string> = new Set(['port', 'adminPort']);

/** The site's settings as recorded. */
export function readSiteSettings(site: SiteDatabase): SiteSettings {
  const rows = site.db.prepare('SELECT key, value FROM site_setting').all() as { key: string; value: string }[];
  const out: Record<string, string | number> = {};
  for (const { key, value } of rows) out[key] = NUMERIC.has(key) ? Number(value) : value;
  return out;
}

/** Records the settings given (others are kept), in one transaction. */
export function writeSiteSettings(site: SiteDatabase, settings: SiteSettings): void {
  const put = site.db.prepare('INSERT INTO site_setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  site.transaction(() => {
    for (const [key, value] of Object.entries(settings)) if (value !== undefined) put.run(key, String(value));
  });
}
