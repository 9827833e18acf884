import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MsiteError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/cli.js';
import { addPeer, hopTo, identifiedSite, startDaemon, tusTransportOf } from './peerSites.js';
import { makePacket, transportConformance } from './transportConformance.js';

transportConformance('tus over mutual TLS', async ({ root }) => {
  const sender = await identifiedSite(root, 'boston_hub');
  const receiver = await identifiedSite(root, 'sanfran_hub');
  addPeer(receiver, sender);
  const daemon = await startDaemon(receiver);
  const transport = tusTransportOf(sender);
  return {
    transport,
    hop: hopTo(receiver, daemon.peerPort!),
    incomingDir: join(receiver.home, 'shipping', 'ms_ship', 'incoming'),
    close: () => daemon.stop(),
  };
});

describe('the tus transport', () => {
  const root = tempDir('msite-tus-');

  it('stops when its signal is aborted, with a transient error, and the next delivery resumes', async () => {
    const sender = await identifiedSite(root, 'boston_hub');
    const receiver = await identifiedSite(root, 'sanfran_hub');
    addPeer(receiver, sender);
    const daemon = await startDaemon(receiver);
    try {
      const outbox = join(root, 'outbox');
      mkdirSync(outbox);
      const { path, order } = makePacket(outbox, 'sanfran_hub', 20 * 1024 * 1024);
      const transport = tusTransportOf(sender, { chunkSize: 1024 * 1024 });
      const hop = hopTo(receiver, daemon.peerPort!);
      const stop = new AbortController();
      const err = (await transport
        .deliver({ hop, packetPath: path, order, onProgress: (held) => held > 2 * 1024 * 1024 && stop.abort() }, stop.signal)
        .catch((e: unknown) => e)) as MsiteError;
      expect(err).toBeInstanceOf(MsiteError);
      expect(err.transient).toBe(true);
      expect(err.message).toBe(`delivery of ${order.packet} to sanfran_hub stopped`);
      const receipt = await transport.deliver({ hop, packetPath: path, order });
      expect(receipt.bytesSent).toBeLessThan(order.size - 1024 * 1024);
      expect(readFileSync(join(receiver.home, 'shipping', 'ms_ship', 'incoming', order.packet)).equals(readFileSync(path))).toBe(true);
    } finally {
      await daemon.stop();
    }
  });
});
