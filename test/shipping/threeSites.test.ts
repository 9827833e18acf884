import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { sha256Hex } from '../../src/core/sha256.js';
import { parseShippingOrder } from '../../src/shipping/shippingOrder.js';
import { shipFromSite } from '../../src/site/shipFromSite.js';
import { SiteDaemon } from '../../src/site/siteDaemon.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

/**
 * Seed 000's transport phase between three sites with their daemons on loopback: boston_hub ships to
 * sanfran_hub directly and to bangalore through a ROUTE via sanfran's host, over mutual TLS; the
 * packets land in each destination's incoming bay with no other command, and import there.
 */

const daemons: SiteDaemon[] = [];
afterAll(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

const incoming = (s: Site): string => join(s.home, 'shipping', 'ms_ship', 'incoming');
const packetsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('sync_')) : []);

async function until(what: string, done: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('three sites on loopback', () => {
  it('syncreplica --export --fship delivers to sanfran directly and to bangalore through sanfran; --receive imports', async () => {
    const root = tempDir('msite-three-');
    const [boston, sanfran, bangalore] = (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
    const keys = new Map<Site, string>();
    const recipients = new Map<Site, string>();
    for (const s of [boston, sanfran, bangalore]) {
      await s.run('site', 'init', '--host', `${s.name}-host`, '--listen', '127.0.0.1');
      const shown = await s.json<{ publicKey: string; recipient: string }>('site', 'show');
      keys.set(s, shown.publicKey);
      recipients.set(s, shown.recipient);
    }
    const start = async (s: Site): Promise<SiteDaemon> => {
      const d = await SiteDaemon.start({
        home: SiteHome.locate(s.home, {}, root),
        port: 0,
        adminPort: 0,
        logger: createLogger({ level: 'info', destination: join(s.home, 'log', 'msite-serve.log') }),
      });
      daemons.push(d);
      return d;
    };
    const sf = await start(sanfran);
    const bg = await start(bangalore);
    const url = (d: SiteDaemon): string => `https://127.0.0.1:${d.peerPort}`;
    // Each side names the other: a daemon serves only PEER keys, and a sender pins the receiver's key.
    // A packet for bangalore goes through a relay, so it is sealed for its destinations: their recipients.
    await boston.run('site', 'peer', 'sanfran_hub-host', url(sf), keys.get(sanfran)!, recipients.get(sanfran)!);
    await boston.run('site', 'peer', 'bangalore-host', 'https://127.0.0.1:1', keys.get(bangalore)!, recipients.get(bangalore)!);
    appendFileSync(join(boston.home, 'shipping.conf'), 'ROUTE sanfran_hub-host bangalore-host\n');
    await sanfran.run('site', 'peer', 'boston_hub-host', 'https://127.0.0.1:1', keys.get(boston)!);
    await sanfran.run('site', 'peer', 'bangalore-host', url(bg), keys.get(bangalore)!);
    await bangalore.run('site', 'peer', 'sanfran_hub-host', 'https://127.0.0.1:1', keys.get(sanfran)!);

    await boston.run('mklbtype', 'SHIPPED');
    const shipped = await boston.json<{ packets: string[] }>('syncreplica', '--export', '--fship', 'sanfran_hub', 'bangalore');
    expect(shipped.packets.length).toBeGreaterThan(0);

    await until('both destinations hold every packet', () =>
      [sanfran, bangalore].every((s) => packetsIn(incoming(s)).length === shipped.packets.length),
    );
    for (const s of [sanfran, bangalore]) {
      for (const name of packetsIn(incoming(s))) {
        const order = parseShippingOrder(readFileSync(join(incoming(s), `sh_o_${name}`), 'utf8'));
        expect(sha256Hex(readFileSync(join(incoming(s), name)))).toBe(order.sha256);
        expect(order.hops.map((h) => h.host)).toContain('boston_hub-host');
      }
    }
    // Byte for byte the same packet at both ends, and nothing left behind at the sender or the relay.
    for (const name of packetsIn(incoming(sanfran))) {
      expect(readFileSync(join(incoming(bangalore), name)).equals(readFileSync(join(incoming(sanfran), name)))).toBe(true);
    }
    await until('the relay has sent on what it held', () => packetsIn(join(sanfran.home, 'shipping', 'ms_ship', 'outgoing')).length === 0);
    expect(packetsIn(join(boston.home, 'shipping', 'ms_ship', 'outgoing'))).toEqual([]);

    for (const s of [sanfran, bangalore]) {
      await s.run('syncreplica', '--import', '--receive');
      expect((await s.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).toContain('SHIPPED');
      expect(packetsIn(incoming(s))).toEqual([]);
    }
  });

  it('a destination that is down: the order waits with its error and next try, a later poll delivers; past its expiry it comes home', async () => {
    const root = tempDir('msite-down-');
    const [boston, sanfran] = (await family(root, ['boston_hub', 'sanfran_hub'])) as [Site, Site];
    for (const s of [boston, sanfran]) await s.run('site', 'init', '--host', `${s.name}-host`, '--listen', '127.0.0.1');
    const key = async (s: Site): Promise<string> => (await s.json<{ publicKey: string }>('site', 'show')).publicKey;
    const sfHome = SiteHome.locate(sanfran.home, {}, root);
    const startSanfran = async (port: number): Promise<SiteDaemon> => {
      const d = await SiteDaemon.start({
        home: sfHome,
        port,
        adminPort: 0,
        logger: createLogger({ level: 'info', destination: join(sanfran.home, 'log', 'msite-serve.log') }),
      });
      daemons.push(d);
      return d;
    };
    let sf = await startSanfran(0);
    const port = sf.peerPort!;
    await sf.stop();
    daemons.splice(daemons.indexOf(sf), 1);
    const argvLog = join(root, 'notify.log');
    const program = join(root, 'notify.sh');
    writeFileSync(program, `#!/bin/sh\nprintf '%s|' "$@" >> ${argvLog}; echo >> ${argvLog}\n`, { mode: 0o755 });
    await boston.run('site', 'peer', 'sanfran_hub-host', `https://127.0.0.1:${port}`, await key(sanfran));
    appendFileSync(join(boston.home, 'shipping.conf'), `ADMINISTRATOR ccadmin\nNOTIFICATION-PROGRAM ${program}\nEXPIRATION 2\n`);
    await sanfran.run('site', 'peer', 'boston_hub-host', 'https://127.0.0.1:1', await key(boston));

    // Down: --fship fails, and the order says why and when it is tried again.
    await boston.run('mklbtype', 'WAITED');
    const first = await boston.try('syncreplica', '--export', '--fship', 'sanfran_hub');
    expect(first.status).toBe(1);
    expect(first.stderr).toMatch(/msite: shipping_server: .*sanfran_hub-host/);
    const outgoing = join(boston.home, 'shipping', 'ms_ship', 'outgoing');
    const orderFile = join(
      outgoing,
      readdirSync(outgoing).find((n) => n.startsWith('sh_o_'))!,
    );
    const waiting = parseShippingOrder(readFileSync(orderFile, 'utf8'));
    expect(waiting.destinations[0]).toMatchObject({ host: 'sanfran_hub-host', state: 'pending', attempts: 1 });
    expect(waiting.destinations[0]!.lastError).toMatch(/./);
    expect(waiting.destinations[0]!.nextTry).toBeGreaterThan(Date.now());

    // Up again: a poll before the next try leaves it; the poll once it is due delivers it.
    sf = await startSanfran(port);
    const bostonHome = SiteHome.locate(boston.home, {}, root);
    const clock = new ManualClock(Date.now());
    try {
      const early = await shipFromSite(bostonHome, bostonHome.database(), undefined, { clock });
      expect(early.attempts).toEqual([]);
      clock.set(waiting.destinations[0]!.nextTry!);
      const due = await shipFromSite(bostonHome, bostonHome.database(), undefined, { clock });
      expect(due.attempts.map((a) => a.result)).toEqual(['delivered']);
    } finally {
      bostonHome.close();
    }
    expect(existsSync(orderFile)).toBe(false);
    await sanfran.run('syncreplica', '--import', '--receive');
    expect((await sanfran.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).toContain('WAITED');

    // Down again, and past the order's expiry: it goes to the return bay, and the administrators hear of it.
    await sf.stop();
    daemons.splice(daemons.indexOf(sf), 1);
    await boston.run('mklbtype', 'EXPIRED');
    await boston.run('syncreplica', '--export', '--ship', 'sanfran_hub');
    clock.set(Date.now() + 3 * 86_400_000);
    try {
      const late = await shipFromSite(bostonHome, bostonHome.database(), undefined, { clock });
      expect(late.returned.length).toBe(1);
    } finally {
      bostonHome.close();
    }
    expect(packetsIn(outgoing)).toEqual([]);
    expect(packetsIn(join(boston.home, 'shipping', 'ms_rtn', 'incoming')).length).toBe(1);
    // Once when it is returned, once when it is home (at once: this site is its origin).
    const calls = readFileSync(argvLog, 'utf8').trim().split('\n');
    expect(calls.length).toBe(2);
    for (const call of calls) expect(call).toMatch(/^-s\|[^|]+\|-f\|[^|]+\|ccadmin\|$/);
  });
});
