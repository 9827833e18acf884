import { NotFoundError } from '../core/errors.js';
import { Vob } from '../vob/vob.js';
import type { SiteHome } from './siteHome.js';

/**
 * Runs `fn` on this site's replica of `family`, opened read-only unless `readonly: false`.
 *
 * @throws NotFoundError when no VOB registered here belongs to the family.
 */
export function withFamilyVob<T>(home: SiteHome, family: string, fn: (vob: Vob) => T, options: { readonly?: boolean } = {}): T {
  for (const r of home.registry()) {
    let vob: Vob;
    try {
      vob = Vob.open(r.path, { readonly: options.readonly ?? true });
    } catch {
      continue; // a stale registration is no reason to refuse a request for another VOB
    }
    try {
      if (vob.family === family) return fn(vob);
    } finally {
      vob.close();
    }
  }
  throw new NotFoundError('VOB family at this site', family);
}
