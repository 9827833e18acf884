import { mkdirSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IoError, NotFoundError, writingTo } from '../core/errors.js';
import { defaultStorageBay } from './incomingBays.js';
import { DEFAULT_CLASS, returnBays, storageBays, type ShippingConf } from './shippingConf.js';

/** Where delivered packets wait for import (or, in a return bay, returned ones for the administrator). */
export const INCOMING = 'incoming';
/** Where packets and their orders wait for the shipping server. */
export const OUTGOING = 'outgoing';

/** The return bay a site home uses when shipping.conf names none (MultiSite's `ms_rtn`). */
export function defaultReturnBay(homeDir: string): string {
  return join(homeDir, 'shipping', 'ms_rtn');
}

/** The storage bays of class `cls` as absolute directories: shipping.conf's, else the home's `shipping/ms_ship`. */
export function classStorageBays(homeDir: string, conf: ShippingConf, cls: string = DEFAULT_CLASS): string[] {
  const bays = storageBays(conf, cls).map((b) => resolve(homeDir, b));
  return bays.length > 0 ? bays : [defaultStorageBay(homeDir)];
}

/** The return bay of class `cls`: shipping.conf's first, else the home's `shipping/ms_rtn`. */
export function classReturnBay(homeDir: string, conf: ShippingConf, cls: string = DEFAULT_CLASS): string {
  const bays = returnBays(conf, cls);
  return bays.length > 0 ? resolve(homeDir, bays[0]!) : defaultReturnBay(homeDir);
}

/**
 * Where a site's shipping orders are, each directory once: `outgoing`, the outgoing directories of
 * the classes' storage bays and return bays (orders to send, returns on their way back); `returned`,
 * the return bays' incoming directories (orders home again). Default: every class shipping.conf names.
 */
export function orderDirs(
  homeDir: string,
  conf: ShippingConf,
  classes: readonly string[] = [...conf.classes.keys()],
): { outgoing: string[]; returned: string[] } {
  const outgoing = new Set<string>();
  const returned = new Set<string>();
  for (const cls of classes) {
    for (const bay of classStorageBays(homeDir, conf, cls)) outgoing.add(join(bay, OUTGOING));
    const rtn = classReturnBay(homeDir, conf, cls);
    outgoing.add(join(rtn, OUTGOING));
    returned.add(join(rtn, INCOMING));
  }
  return { outgoing: [...outgoing], returned: [...returned] };
}

/** `bay/sub`, made when missing. */
export function bayDir(bay: string, sub: typeof INCOMING | typeof OUTGOING): string {
  const dir = join(bay, sub);
  writingTo('create directory', dir, () => mkdirSync(dir, { recursive: true }));
  return dir;
}

/** Free bytes for an unprivileged writer on the file system holding `dir`; undefined when it cannot be read. */
export function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * The bay of `bays` to store `bytes` in, as MultiSite chooses: one that can be written and has the
 * room, the one with the most free space first. Its `outgoing/` is made when missing.
 *
 * @throws NotFoundError when no bay is given; IoError (transient: space may be freed) when none has the room.
 */
export function bayWithRoom(bays: readonly string[], bytes: number, cls: string = DEFAULT_CLASS): string {
  if (bays.length === 0) throw new NotFoundError('storage bay for class', cls, { hint: 'add a STORAGE-BAY line to shipping.conf' });
  const usable: { bay: string; free: number }[] = [];
  const skipped: string[] = [];
  for (const bay of bays) {
    let free: number | undefined;
    try {
      free = freeBytes(bayDir(bay, OUTGOING));
    } catch (err) {
      skipped.push(`${bay}: ${(err as Error).message}`);
      continue;
    }
    if (free !== undefined && free >= bytes) usable.push({ bay, free });
    else skipped.push(`${bay}: ${free === undefined ? 'cannot read its free space' : `${free} bytes free`}`);
  }
  usable.sort((a, b) => b.free - a.free);
  if (usable[0]) return usable[0].bay;
  throw new IoError(`all applicable bays are either inaccessible or do not contain ${bytes} free bytes`, {
    data: { bays, bytes, skipped },
    hint: skipped.join('; '),
  });
}
