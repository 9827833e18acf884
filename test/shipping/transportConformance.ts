import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MsiteError } from '../../src/core/errors.js';
import { packetFileName } from '../../src/packet/packetNames.js';
import { orderFileName, parseShippingOrder, shippingOrderSchema, type ShippingOrder } from '../../src/shipping/shippingOrder.js';
import { landingPlan } from '../../src/shipping/landingPlan.js';
import type { Hop, Transport } from '../../src/shipping/transport.js';

/**
 * What a transport's test sets up: the transport, the hop it delivers to, the directory where that
 * hop's arrivals land, and `close()`, which takes the receiving end down: the hop is unreachable
 * afterwards, while the transport can still be called (it may be called twice).
 */
export interface TransportUnderTest {
  transport: Transport;
  hop: Hop;
  incomingDir: string;
  close: () => Promise<void>;
}

/** Sets up a transport and a receiving end under `root` (a fresh directory, removed afterwards). */
export type TransportFactory = (t: { root: string }) => Promise<TransportUnderTest>;

/** A packet file of `size` random bytes under `dir`, and its order for `destination`. */
export function makePacket(dir: string, destination: string, size = 64 * 1024, seq = 1): { path: string; order: ShippingOrder } {
  const name = packetFileName('update', 'boston_hub', Date.UTC(2026, 11, 2, 14, 0, 0), seq);
  const path = join(dir, name);
  const bytes = randomBytes(size);
  writeFileSync(path, bytes);
  const now = Date.now();
  const order = shippingOrderSchema.parse({
    format: 1,
    packet: name,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size,
    class: '-default',
    origin: 'boston_hub',
    destinations: [{ host: destination, state: 'pending' }],
    hops: [{ host: 'boston_hub', at: now }],
    createdAt: now,
    expiresAt: now + 14 * 86_400_000,
  });
  return { path, order };
}

/** Every name in `dir` (none when it does not exist). */
function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * The behaviour every Transport owes the shipping server:
 * - a delivery lands the packet and its order at the hop, byte for byte, under the packet's name;
 * - a packet the hop refuses (here: its bytes do not match the order's SHA-256) fails with a
 *   permanent error and leaves nothing at the hop;
 * - a hop that cannot be reached fails with a transient error;
 * - delivering the same packet again is idempotent: the same name, one packet, one order.
 */
export function transportConformance(name: string, factory: TransportFactory): void {
  describe(`${name}: Transport conformance`, () => {
    const open: TransportUnderTest[] = [];
    const roots: string[] = [];
    afterEach(async () => {
      for (const t of open.splice(0)) await t.close();
      for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
    });
    async function setUp(): Promise<TransportUnderTest & { root: string; outbox: string }> {
      const root = mkdtempSync(join(tmpdir(), 'msite-transport-'));
      roots.push(root);
      const t = await factory({ root });
      open.push(t);
      const outbox = mkdtempSync(join(root, 'outbox-'));
      return { ...t, root, outbox };
    }

    it('delivers a packet and its order byte for byte', async () => {
      const t = await setUp();
      const { path, order } = makePacket(t.outbox, t.hop.host);
      const receipt = await t.transport.deliver({ hop: t.hop, packetPath: path, order });
      expect(receipt.storedAs).toBe(order.packet);
      expect(receipt.bytesSent).toBeGreaterThanOrEqual(order.size);
      expect(readFileSync(join(t.incomingDir, order.packet)).equals(readFileSync(path))).toBe(true);
      // The order as every receiver lands it for its destination (landingPlan.ts): delivered there.
      const landed = parseShippingOrder(readFileSync(join(t.incomingDir, orderFileName(order.packet)), 'utf8'));
      expect(landed).toEqual(landingPlan(order, t.hop.host)[0]!.order);
      expect(entries(t.incomingDir)).toEqual([order.packet, orderFileName(order.packet)].sort());
    });

    it('fails permanently for a packet the hop refuses, leaving nothing there', async () => {
      const t = await setUp();
      const { path, order } = makePacket(t.outbox, t.hop.host);
      const wrong = { ...order, sha256: '0'.repeat(64) };
      const err = await t.transport.deliver({ hop: t.hop, packetPath: path, order: wrong }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MsiteError);
      expect((err as MsiteError).transient).toBe(false);
      expect(entries(t.incomingDir)).toEqual([]);
    });

    it('fails transiently when the hop cannot be reached', async () => {
      const t = await setUp();
      const { path, order } = makePacket(t.outbox, t.hop.host);
      await t.close();
      open.splice(open.indexOf(t), 1);
      const err = await t.transport.deliver({ hop: t.hop, packetPath: path, order }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MsiteError);
      expect((err as MsiteError).transient).toBe(true);
    });

    it('delivers the same packet twice idempotently', async () => {
      const t = await setUp();
      const { path, order } = makePacket(t.outbox, t.hop.host);
      const first = await t.transport.deliver({ hop: t.hop, packetPath: path, order });
      const second = await t.transport.deliver({ hop: t.hop, packetPath: path, order });
      expect(second.storedAs).toBe(first.storedAs);
      expect(entries(t.incomingDir)).toEqual([order.packet, orderFileName(order.packet)].sort());
      expect(readFileSync(join(t.incomingDir, order.packet)).equals(readFileSync(path))).toBe(true);
    });
  });
}
