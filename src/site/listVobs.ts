import { replicaName } from '../vob/queries.js';
import { Vob } from '../vob/vob.js';
import type { SiteHome } from './siteHome.js';

/** One registered VOB as `lsvob` shows it; `family` and `replica` are null when its storage cannot be read. */
export interface VobListing {
  tag: string;
  path: string;
  family: string | null;
  replica: string | null;
  /** Present while another process is still creating the VOB: it is listed, never opened half-made. */
  state?: 'creating';
}

/**
 * The VOBs registered in a site home, each with its family and the replica it holds. A VOB whose
 * storage is gone or unreadable is still listed, so the administrator sees the stale tag.
 */
export function listVobs(home: SiteHome): VobListing[] {
  return home.registrations().map((e) => {
    if (e.state === 'creating') return { tag: e.tag, path: e.path, family: null, replica: null, state: e.state };
    try {
      const vob = Vob.open(e.path);
      try {
        return { tag: e.tag, path: e.path, family: vob.family, replica: replicaName(vob, vob.self) };
      } finally {
        vob.close();
      }
    } catch {
      return { tag: e.tag, path: e.path, family: null, replica: null };
    }
  });
}
