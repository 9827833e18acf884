import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fsyncSync, mkdirSync, openSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { copyFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { InvalidInputError, IoError, toMsiteError, writingTo } from '../core/errors.js';
import { copyFileDurably } from './durableCopy.js';
import { landingPlan, type LandingSlot } from './landingPlan.js';
import { bayFileName } from './orderFiles.js';
import { landPacket } from './landPacket.js';
import { hashFileInto } from './sha256File.js';
import type { ShippingOrder } from './shippingOrder.js';
import { INCOMING, OUTGOING } from './storageBays.js';
import type { DeliveryReceipt, DeliveryRequest, Transport } from './transport.js';

/**
 * Delivers into a storage bay reached as a directory: a `PEER` whose URL is `file:///path/to/bay`.
 * This is the air-gapped case (a bay on removable media, or a share both hosts mount): the bytes go
 * straight into the other host's bay, where its shipping server and `syncreplica --import --receive`
 * find them as if its daemon had received them.
 *
 * The packet is copied to a hidden partial file in the landing directory, which a later attempt
 * continues from (only the missing bytes are sent), then fsynced, checked against the order's SHA-256
 * and landed as the daemon's receiver lands packets (landPacket.ts): its order follows it, a taken
 * name moves on to another packet name, and the same packet delivered again is stored once. What lands where follows
 * `landingPlan`: `incoming/` for a destination, `outgoing/` for what the hop relays; a return that has
 * come home lands in `incoming/` too, and that host's shipping server moves it to its return bay.
 */
export class DirectoryTransport implements Transport {
  async deliver(request: DeliveryRequest, signal?: AbortSignal): Promise<DeliveryReceipt> {
    const { hop, order } = request;
    const bay = bayOf(hop.url, hop.host);
    try {
      if (!statSync(bay).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (err) {
      throw new IoError(
        `cannot deliver to ${hop.host}: its bay ${bay} is not reachable (${(err as NodeJS.ErrnoException).code ?? 'unknown'})`,
        {
          cause: err,
          data: { host: hop.host, bay },
          hint: 'mount the medium or share holding it; the next poll tries again',
        },
      );
    }
    const landings = landingPlan(order, hop.host);
    if (landings.length === 0)
      throw new InvalidInputError(`order for ${order.packet} has no pending destination to deliver to ${hop.host}`);
    const dirs = landings.map((l) => landingDir(bay, l.slot));
    const first = dirs[0]!;
    const partial = join(first, `.${bayFileName(order.packet)}.${order.sha256.slice(0, 16)}.partial`);
    const { bytesSent } = await copyResuming(request.packetPath, partial, order, signal, request.onProgress);

    // Landed as the daemon's receiver lands what it receives (landPacket.ts): never over another
    // packet, and the same packet delivered again is not stored twice.
    for (let i = 1; i < landings.length; i++) {
      const copy = `${partial}.${i}`;
      copyFileDurably(partial, copy);
      await landPacket(copy, dirs[i]!, landings[i]!.order);
    }
    const { storedAs } = await landPacket(partial, first, landings[0]!.order);
    return { bytesSent, storedAs };
  }
}

function bayOf(url: string, host: string): string {
  try {
    return fileURLToPath(url);
  } catch (cause) {
    throw new InvalidInputError(`PEER ${host}: "${url}" is not a file:// URL of a directory`, { cause });
  }
}

function landingDir(bay: string, slot: LandingSlot): string {
  const dir = join(bay, slot === 'outgoing' ? OUTGOING : INCOMING);
  writingTo('create directory', dir, () => mkdirSync(dir, { recursive: true }));
  return dir;
}

/**
 * Makes `partial` a whole, durable copy of `src` with the order's SHA-256, appending to what an earlier
 * attempt left there. Returns the bytes this call copied.
 */
async function copyResuming(
  src: string,
  partial: string,
  order: ShippingOrder,
  signal: AbortSignal | undefined,
  onProgress: ((held: number, size: number) => void) | undefined,
): Promise<{ bytesSent: number }> {
  let held = 0;
  try {
    held = statSync(partial).size;
  } catch {
    held = 0;
  }
  if (held > order.size) {
    writingTo('truncate', partial, () => truncateSync(partial, 0));
    held = 0;
  }
  const start = held;
  onProgress?.(held, order.size);
  const hash = createHash('sha256');
  try {
    if (start === 0) {
      // A fresh copy: the kernel copies (copy_file_range, or a reflink where the file system has them),
      // then the landed bytes are read back for the SHA-256, which checks what the bay holds. Measured
      // at 512 MiB: 1.0 s against 2.7 s streaming through a hash in JavaScript.
      await copyFile(src, partial);
      held = statSync(partial).size;
      onProgress?.(held, order.size);
      await hashFileInto(hash, partial);
    } else {
      // Resuming: hash what is there, then append only the missing bytes, hashing them on the way.
      await hashFileInto(hash, partial, 0, held);
      const tee = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          held += chunk.length;
          onProgress?.(held, order.size);
          done(null, chunk);
        },
      });
      await pipeline(
        createReadStream(src, { start, highWaterMark: 1 << 20 }),
        tee,
        createWriteStream(partial, { flags: 'a' }),
        signal ? { signal } : {},
      );
    }
    const fd = openSync(partial, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    // What was written stays: the next attempt continues from it.
    const e = toMsiteError(err);
    throw new IoError(`cannot copy ${src} to ${partial}: ${e.message}`, { cause: err, persistence: e.persistence });
  }
  const digest = hash.digest('hex');
  if (held !== order.size || digest !== order.sha256) {
    rmSync(partial, { force: true });
    // What an earlier attempt left may be what is wrong: start over once from nothing.
    if (start > 0) return copyResuming(src, partial, order, signal, onProgress);
    throw new InvalidInputError(
      `packet ${order.packet} does not match its order: ${held} bytes with SHA-256 ${digest}, the order says ${order.size} bytes with ${order.sha256}`,
      { data: { packet: order.packet } },
    );
  }
  return { bytesSent: held - start };
}
