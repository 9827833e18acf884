import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Decrypter } from 'age-encryption';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { isSealedPacket } from '../../src/packet/sealedPacket.js';
import { loadSiteAgeIdentity } from '../../src/shipping/siteAgeIdentity.js';
import { parseShippingOrder } from '../../src/shipping/shippingOrder.js';
import { SiteDaemon } from '../../src/site/siteDaemon.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';
import { until } from '../helpers/loopbackSites.js';

/**
 * Confidentiality through a relay: boston_hub ships to bangalore through a ROUTE via sanfran_hub's
 * host, daemons on loopback. The packet leaves boston sealed for bangalore, so nothing under the
 * relay's home ever holds a byte sequence of the packet's plaintext; bangalore opens and imports it.
 */

const daemons: SiteDaemon[] = [];
afterAll(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

const incoming = (s: Site): string => join(s.home, 'shipping', 'ms_ship', 'incoming');
const packetsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('sync_')) : []);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile());
}

describe('packets sealed through a relay', () => {
  it("the relay's home holds no byte sequence of the packet's plaintext; the destination opens and imports it", async () => {
    const root = tempDir('msite-sealed-');
    const [boston, sanfran, bangalore] = (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
    const shown = new Map<Site, { publicKey: string; recipient: string }>();
    for (const s of [boston, sanfran, bangalore]) {
      await s.run('site', 'init', '--host', `${s.name}-host`, '--listen', '127.0.0.1');
      shown.set(s, await s.json<{ publicKey: string; recipient: string }>('site', 'show'));
    }
    const start = async (s: Site, port = 0): Promise<SiteDaemon> => {
      const d = await SiteDaemon.start({
        home: SiteHome.locate(s.home, {}, root),
        port,
        adminPort: 0,
        logger: createLogger({ level: 'info', destination: join(s.home, 'log', 'msite-serve.log') }),
      });
      daemons.push(d);
      return d;
    };
    const sf = await start(sanfran);
    // bangalore is down at first, so the relay holds the packet while it is scanned; its port is kept.
    let bg = await start(bangalore);
    const bgPort = bg.peerPort!;
    await bg.stop();
    daemons.splice(daemons.indexOf(bg), 1);
    const url = (d: SiteDaemon): string => `https://127.0.0.1:${d.peerPort}`;
    const key = (s: Site): string => shown.get(s)!.publicKey;
    await boston.run('site', 'peer', 'sanfran_hub-host', url(sf), key(sanfran));
    // bangalore is reached through sanfran; its PEER line at boston is there for its recipient.
    await boston.run('site', 'peer', 'bangalore-host', 'https://127.0.0.1:1', key(bangalore));
    appendFileSync(join(boston.home, 'shipping.conf'), 'ROUTE sanfran_hub-host bangalore-host\n');
    await sanfran.run('site', 'peer', 'boston_hub-host', 'https://127.0.0.1:1', key(boston));
    await sanfran.run('site', 'peer', 'bangalore-host', `https://127.0.0.1:${bgPort}`, key(bangalore));
    await bangalore.run('site', 'peer', 'sanfran_hub-host', 'https://127.0.0.1:1', key(sanfran));

    const marker = `CONFIDENTIAL_${Date.now().toString(36)}_${process.pid}`;
    await boston.run('mklbtype', marker);

    // No recipient known for bangalore: a clear error, and nothing exported or ordered.
    const outgoing = join(boston.home, 'shipping', 'ms_ship', 'outgoing');
    const refused = await boston.try('syncreplica', '--export', '--fship', 'bangalore', '-c', marker);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /^msite: error: age recipient of host not found: "bangalore-host" .*msite site peer bangalore-host URL PUBLIC-KEY RECIPIENT/,
    );
    expect(readdirSync(outgoing)).toEqual([]);

    await boston.run('site', 'peer', 'bangalore-host', 'https://127.0.0.1:1', key(bangalore), shown.get(bangalore)!.recipient);
    const shipped = await boston.json<{ packets: string[]; orders: string[] }>(
      'syncreplica',
      '--export',
      '--fship',
      'bangalore',
      '-c',
      marker,
    );
    expect(shipped.packets.length).toBeGreaterThan(0);
    const relayOutgoing = join(sanfran.home, 'shipping', 'ms_ship', 'outgoing');
    await until('the relay holds every packet', () => packetsIn(relayOutgoing).length === shipped.packets.length);
    const scanRelay = (plaintexts: readonly Buffer[]): void => {
      // Every file under the relay's home (bays, upload store, site.db, logs): no marker, and no
      // 32-byte run of any packet's plaintext, taken every 8 bytes.
      const relayPaths = filesUnder(sanfran.home);
      const relayFiles = relayPaths.map((p) => readFileSync(p));
      for (const [i, f] of relayFiles.entries()) expect(f.includes(marker), relayPaths[i]).toBe(false);
      for (const plain of plaintexts) {
        for (let i = 0; i + 32 <= plain.length; i += 8) {
          const run = plain.subarray(i, i + 32);
          for (const f of relayFiles) expect(f.includes(run)).toBe(false);
        }
      }
    };
    const held = packetsIn(relayOutgoing).map((n) => readFileSync(join(relayOutgoing, n)));
    expect(held.every((b) => b.subarray(0, 21).toString() === 'age-encryption.org/v1')).toBe(true);
    scanRelay([]);

    // The relay's own attempt, made as the packet landed, has failed and let go of the order.
    await until('the relay has tried once', () =>
      SiteHome.locate(sanfran.home, {}, root).withDatabase(
        (site) => site.db.prepare('SELECT count(*) FROM order_claim').pluck().get() === 0,
      ),
    );
    // bangalore up again: the relay's receipt handler form (`-a ORDER` of an order it holds for
    // others) sends each packet on, as MultiSite's relays forward with sync_receive.
    bg = await start(bangalore, bgPort);
    expect(bg.peerPort).toBe(bgPort);
    const relayOrders = readdirSync(relayOutgoing)
      .filter((n) => n.startsWith('sh_o_'))
      .map((n) => join(relayOutgoing, n));
    for (const order of relayOrders) {
      const packet = join(relayOutgoing, basename(order).slice('sh_o_'.length));
      const forwarded = await sanfran.try('sync_receive', '-o', 'boston_hub-host', '-d', packet, '-a', order, '-s', '-default');
      expect(forwarded.status, forwarded.stderr).toBe(0);
      expect(forwarded.stderr).toMatch(/^Forwarded .* to bangalore-host via bangalore-host\.$/m);
    }
    // Run again (a second handler for the same delivery): the order is gone, and it says so.
    const again = await sanfran.try('sync_receive', '-o', 'boston_hub-host', '-a', relayOrders[0]!);
    expect(again).toMatchObject({ status: 0 });
    expect(again.stderr).toMatch(/^msite: warning: shipping order not found \(perhaps previously sent\?\): /m);
    await until('bangalore holds every packet', () => packetsIn(incoming(bangalore)).length === shipped.packets.length);
    // The relay removes its copy once bangalore has confirmed it.
    await until('the relay has let go of what it held', () => packetsIn(relayOutgoing).length === 0);

    // What arrived is sealed, and its order says for whom; opened, it is the packet, marker and all.
    const identity = loadSiteAgeIdentity(bangalore.home)!.identity;
    const plaintexts: Buffer[] = [];
    for (const name of packetsIn(incoming(bangalore))) {
      const file = join(incoming(bangalore), name);
      expect(isSealedPacket(file)).toBe(true);
      const order = parseShippingOrder(readFileSync(join(incoming(bangalore), `sh_o_${name}`), 'utf8'));
      expect(order.sealedFor).toEqual(['bangalore-host']);
      expect(order.hops.map((h) => h.host)).toEqual(['boston_hub-host', 'sanfran_hub-host', 'bangalore-host']);
      const d = new Decrypter();
      d.addIdentity(identity);
      const plain = Buffer.from(await d.decrypt(readFileSync(file)));
      expect(plain.includes(marker)).toBe(true);
      plaintexts.push(plain);
    }

    // While it held them and after: nothing of the plaintext at the relay.
    for (const b of held) {
      for (const plain of plaintexts)
        for (let i = 0; i + 32 <= plain.length; i += 8) expect(b.includes(plain.subarray(i, i + 32))).toBe(false);
    }
    scanRelay(plaintexts);

    // The destination opens and imports it, and lspacket names the sealed file.
    const listed = await bangalore.json<{ path: string; comment: string }[]>('lspacket');
    expect(listed.map((p) => p.comment)).toEqual(plaintexts.map(() => marker));
    expect(listed.every((p) => p.path.startsWith(incoming(bangalore)))).toBe(true);
    await bangalore.run('syncreplica', '--import', '--receive');
    expect((await bangalore.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).toContain(marker);
    expect(packetsIn(incoming(bangalore))).toEqual([]);
  });
});
