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
    if (vob.family !== family) {
      vob.close();
      continue;
    }
    return closedAfter(vob, fn);
  }
  throw new NotFoundError('VOB family at this site', family);
}

/**
 * fn(vob), closing the VOB once it is done: when fn returns a promise (an export or import, which
 * stream), once the promise settles.
 */
export function closedAfter<T>(vob: Vob, fn: (vob: Vob) => T): T {
  let result: T;
  try {
    result = fn(vob);
  } catch (err) {
    vob.close();
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => vob.close()) as T;
  vob.close();
  return result;
}
