import { rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.js';
import { systemClock, type Clock } from '../core/clock.js';
import { InvalidInputError, writingTo } from '../core/errors.js';
import { sealPacket } from '../packet/sealedPacket.js';
import { copyFileDurably, moveFileDurably } from './durableCopy.js';
import { siteShippingConf } from './incomingBays.js';
import { bayFileName, describePacketFile, freeNameIn, writeOrderFile, type OrderInBay } from './orderFiles.js';
import { DEFAULT_CLASS, expirationDays, type ShippingConf } from './shippingConf.js';
import { sealingPlan } from './sealingPlan.js';
import { serializeShippingOrder, type ShippingOrder } from './shippingOrder.js';
import { siteHost } from './siteHostName.js';
import { bayDir, bayWithRoom, classStorageBays, OUTGOING } from './storageBays.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Room kept for the order file beside a packet. */
const ORDER_ROOM = 64 * 1024;
/** What sealing adds: age's header, and 16 bytes for each 64 KiB chunk. */
const sealedSize = (size: number): number => size + Math.ceil(size / 4096) + 4096;

export interface OrderOptions {
  homeDir: string;
  /** Storage class; default `-default`. */
  sclass?: string;
  /** Expiry (ms since the epoch); default now + the class's EXPIRATION days. */
  expiresAt?: number;
  /** Also told when the order expires or comes back. */
  notify?: readonly string[];
  comment?: string;
  clock?: Clock;
  /** This site's host name; default `siteHost(homeDir)`. */
  origin?: string;
}

export interface ShipOptions extends OrderOptions {
  /** Copy the packet into the bay, leaving the original (default: move it). */
  copy?: boolean;
}

function hostList(destinations: readonly string[]): string[] {
  const hosts = [...new Set(destinations)];
  if (hosts.length === 0) throw new InvalidInputError('a shipping order needs at least one destination host');
  const bad = hosts.find((h) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(h));
  if (bad !== undefined) throw new InvalidInputError(`"${bad}" is not a host name`);
  return hosts;
}

/** A new delivery order for a packet of `size` bytes with SHA-256 `sha256`, stored as `packet`. */
export function newOrder(
  conf: ShippingConf,
  packet: string,
  file: { size: number; sha256: string },
  destinations: readonly string[],
  options: OrderOptions,
): ShippingOrder {
  const cls = options.sclass ?? DEFAULT_CLASS;
  const now = (options.clock ?? systemClock).now();
  const origin = options.origin ?? siteHost(options.homeDir);
  const expiresAt = options.expiresAt ?? now + expirationDays(conf, cls) * DAY_MS;
  if (expiresAt <= now) throw new InvalidInputError(`the expiry ${new Date(expiresAt).toISOString()} is not in the future`);
  return {
    format: 1,
    kind: 'delivery',
    packet,
    sha256: file.sha256,
    size: file.size,
    class: cls,
    origin,
    destinations: hostList(destinations).map((host) => ({ host, state: 'pending', attempts: 0 })),
    hops: [{ host: origin, at: now }],
    createdAt: now,
    expiresAt,
    notify: [...(options.notify ?? [])],
    ...(options.comment ? { comment: options.comment } : {}),
  };
}

/**
 * `mkorder --out ORDER`: writes only the order for `packetPath`, to `orderPath`. A shipping server takes
 * it once it is named `sh_o_<packet>` beside the packet.
 */
export async function writeOrderFor(
  packetPath: string,
  destinations: readonly string[],
  orderPath: string,
  options: OrderOptions,
): Promise<ShippingOrder> {
  const conf = siteShippingConf(options.homeDir);
  const order = newOrder(conf, basename(packetPath), await describePacketFile(packetPath), destinations, options);
  writeFileAtomic(resolve(orderPath), serializeShippingOrder(order));
  return order;
}

/**
 * `mkorder --ship` and the shipping of exports: puts a packet into the class's outgoing bay with an
 * order for `destinations` (the packet first, then its order, each atomically, so a reader never sees
 * an order without its whole packet). The bay is one with room for the packet. A packet already in
 * that outgoing directory (an export written there) stays where it is. A packet that goes through a
 * relay is sealed for its destinations first (sealingPlan.ts), replacing the plain file, so that it
 * leaves this site as ciphertext only; its order then describes the sealed file, says whom for, and
 * carries no comment.
 *
 * @throws ShippingConfError for a bad shipping.conf, NotFoundError for a relayed destination with no
 * recipient (nothing is written either way); IoError when no bay has room.
 */
export async function shipPacket(packetPath: string, destinations: readonly string[], options: ShipOptions): Promise<OrderInBay> {
  const conf = siteShippingConf(options.homeDir);
  const cls = options.sclass ?? DEFAULT_CLASS;
  const hosts = hostList(destinations);
  const sealing = sealingPlan(conf, hosts, { here: options.origin ?? siteHost(options.homeDir), sclass: cls });
  const src = resolve(packetPath);
  const bays = classStorageBays(options.homeDir, conf, cls);
  const inBay = bays.map((b) => join(b, OUTGOING)).find((d) => d === dirname(src));
  let stored: string;
  if (inBay !== undefined) {
    stored = src;
    if (sealing) await sealPacket(src, stored, sealing.recipients);
  } else {
    const plainSize = statSync(src).size;
    const out = bayDir(bayWithRoom(bays, (sealing ? sealedSize(plainSize) : plainSize) + ORDER_ROOM, cls), OUTGOING);
    stored = join(out, freeNameIn(out, bayFileName(basename(src))));
    if (sealing) {
      await sealPacket(src, stored, sealing.recipients);
      if (!options.copy) writingTo('remove', src, () => rmSync(src));
    } else if (options.copy) copyFileDurably(src, stored);
    else moveFileDurably(src, stored);
  }
  const file = await describePacketFile(stored);
  const order = newOrder(conf, basename(stored), file, hosts, options);
  // A sealed packet's order travels in the clear through the relays: it says for whom, and keeps no
  // comment (an export's comment is the packet's own, which only its destinations may read).
  const { comment: _comment, ...uncommented } = order;
  const orderPath = writeOrderFile(dirname(stored), sealing ? { ...uncommented, sealedFor: sealing.hosts } : order);
  return { orderPath, packetPath: stored };
}

/**
 * The outgoing directory an export for class `cls` is written to before its orders: in the bay with
 * the most free space.
 */
export function exportBayDir(homeDir: string, cls: string = DEFAULT_CLASS): string {
  const conf = siteShippingConf(homeDir);
  return bayDir(bayWithRoom(classStorageBays(homeDir, conf, cls), ORDER_ROOM, cls), OUTGOING);
}
