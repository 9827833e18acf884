import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import type { TusTransport } from '../../src/shipping/tusTransport.js';
import { setPeerLine } from '../../src/shipping/setPeerLine.js';
import type { Hop } from '../../src/shipping/transport.js';
import type { SiteDescription } from '../../src/site/describeSite.js';
import { initSite } from '../../src/site/initSite.js';
import { SiteDaemon, type SiteDaemonOptions } from '../../src/site/siteDaemon.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { siteTransport } from '../../src/site/siteTransport.js';

/** A site home with an identity, made under `root`. */
export async function identifiedSite(root: string, host: string): Promise<SiteDescription & { homeObj: SiteHome }> {
  const home = SiteHome.locate(join(root, host), process.env, process.cwd());
  const d = await initSite(home, { host });
  return { ...d, homeObj: home };
}

/** Makes `peer` a PEER of `site` (as `msite site peer` does). */
export function addPeer(site: { home: string }, peer: { host: string; publicKey: string }, url = `https://${peer.host}:7071`): void {
  setPeerLine(join(site.home, 'shipping.conf'), { host: peer.host, url, publicKey: peer.publicKey });
}

/** Starts the site's daemon in this process on free loopback ports, logging to `<home>/log/msite-serve.log`. */
export async function startDaemon(
  site: { homeObj: SiteHome; home: string },
  options: Partial<SiteDaemonOptions> = {},
): Promise<SiteDaemon> {
  return SiteDaemon.start({
    home: site.homeObj,
    port: 0,
    adminPort: 0,
    listen: '127.0.0.1',
    logger: createLogger({ level: 'info', destination: join(site.home, 'log', 'msite-serve.log') }),
    ...options,
  });
}

/** The hop a sender uses to reach `receiver`'s daemon. */
export function hopTo(receiver: { host: string; publicKey: string }, peerPort: number): Hop {
  return { host: receiver.host, url: `https://127.0.0.1:${peerPort}`, publicKey: receiver.publicKey };
}

const openDatabases: SiteDatabase[] = [];
afterAll(() => {
  for (const db of openDatabases.splice(0)) db.close();
});

/** A tus transport sending as `sender`, its resumable uploads in the sender's site.db (closed after the file's tests). */
export function tusTransportOf(sender: { home: string }, options: { chunkSize?: number } = {}): TusTransport {
  const db = SiteDatabase.open(sender.home);
  openDatabases.push(db);
  return siteTransport(SiteHome.locate(sender.home, process.env, process.cwd()), db, options);
}
