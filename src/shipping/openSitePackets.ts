import { OpenedPackets } from '../replication/openedPackets.js';
import { loadSiteAgeIdentity } from './siteAgeIdentity.js';

/**
 * Opens the sealed packets among `files` with the age key of the site in `homeDir` (read only when
 * one is sealed), for an import or lspacket there: pass the result as the import's `opened`, and
 * `close()` it afterwards.
 */
export async function openSitePackets(homeDir: string, files: readonly string[]): Promise<OpenedPackets> {
  return OpenedPackets.open(files, () => {
    const id = loadSiteAgeIdentity(homeDir);
    return id ? [id.identity] : [];
  });
}
