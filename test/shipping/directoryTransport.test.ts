import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MsiteError } from '../../src/core/errors.js';
import { DirectoryTransport } from '../../src/shipping/directoryTransport.js';
import { parseShippingOrder, type ShippingOrder } from '../../src/shipping/shippingOrder.js';
import { tempDir } from '../helpers/cli.js';
import { SOME_PEER_KEY } from '../helpers/siteSettings.js';
import { transportConformance, type TransportFactory } from './transportConformance.js';

const KEY = SOME_PEER_KEY;

const directoryFactory: TransportFactory = async ({ root }) => {
  const bay = join(root, 'sanfran-bay');
  mkdirSync(bay, { recursive: true });
  await Promise.resolve();
  return {
    transport: new DirectoryTransport(),
    hop: { host: 'sanfran', url: pathToFileURL(bay).href, publicKey: KEY },
    incomingDir: join(bay, 'incoming'),
    // The medium taken away: the hop cannot be reached any more.
    close: async () => rmSync(bay, { recursive: true, force: true }),
  };
};

function packet(root: string, name: string, bytes: Buffer): { path: string; order: ShippingOrder } {
  const dir = join(root, 'out');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const now = Date.UTC(2026, 11, 1);
  return {
    path,
    order: {
      format: 1,
      kind: 'delivery',
      packet: name,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      class: '-default',
      origin: 'boston',
      destinations: [{ host: 'sanfran', state: 'pending', attempts: 0 }],
      hops: [
        { host: 'boston', at: now },
        { host: 'sanfran', at: now },
      ],
      createdAt: now,
      expiresAt: now + 14 * 86_400_000,
      notify: [],
    },
  };
}

transportConformance('directory', directoryFactory);

describe.each([['directory', directoryFactory]] as const)('%s transport', (_name, factory) => {
  it('lands the packet byte for byte, then its order naming it, and says how many bytes it sent', async () => {
    const root = tempDir();
    const t = await factory({ root });
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const p = packet(root, 'sync_boston_2026-12-01T000000Z_1_1', bytes);
    const receipt = await t.transport.deliver({ hop: t.hop, packetPath: p.path, order: p.order });
    expect(receipt).toEqual({ bytesSent: bytes.length, storedAs: 'sync_boston_2026-12-01T000000Z_1_1' });
    expect(readFileSync(join(t.incomingDir, receipt.storedAs)).equals(bytes)).toBe(true);
    const order = parseShippingOrder(readFileSync(join(t.incomingDir, `sh_o_${receipt.storedAs}`), 'utf8'));
    expect(order.packet).toBe(receipt.storedAs);
    expect(order.hops.map((h) => h.host)).toEqual(['boston', 'sanfran']);
    // The sender keeps its copy: deleting it is the shipping server's decision.
    expect(existsSync(p.path)).toBe(true);
    // The same packet delivered again is stored once.
    const again = await t.transport.deliver({ hop: t.hop, packetPath: p.path, order: p.order });
    expect(again.storedAs).toBe('sync_boston_2026-12-01T000000Z_1_1');
    await t.close();
  });

  it('refuses a packet that does not match its order, and leaves nothing in the bay', async () => {
    const root = tempDir();
    const t = await factory({ root });
    const p = packet(root, 'sync_boston_2026-12-01T000000Z_1_3', randomBytes(4096));
    const wrong = { ...p.order, sha256: 'f'.repeat(64) };
    const err = await t.transport.deliver({ hop: t.hop, packetPath: p.path, order: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MsiteError);
    expect((err as MsiteError).transient).toBe(false);
    expect((err as MsiteError).message).toMatch(/does not match its order/);
    expect(existsSync(t.incomingDir) ? readdirSync(t.incomingDir) : []).toEqual([]);
    await t.close();
  });
});

describe('directory transport: resuming and reaching the bay', () => {
  const factory = directoryFactory;

  it('resumes a partial copy an earlier attempt left: only the missing bytes are sent', async () => {
    const root = tempDir();
    const t = await factory({ root });
    const bytes = randomBytes(2 * 1024 * 1024);
    const p = packet(root, 'sync_boston_2026-12-01T000000Z_1_2', bytes);
    // What an attempt cut off halfway leaves at the receiver.
    const dir = join(t.hop.url.replace('file://', ''), 'incoming');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `.${p.order.packet}.${p.order.sha256.slice(0, 16)}.partial`), bytes.subarray(0, 1_000_000));
    const receipt = await t.transport.deliver({ hop: t.hop, packetPath: p.path, order: p.order });
    expect(receipt.bytesSent).toBe(bytes.length - 1_000_000);
    expect(readFileSync(join(t.incomingDir, receipt.storedAs)).equals(bytes)).toBe(true);
    expect(readdirSync(t.incomingDir).filter((n) => n.startsWith('.'))).toEqual([]);
    await t.close();
  });

  it('a partial copy that does not continue the packet is dropped and the copy starts over', async () => {
    const root = tempDir();
    const t = await factory({ root });
    const bytes = randomBytes(100_000);
    const p = packet(root, 'sync_boston_2026-12-01T000000Z_1_6', bytes);
    const dir = join(t.hop.url.replace('file://', ''), 'incoming');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `.${p.order.packet}.${p.order.sha256.slice(0, 16)}.partial`), randomBytes(5000));
    const receipt = await t.transport.deliver({ hop: t.hop, packetPath: p.path, order: p.order });
    expect(readFileSync(join(t.incomingDir, receipt.storedAs)).equals(bytes)).toBe(true);
    await t.close();
  });

  it('a hop that cannot be reached is a transient failure', async () => {
    const root = tempDir();
    const t = await factory({ root });
    rmSync(t.hop.url.replace('file://', ''), { recursive: true, force: true });
    const p = packet(root, 'sync_boston_2026-12-01T000000Z_1_4', randomBytes(10));
    const err = await t.transport.deliver({ hop: t.hop, packetPath: p.path, order: p.order }).catch((e: unknown) => e);
    expect((err as MsiteError).transient).toBe(true);
    expect((err as MsiteError).message).toMatch(/cannot deliver to sanfran: its bay .* is not reachable/);
    await t.close();
  });
});

describe('directory transport at a relay', () => {
  it('a packet for hosts beyond the hop lands in its outgoing bay with an order for them; one for the hop too lands in incoming', async () => {
    const root = tempDir();
    const t = await directoryFactory({ root });
    const p = packet(root, 'sync_boston_2026-12-01T000000Z_1_5', randomBytes(5000));
    const order: ShippingOrder = {
      ...p.order,
      destinations: [
        { host: 'sanfran', state: 'pending', attempts: 0 },
        { host: 'bangalore', state: 'pending', attempts: 2, lastError: 'earlier' },
      ],
    };
    const receipt = await t.transport.deliver({ hop: t.hop, packetPath: p.path, order });
    const bay = t.hop.url.replace('file://', '');
    const outgoing = join(bay, 'outgoing');
    expect(readdirSync(outgoing).sort()).toEqual([receipt.storedAs, `sh_o_${receipt.storedAs}`].sort());
    const onward = parseShippingOrder(readFileSync(join(outgoing, `sh_o_${receipt.storedAs}`), 'utf8'));
    expect(onward.destinations).toEqual([{ host: 'bangalore', state: 'pending', attempts: 0 }]);
    expect(onward.hops.map((h) => h.host)).toEqual(['boston', 'sanfran']);
    const mine = parseShippingOrder(readFileSync(join(t.incomingDir, `sh_o_${receipt.storedAs}`), 'utf8'));
    expect(mine.destinations.map((d) => [d.host, d.state])).toEqual([['sanfran', 'delivered']]);
    expect(readFileSync(join(outgoing, receipt.storedAs)).equals(readFileSync(p.path))).toBe(true);
  });
});
