import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, writeFileAtomic } from '../core/atomicFile.js';
import { InvalidInputError, writingTo } from '../core/errors.js';
import { sha256File } from './sha256File.js';
import { ORDER_PREFIX, orderFileName, parseShippingOrder, serializeShippingOrder, type ShippingOrder } from './shippingOrder.js';

/** An order file and the packet beside it. */
export interface OrderInBay {
  /** The order file, `<dir>/sh_o_<packet>`. */
  orderPath: string;
  /** Its packet, in the same directory. */
  packetPath: string;
}

/** The order file of a packet file: `sh_o_<name>` in the same directory. */
export function orderPathOf(packetPath: string): string {
  return join(dirname(packetPath), orderFileName(basename(packetPath)));
}

/** The packet file an order file is for (it need not exist). */
export function packetPathOf(orderPath: string): string {
  const name = basename(orderPath);
  if (!name.startsWith(ORDER_PREFIX) || name.length === ORDER_PREFIX.length) {
    throw new InvalidInputError(`file ${orderPath} does not contain a valid shipping order: its name does not start with ${ORDER_PREFIX}`);
  }
  return join(dirname(orderPath), name.slice(ORDER_PREFIX.length));
}

/**
 * Reads an order file.
 *
 * @throws InvalidInputError naming the file when it is not an order, or names a packet other than the one beside it.
 */
export function readOrderFile(orderPath: string): ShippingOrder {
  let text: string;
  try {
    text = readFileSync(orderPath, 'utf8');
  } catch (err) {
    throw new InvalidInputError(
      `cannot read shipping order ${orderPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        data: { file: orderPath },
      },
    );
  }
  const order = parseShippingOrder(text, `file ${orderPath}`);
  if (orderFileName(order.packet) !== basename(orderPath)) {
    // MultiSite's rule: an order may only send the data file beside it, so an order cannot be used to ship any file.
    throw new InvalidInputError(
      `for security reasons, shipping order ${orderPath} cannot be processed: data file ${order.packet} must be in the same directory as the shipping order, under the name the order file gives`,
    );
  }
  return order;
}

/** Writes (or rewrites) the order beside its packet in `dir`, atomically. */
export function writeOrderFile(dir: string, order: ShippingOrder): string {
  const path = join(dir, orderFileName(order.packet));
  writeFileAtomic(path, serializeShippingOrder(order));
  return path;
}

/**
 * The orders waiting in `dir`, by name: order files whose packet is beside them. A packet without an
 * order is one still being written (the packet comes first, its order second) and is not listed.
 */
export function ordersIn(dir: string): OrderInBay[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const present = new Set(names);
  return names
    .filter((n) => n.startsWith(ORDER_PREFIX) && n.length > ORDER_PREFIX.length && !n.startsWith('.'))
    .sort()
    .map((n) => ({ orderPath: join(dir, n), packetPath: join(dir, n.slice(ORDER_PREFIX.length)) }))
    .filter((o) => present.has(basename(o.packetPath)));
}

/** A packet name usable as a file name everywhere: MultiSite turns `:` into `.`. */
export function bayFileName(name: string): string {
  return name.replace(/:/g, '.');
}

/**
 * A name for `name` in `dir` that neither a packet nor an order holds: `name`, else `name_1`, `name_2`…
 * (MultiSite's suffixes for a name taken at the receiver).
 */
export function freeNameIn(dir: string, name: string): string {
  const taken = (n: string): boolean => existsSync(join(dir, n)) || existsSync(join(dir, orderFileName(n)));
  if (!taken(name)) return name;
  for (let i = 1; ; i++) if (!taken(`${name}_${i}`)) return `${name}_${i}`;
}

/** Removes a packet and then its order (a crash in between leaves an order a later pass drops). */
export function removeOrderAndPacket(o: OrderInBay): void {
  writingTo('remove', o.packetPath, () => rmSync(o.packetPath, { force: true }));
  writingTo('remove', o.orderPath, () => rmSync(o.orderPath, { force: true }));
  fsyncDir(dirname(o.orderPath));
}

/** Size and SHA-256 of a packet file. */
export async function describePacketFile(path: string): Promise<{ size: number; sha256: string }> {
  return { size: statSync(path).size, sha256: await sha256File(path) };
}
