import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fsyncDir, writeFileAtomic } from '../core/atomicFile.js';
import { writingTo } from '../core/errors.js';
import { parsePacketFileName } from '../packet/packetNames.js';
import { orderFileName, serializeShippingOrder, type ShippingOrder } from './shippingOrder.js';

/** Where a received packet was stored. */
export interface LandedPacket {
  /** The name it has in the bay: the order's, or a new one when that was taken by another packet. */
  storedAs: string;
  packetPath: string;
  orderPath: string;
  /** True when the bay already held this very packet (same name, same SHA-256): nothing was added. */
  repeated: boolean;
}

/** The SHA-256 of a file, read as a stream (memory stays flat whatever its size). */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash);
  return hash.digest('hex');
}

/**
 * The name a packet gets when its own is taken by another packet: the replica part gains `.N`
 * (N = 2, 3…), so the name stays a packet name (`syncreplica --import` picks it up) and says it is a
 * second packet of that name. The packet's header, not its name, says where it comes from.
 */
export function alternativePacketName(name: string, n: number): string {
  const parts = parsePacketFileName(name);
  if (!parts) return `${name}.${n}`;
  const prefix = parts.kind === 'creation' ? 'repl' : 'sync';
  return `${prefix}_${parts.replica}.${n}_${parts.timestamp}_${parts.pid}_${parts.seq}`;
}

let counter = 0;

/**
 * Stores the fully received packet file `from` in the bay directory `dir` with its order beside it:
 * the packet is made durable (fsync), moved to a temp name in the bay (renamed, or copied when the bay
 * is on another file system), then linked under its name (a link never replaces: a name taken by
 * another packet moves on to `alternativePacketName`), and the order is written after it (temp file,
 * fsync, rename), naming the packet as stored. A reader of the bay sees the whole packet or none, and
 * a packet with an order always. The same packet (name and SHA-256) delivered again is not stored
 * twice. `from` is gone afterwards, whatever the outcome.
 */
export async function landPacket(from: string, dir: string, order: ShippingOrder): Promise<LandedPacket> {
  writingTo('create directory', dir, () => mkdirSync(dir, { recursive: true }));
  const tmp = join(dir, `.${order.packet}~msite-tmp~${process.pid}~${hostname()}~${++counter}`);
  let moved = false;
  try {
    for (let n = 1; ; n++) {
      const name = n === 1 ? order.packet : alternativePacketName(order.packet, n);
      const packetPath = join(dir, name);
      let existing: number | undefined;
      try {
        existing = statSync(packetPath).size;
      } catch {
        existing = undefined;
      }
      if (existing !== undefined) {
        if (existing === order.size && (await fileSha256(packetPath)) === order.sha256) {
          const orderPath = join(dir, orderFileName(name));
          writeFileAtomic(orderPath, serializeShippingOrder({ ...order, packet: name }));
          return { storedAs: name, packetPath, orderPath, repeated: true };
        }
        continue;
      }
      if (!moved) {
        writingTo('write', packetPath, () => moveDurably(from, tmp));
        moved = true;
      }
      try {
        writingTo('write', packetPath, () => linkSync(tmp, packetPath));
      } catch (err) {
        // Taken since we looked: by another packet, or this one landing through another request.
        if ((err as { data?: { sysCode?: string } }).data?.sysCode === 'EEXIST') {
          n--;
          continue;
        }
        throw err;
      }
      unlinkSync(tmp);
      fsyncDir(dir);
      const orderPath = join(dir, orderFileName(name));
      writeFileAtomic(orderPath, serializeShippingOrder({ ...order, packet: name }));
      return { storedAs: name, packetPath, orderPath, repeated: false };
    }
  } finally {
    unlinkQuietly(tmp);
    unlinkQuietly(from);
  }
}

/** Makes `from` durable at `to` (same directory tree): rename, or copy and fsync across file systems. */
function moveDurably(from: string, to: string): void {
  const fd = openSync(from, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(from, to);
    const out = openSync(to, 'r+');
    try {
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    unlinkSync(from);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
