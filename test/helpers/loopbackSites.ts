import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { SiteDaemon, type SiteDaemonOptions } from '../../src/site/siteDaemon.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { family, type Site } from './sites.js';

/** What `msite site show` prints of a site that other sites need: its PEER key and age recipient. */
export interface Shown {
  publicKey: string;
  recipient: string;
}

/** Gives each site its identity (`site init --host <name>-host`, peer listener on loopback); returns what each shows. */
export async function identify(sites: readonly Site[]): Promise<Map<Site, Shown>> {
  const shown = new Map<Site, Shown>();
  for (const s of sites) {
    await s.run('site', 'init', '--host', `${s.name}-host`, '--listen', '127.0.0.1');
    shown.set(s, await s.json<Shown>('site', 'show'));
  }
  return shown;
}

const running: SiteDaemon[] = [];
afterAll(async () => {
  for (const d of running.splice(0)) await d.stop();
});

/**
 * Starts the site's daemon in this process on loopback (`port` 0: any free one), logging to
 * `<home>/log/msite-serve.log`; stopped when the test file ends, or by `stopDaemon`. `more` adds
 * options (a fake clock for its scheduler, say).
 */
export async function startDaemon(s: Site, port = 0, more: Partial<SiteDaemonOptions> = {}): Promise<SiteDaemon> {
  const d = await SiteDaemon.start({
    home: SiteHome.locate(s.home, {}, s.home),
    port,
    adminPort: 0,
    logger: createLogger({ level: 'info', destination: join(s.home, 'log', 'msite-serve.log') }),
    ...more,
  });
  running.push(d);
  return d;
}

/** Stops a daemon `startDaemon` started. */
export async function stopDaemon(d: SiteDaemon): Promise<void> {
  running.splice(running.indexOf(d), 1);
  await d.stop();
}

/** Where a daemon's peer listener is, as a PEER line names it. */
export const peerUrl = (d: SiteDaemon): string => `https://127.0.0.1:${d.peerPort}`;

/** Waits until `done`, checking every 50 ms; fails after `ms`. */
export async function until(what: string, done: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Seed 000's three sites with daemons on loopback for sanfran_hub and bangalore: boston_hub reaches
 * sanfran directly and bangalore through a ROUTE via sanfran's host (so what goes to bangalore is
 * sealed for it: boston holds its recipient); each daemon serves the sites that send to it.
 */
export async function relayedFamily(
  root: string,
): Promise<{ boston: Site; sanfran: Site; bangalore: Site; sf: SiteDaemon; bg: SiteDaemon; shown: Map<Site, Shown> }> {
  const [boston, sanfran, bangalore] = (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
  const shown = await identify([boston, sanfran, bangalore]);
  const sf = await startDaemon(sanfran);
  const bg = await startDaemon(bangalore);
  const key = (s: Site): string => shown.get(s)!.publicKey;
  const nowhere = 'https://127.0.0.1:1';
  await boston.run('site', 'peer', 'sanfran_hub-host', peerUrl(sf), key(sanfran), shown.get(sanfran)!.recipient);
  await boston.run('site', 'peer', 'bangalore-host', nowhere, key(bangalore), shown.get(bangalore)!.recipient);
  appendFileSync(join(boston.home, 'shipping.conf'), 'ROUTE sanfran_hub-host bangalore-host\n');
  await sanfran.run('site', 'peer', 'boston_hub-host', nowhere, key(boston));
  await sanfran.run('site', 'peer', 'bangalore-host', peerUrl(bg), key(bangalore));
  await bangalore.run('site', 'peer', 'sanfran_hub-host', nowhere, key(sanfran));
  return { boston, sanfran, bangalore, sf, bg, shown };
}
