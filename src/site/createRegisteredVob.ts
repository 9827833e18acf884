import { mkvob } from '../replication/mkvob.js';
import type { CreateVobOptions } from '../vob/createVob.js';
import type { Vob } from '../vob/vob.js';
import { registerNewVob } from './registerNewVob.js';
import type { SiteHome } from './siteHome.js';

/**
 * `mkvob`: creates a VOB family with its first replica at `dir` and registers it in `home` under
 * `options.tag` (see registerNewVob for what a failure leaves: nothing).
 *
 * @returns the open VOB; the caller closes it.
 */
export function createRegisteredVob(home: SiteHome, dir: string, options: Omit<CreateVobOptions, 'publicKey'>): Vob {
  return registerNewVob(home, options.tag, dir, (abs) => mkvob(abs, options));
}
