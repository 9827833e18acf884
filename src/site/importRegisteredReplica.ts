import { importReplica } from '../replication/importReplica.js';
import type { Vob } from '../vob/vob.js';
import { registerNewVob } from './registerNewVob.js';
import type { SiteHome } from './siteHome.js';

/**
 * `mkreplica --import`: makes a new replica at `dir` from the creation packet `packet` and registers
 * it in `home` under `tag` (see registerNewVob for what a failure leaves: nothing).
 *
 * @returns the open VOB; the caller closes it.
 */
export function importRegisteredReplica(home: SiteHome, dir: string, packet: string, tag: string): Promise<Vob> {
  return registerNewVob(home, tag, dir, (abs) => importReplica(abs, packet, { tag }));
}
