import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { MsiteError } from '../../src/core/errors.js';
import { OrderLedger } from '../../src/shipping/orderLedger.js';
import { readOrderFile } from '../../src/shipping/orderFiles.js';
import { shipPacket } from '../../src/shipping/shipPackets.js';
import { runShippingServer, type ShippingServerOptions } from '../../src/shipping/shippingServer.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { tempDir } from '../helpers/cli.js';
import { setSiteHost, SOME_PEER_KEY } from '../helpers/siteSettings.js';

const KEY = SOME_PEER_KEY;
const DAY = 86_400_000;
const START = Date.UTC(2026, 11, 1, 9);

/** A site home named `host`, with its bay made, its host name set and `conf` as its shipping.conf. */
function home(root: string, host: string, conf = ''): { dir: string; bay: string; url: string; conf: (text: string) => void } {
  const dir = join(root, host);
  const bay = join(dir, 'shipping', 'ms_ship');
  mkdirSync(bay, { recursive: true });
  setSiteHost(dir, host);
  const setConf = (text: string): void => writeFileSync(join(dir, 'shipping.conf'), text);
  setConf(conf);
  return { dir, bay, url: pathToFileURL(bay).href, conf: setConf };
}

const peer = (h: { url: string }, host: string): string => `PEER ${host} ${h.url} ${KEY}\n`;
/** A packet for a host reached through a relay is sealed for it: its PEER line gives its recipient. */
const RECIPIENT = await identityToRecipient(await generateX25519Identity());
const sealedTo = (host: string): string => `PEER ${host} https://${host}.invalid:7071 ${KEY} ${RECIPIENT}\n`;

/** Runs one shipping pass at `homeDir` with its own site database. */
async function pass(homeDir: string, clock: ManualClock, extra: Partial<ShippingServerOptions> = {}, orders?: string[]) {
  const db = SiteDatabase.open(homeDir);
  try {
    return await runShippingServer({ homeDir, db: db.db, clock, ...extra }, orders);
  } finally {
    db.close();
  }
}

function packetAt(root: string, name: string, size = 4096): string {
  const dir = join(root, 'made');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, randomBytes(size));
  return path;
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('shipping_server', () => {
  it('delivers directly and through a relay: boston → sanfran, and boston → bangalore via sanfran', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const sanfran = home(root, 'sanfran');
    const bangalore = home(root, 'bangalore');
    const boston = home(root, 'boston', `${peer(sanfran, 'sanfran')}ROUTE sanfran bangalore\n${sealedTo('bangalore')}`);
    sanfran.conf(peer(bangalore, 'bangalore'));
    const src = packetAt(root, 'sync_boston_2026-12-01T090000Z_1_1', 300_000);
    // bangalore is reached through sanfran: no recipient for sanfran, so nothing is shipped.
    await expect(shipPacket(src, ['sanfran', 'bangalore'], { homeDir: boston.dir, clock })).rejects.toThrow(
      /^age recipient of host not found: "sanfran"$/,
    );
    expect(existsSync(src)).toBe(true);
    expect(files(join(boston.bay, 'outgoing'))).toEqual([]);
    boston.conf(`${sealedTo('sanfran').replace(/https:\S+/, sanfran.url)}ROUTE sanfran bangalore\n${sealedTo('bangalore')}`);
    const placed = await shipPacket(src, ['sanfran', 'bangalore'], { homeDir: boston.dir, clock });
    expect(existsSync(src)).toBe(false);
    // Sealed for both, in one file: what every hop carries.
    const bytes = readFileSync(placed.packetPath);
    expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(readOrderFile(placed.orderPath).sealedFor).toEqual(['sanfran', 'bangalore']);

    const first = await pass(boston.dir, clock);
    expect(first.failures).toEqual([]);
    // One attempt to the one hop carries both destinations.
    expect(first.attempts.map((a) => [a.hop, a.destinations, a.result, a.bytes])).toEqual([
      ['sanfran', ['sanfran', 'bangalore'], 'delivered', bytes.length],
    ]);
    // Confirmed: boston's copy and order are gone.
    expect(files(join(boston.bay, 'outgoing'))).toEqual([]);
    expect(readFileSync(join(sanfran.bay, 'incoming', 'sync_boston_2026-12-01T090000Z_1_1')).equals(bytes)).toBe(true);
    // The relay holds it for bangalore in its outgoing bay, hops recorded.
    const relayed = readOrderFile(join(sanfran.bay, 'outgoing', `sh_o_sync_boston_2026-12-01T090000Z_1_1`));
    expect(relayed.destinations.map((d) => d.host)).toEqual(['bangalore']);
    expect(relayed.hops.map((h) => h.host)).toEqual(['boston', 'sanfran']);

    clock.advance(60_000);
    const second = await pass(sanfran.dir, clock);
    expect(second.attempts.map((a) => [a.hop, a.destinations, a.result])).toEqual([['bangalore', ['bangalore'], 'delivered']]);
    expect(readFileSync(join(bangalore.bay, 'incoming', 'sync_boston_2026-12-01T090000Z_1_1')).equals(bytes)).toBe(true);
    const arrived = readOrderFile(join(bangalore.bay, 'incoming', `sh_o_sync_boston_2026-12-01T090000Z_1_1`));
    expect(arrived.hops.map((h) => h.host)).toEqual(['boston', 'sanfran', 'bangalore']);
    expect(files(join(sanfran.bay, 'outgoing'))).toEqual([]);

    // Logged: a line a delivery in the log file, and a row a destination in site.db.
    const logged = readFileSync(join(boston.dir, 'log', 'shipping_server_log'), 'utf8');
    expect(logged).toMatch(
      new RegExp(
        `^\\S+Z order sh_o_sync_boston_2026-12-01T090000Z_1_1 destination sanfran,bangalore hop sanfran bytes ${bytes.length} seconds \\d+\\.\\d{3} delivered\n$`,
      ),
    );
    const db = SiteDatabase.open(boston.dir);
    try {
      expect(
        new OrderLedger(db.db).attempts(`sh_o_sync_boston_2026-12-01T090000Z_1_1`).map((a) => [a.destination, a.hop, a.outcome, a.bytes]),
      ).toEqual([
        ['sanfran', 'sanfran', 'delivered', bytes.length],
        ['bangalore', 'sanfran', 'delivered', bytes.length],
      ]);
    } finally {
      db.close();
    }
    expect(placed.orderPath).toMatch(/outgoing\/sh_o_sync_boston/);
  });

  it('refuses a route that would come back to a host the order was already at', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const sanfran = home(root, 'sanfran');
    const boston = home(root, 'boston', `${peer(sanfran, 'sanfran')}ROUTE sanfran bangalore\n${sealedTo('bangalore')}`);
    sanfran.conf(`${peer(boston, 'boston')}ROUTE boston bangalore\n`);
    await shipPacket(packetAt(root, 'p1'), ['bangalore'], { homeDir: boston.dir, clock });
    expect((await pass(boston.dir, clock)).failures).toEqual([]);
    const r = await pass(sanfran.dir, clock);
    expect(r.attempts).toHaveLength(1);
    expect(r.attempts[0]!.error).toMatch(/^cyclic delivery route detected to host bangalore \(via boston\) for order sh_o_p1/);
    const waiting = readOrderFile(join(sanfran.bay, 'outgoing', 'sh_o_p1'));
    expect(waiting.destinations[0]).toMatchObject({ host: 'bangalore', state: 'pending', attempts: 1, errorKind: 'permanent' });
    // Nothing went back to boston.
    expect(files(join(boston.bay, 'outgoing'))).toEqual([]);
    expect(files(join(boston.bay, 'incoming'))).toEqual([]);
  });

  it('a hop with no PEER line waits with an error naming the line to add', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const boston = home(root, 'boston');
    await shipPacket(packetAt(root, 'p2'), ['tokyo'], { homeDir: boston.dir, clock });
    const r = await pass(boston.dir, clock);
    expect(r.failures).toHaveLength(1);
    expect(r.attempts[0]!.error).toBe(
      `PEER line for host not found: "tokyo" (add "PEER tokyo URL PUBLIC-KEY" to ${join(boston.dir, 'shipping.conf')})`,
    );
    expect(files(join(boston.bay, 'outgoing'))).toEqual(['p2', 'sh_o_p2']);
  });

  it('a destination that is down waits with its error and next try; a poll once it is due and up delivers', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const sanfran = home(root, 'sanfran');
    const boston = home(root, 'boston', peer(sanfran, 'sanfran'));
    await shipPacket(packetAt(root, 'p3'), ['sanfran'], { homeDir: boston.dir, clock });
    renameSync(sanfran.bay, `${sanfran.bay}.unmounted`);

    const down = await pass(boston.dir, clock);
    expect(down.attempts.map((a) => [a.result, a.transient])).toEqual([['failed', true]]);
    const waiting = readOrderFile(join(boston.bay, 'outgoing', 'sh_o_p3')).destinations[0]!;
    expect(waiting).toMatchObject({ state: 'pending', attempts: 1, errorKind: 'transient', nextTry: START + 60_000, lastHop: 'sanfran' });
    expect(waiting.lastError).toMatch(/cannot deliver to sanfran: its bay .* is not reachable/);

    renameSync(`${sanfran.bay}.unmounted`, sanfran.bay);
    // Not due yet: nothing is tried.
    expect((await pass(boston.dir, clock)).attempts).toEqual([]);
    clock.advance(60_000);
    const up = await pass(boston.dir, clock);
    expect(up.attempts.map((a) => a.result)).toEqual(['delivered']);
    expect(files(join(sanfran.bay, 'incoming'))).toEqual(['p3', 'sh_o_p3']);
    expect(files(join(boston.bay, 'outgoing'))).toEqual([]);
  });

  it('an order past its expiry is not sent: it goes to the return bay and the administrators are told, once returned and once home', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const sanfran = home(root, 'sanfran');
    const argvLog = join(root, 'notify.log');
    const program = join(root, 'notify.sh');
    writeFileSync(program, `#!/bin/sh\n{ for a in "$@"; do printf '[%s]' "$a"; done; echo; cat "$4"; echo; } >> ${argvLog}\n`);
    chmodSync(program, 0o755);
    const boston = home(
      root,
      'boston',
      `${peer(sanfran, 'sanfran')}ADMINISTRATOR ccadmin@boston vobadm\nNOTIFICATION-PROGRAM ${program}\nEXPIRATION 2\n`,
    );
    const placed = await shipPacket(packetAt(root, 'p4'), ['sanfran'], { homeDir: boston.dir, clock, notify: ['dev@boston'] });
    expect(readOrderFile(placed.orderPath).expiresAt).toBe(START + 2 * DAY);

    clock.advance(2 * DAY);
    const r = await pass(boston.dir, clock);
    expect(r.attempts).toEqual([]);
    expect(r.returned).toEqual(['sh_o_p4']);
    const rtn = join(boston.dir, 'shipping', 'ms_rtn', 'incoming');
    expect(r.arrivedHome).toEqual([join(rtn, 'p4')]);
    expect(files(rtn)).toEqual(['p4', 'sh_o_p4']);
    expect(files(join(boston.bay, 'outgoing'))).toEqual([]);
    expect(files(join(sanfran.bay, 'incoming'))).toEqual([]);
    const back = readOrderFile(join(rtn, 'sh_o_p4'));
    expect(back).toMatchObject({
      kind: 'return',
      origin: 'boston',
      returned: { by: 'boston', undelivered: ['sanfran'], expiredAt: START + 2 * DAY },
    });

    const calls = readFileSync(argvLog, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('['));
    expect(calls).toHaveLength(2);
    const tmp = '\\[[^\\]]+\\]';
    expect(calls[0]).toMatch(
      new RegExp(
        `^\\[-s\\]\\[msite: shipping order sh_o_p4 expired; returning it to boston\\]\\[-f\\]${tmp}\\[ccadmin@boston\\]\\[vobadm\\]\\[dev@boston\\]$`,
      ),
    );
    expect(calls[1]).toMatch(
      new RegExp(
        `^\\[-s\\]\\[msite: returned packet p4 is in the return bay of boston\\]\\[-f\\]${tmp}\\[ccadmin@boston\\]\\[vobadm\\]\\[dev@boston\\]$`,
      ),
    );
    expect(readFileSync(argvLog, 'utf8')).toContain('before its packet p4 reached sanfran.');
  });

  it('an order that expires at a relay is shipped back to its origin, which files it in its return bay', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const argvLog = join(root, 'notify.log');
    const program = join(root, 'notify.sh');
    writeFileSync(program, `#!/bin/sh\nprintf '%s|' "$@" >> ${argvLog}; echo >> ${argvLog}\n`);
    chmodSync(program, 0o755);
    const sanfran = home(root, 'sanfran');
    const boston = home(
      root,
      'boston',
      `${peer(sanfran, 'sanfran')}ROUTE sanfran bangalore\nNOTIFICATION-PROGRAM ${program}\n${sealedTo('bangalore')}`,
    );
    sanfran.conf(`${peer(boston, 'boston')}NOTIFICATION-PROGRAM ${program}\nADMINISTRATOR sfadmin\n`);
    await shipPacket(packetAt(root, 'p5'), ['bangalore'], { homeDir: boston.dir, clock, expiresAt: START + DAY });
    expect((await pass(boston.dir, clock)).failures).toEqual([]);
    clock.advance(DAY);
    // At sanfran: expired, so it becomes a return order and goes back to boston at once.
    const relay = await pass(sanfran.dir, clock);
    expect(relay.returned).toEqual(['sh_o_p5']);
    expect(relay.attempts.map((a) => [a.hop, a.destinations, a.result])).toEqual([['boston', ['boston'], 'delivered']]);
    // At boston: it arrived in the incoming bay as a return; the next pass files it in the return bay.
    const home1 = await pass(boston.dir, clock);
    expect(home1.arrivedHome).toEqual([join(boston.dir, 'shipping', 'ms_rtn', 'incoming', 'p5')]);
    expect(files(join(boston.bay, 'incoming'))).toEqual([]);
    const lines = readFileSync(argvLog, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split('|')[1])).toEqual([
      'msite: shipping order sh_o_p5 expired; returning it to boston',
      'msite: returned packet p5 is in the return bay of boston',
    ]);
    expect(lines[0]!.split('|').slice(4, -1)).toEqual(['sfadmin']);
    expect(lines[1]!.split('|').slice(4, -1)).toEqual(['root']);
  });

  it('a bad shipping.conf line: one error naming file and line, and nothing is shipped', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const sanfran = home(root, 'sanfran');
    const boston = home(root, 'boston', peer(sanfran, 'sanfran'));
    await shipPacket(packetAt(root, 'p6'), ['sanfran'], { homeDir: boston.dir, clock });
    boston.conf(`${peer(sanfran, 'sanfran')}# routes\nROUTE sanfran\n`);
    const err = await pass(boston.dir, clock).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MsiteError);
    expect((err as MsiteError).message).toBe(
      `${join(boston.dir, 'shipping.conf')}: line 3: ROUTE needs a next hop and at least one destination host (ROUTE [-class C] NEXT-HOP DESTINATION...)`,
    );
    expect(files(join(sanfran.bay, 'incoming'))).toEqual([]);
    expect(files(join(boston.bay, 'outgoing'))).toEqual(['p6', 'sh_o_p6']);
  });

  it('an order claimed by a live server is left to it; a claim left by a dead process is taken over', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const sanfran = home(root, 'sanfran');
    const boston = home(root, 'boston', peer(sanfran, 'sanfran'));
    const placed = await shipPacket(packetAt(root, 'p7'), ['sanfran'], { homeDir: boston.dir, clock });
    const db = SiteDatabase.open(boston.dir);
    try {
      const insert = db.db.prepare('INSERT INTO order_claim (order_file, claimed_by, pid, host, claimed_at) VALUES (?, ?, ?, ?, ?)');
      insert.run(placed.orderPath, 'other', process.ppid, (await import('node:os')).hostname(), START);
      const busy = await runShippingServer({ homeDir: boston.dir, db: db.db, clock });
      expect(busy.busy).toEqual([placed.orderPath]);
      expect(busy.attempts).toEqual([]);
      db.db.prepare('UPDATE order_claim SET pid = ?').run(2 ** 22 + 12345);
      const taken = await runShippingServer({ homeDir: boston.dir, db: db.db, clock });
      expect(taken.attempts.map((a) => a.result)).toEqual(['delivered']);
      expect(db.db.prepare('SELECT count(*) FROM order_claim').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe('shipping_server limits', () => {
  it('an order stored at as many hosts as the hop limit is not sent on', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const sanfran = home(root, 'sanfran');
    const boston = home(root, 'boston', peer(sanfran, 'sanfran'));
    await shipPacket(packetAt(root, 'p8'), ['sanfran'], { homeDir: boston.dir, clock });
    const r = await pass(boston.dir, clock, { maxHops: 1 });
    expect(r.attempts[0]!.error).toBe(
      'order sh_o_p8 has been stored at 1 hosts, the limit: not sent on to sanfran (correct the ROUTE lines along its way)',
    );
    expect(r.attempts[0]!.errorCode).toBe('STATE');
    expect(files(join(sanfran.bay, 'incoming'))).toEqual([]);
  });

  it('a return that cannot reach its origin before it expires too is given up and removed', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const sanfran = home(root, 'sanfran');
    const boston = home(root, 'boston', `${peer(sanfran, 'sanfran')}ROUTE sanfran bangalore\n${sealedTo('bangalore')}`);
    sanfran.conf('EXPIRATION 1\n');
    await shipPacket(packetAt(root, 'p9'), ['bangalore'], { homeDir: boston.dir, clock, expiresAt: START + DAY });
    await pass(boston.dir, clock);
    clock.advance(DAY);
    // sanfran has no PEER for boston: the return waits...
    const waiting = await pass(sanfran.dir, clock);
    expect(waiting.returned).toEqual(['sh_o_p9']);
    expect(readOrderFile(join(sanfran.bay, 'outgoing', 'sh_o_p9')).kind).toBe('return');
    clock.advance(DAY);
    // ...until it expires in turn.
    const given = await pass(sanfran.dir, clock);
    expect(given.failures).toEqual(['giving up trying to return order sh_o_p9 to host boston (original data file was p9)']);
    expect(files(join(sanfran.bay, 'outgoing'))).toEqual([]);
  });
});

describe('shipping_server and this host', () => {
  it('a destination that is this host lands in its own incoming bay; a ROUTE through this host to another is a cycle', async () => {
    const root = tempDir();
    const clock = new ManualClock(START);
    const boston = home(root, 'boston', 'ROUTE boston tokyo\n');
    await shipPacket(packetAt(root, 'p10'), ['boston'], { homeDir: boston.dir, clock });
    await shipPacket(packetAt(root, 'p11'), ['tokyo'], { homeDir: boston.dir, clock });
    const r = await pass(boston.dir, clock);
    const attempts = [...r.attempts].sort((a, b) => a.order.localeCompare(b.order));
    expect(attempts.map((a) => [a.order, a.hop, a.result])).toEqual([
      ['sh_o_p10', 'boston', 'delivered'],
      ['sh_o_p11', 'boston', 'failed'],
    ]);
    expect(attempts[1]!.error).toMatch(/^cyclic delivery route detected to host tokyo \(via boston\) for order sh_o_p11/);
    expect(files(join(boston.bay, 'incoming'))).toEqual(['p10', 'sh_o_p10']);
    expect(files(join(boston.bay, 'outgoing'))).toEqual(['p11', 'sh_o_p11']);
  });
});
