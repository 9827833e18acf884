import { join } from 'node:path';
import { addPeer, hopTo, identifiedSite, startDaemon, tusTransportOf } from './peerSites.js';
import { transportConformance } from './transportConformance.js';

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
