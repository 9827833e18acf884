import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { sha256Hex } from '../../src/core/sha256.js';
import { parseShippingOrder } from '../../src/shipping/shippingOrder.js';
import { shipFromSite } from '../../src/site/shipFromSite.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';
import { identify, relayedFamily, startDaemon, stopDaemon, until } from '../helpers/loopbackSites.js';

/**
 * Seed 000's transport phase between three sites with their daemons on loopback: boston_hub ships to
 * sanfran_hub directly and to bangalore through a ROUTE via sanfran's host, over mutual TLS; the
 * packets land in each destination's incoming bay with no other command, and import there.
 */

const incoming = (s: Site): string => join(s.home, 'shipping', 'ms_ship', 'incoming');
const packetsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('sync_')) : []);

describe('three sites on loopback', () => {
  it('syncreplica --export --fship delivers to sanfran directly and to bangalore through sanfran; --receive imports', async () => {
    const { boston, sanfran, bangalore } = await relayedFamily(tempDir('msite-three-'));

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
    const shown = await identify([boston, sanfran]);
    const key = (s: Site): string => shown.get(s)!.publicKey;
    let sf = await startDaemon(sanfran);
    const port = sf.peerPort!;
    await stopDaemon(sf);
    const argvLog = join(root, 'notify.log');
    const program = join(root, 'notify.sh');
    writeFileSync(program, `#!/bin/sh\nprintf '%s|' "$@" >> ${argvLog}; echo >> ${argvLog}\n`, { mode: 0o755 });
    await boston.run('site', 'peer', 'sanfran_hub-host', `https://127.0.0.1:${port}`, key(sanfran));
    appendFileSync(join(boston.home, 'shipping.conf'), `ADMINISTRATOR ccadmin\nNOTIFICATION-PROGRAM ${program}\nEXPIRATION 2\n`);
    await sanfran.run('site', 'peer', 'boston_hub-host', 'https://127.0.0.1:1', key(boston));

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
    sf = await startDaemon(sanfran, port);
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
    await stopDaemon(sf);
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
