import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../src/shipping/sha256File.js';
import { parseShippingOrder } from '../../src/shipping/shippingOrder.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { BIN, json, msite, ok, tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';
import { ensureSiteAgeIdentity } from '../../src/shipping/siteAgeIdentity.js';
import { setSiteHost, SOME_PEER_KEY } from '../helpers/siteSettings.js';

const KEY = SOME_PEER_KEY;

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}
const bay = (homeDir: string, sub: string): string => join(homeDir, 'shipping', 'ms_ship', sub);
const order = (path: string) => parseShippingOrder(readFileSync(path, 'utf8'));

/** Gives each site home the host name its replica has (`<name>-host`) and its bay directory. */
function named(sites: readonly Site[]): void {
  for (const s of sites) {
    setSiteHost(s.home, `${s.name}-host`);
    mkdirSync(join(s.home, 'shipping', 'ms_ship'), { recursive: true });
  }
}
const peerLine = (s: Site): string => `PEER ${s.name}-host ${pathToFileURL(join(s.home, 'shipping', 'ms_ship')).href} ${KEY}\n`;

/** A home "boston" whose shipping.conf reaches "sanfran"'s bay as a directory. */
function bostonShipsToSanfran(): { root: string; home: string; dest: string } {
  const root = tempDir();
  const home = join(root, 'boston');
  const dest = join(root, 'sanfran');
  mkdirSync(join(dest, 'shipping', 'ms_ship'), { recursive: true });
  mkdirSync(home, { recursive: true });
  setSiteHost(home, 'boston');
  writeFileSync(join(home, 'shipping.conf'), `PEER sanfran ${pathToFileURL(join(dest, 'shipping', 'ms_ship')).href} ${KEY}\n`);
  return { root, home, dest };
}

describe('msite mkorder', () => {
  it('--out writes just the order; --ship moves the packet into the outgoing bay (--copy copies it); --fship delivers it now', async () => {
    const { root, home, dest } = bostonShipsToSanfran();
    const data = join(root, 'pkt');
    const bytes = randomBytes(10_000);
    writeFileSync(data, bytes);

    await ok(['mkorder', '--data', data, '--out', join(root, 'an-order'), '--pexpire', '2099-01-01T00:00:00Z', 'sanfran', 'tokyo'], {
      home,
    });
    const written = order(join(root, 'an-order'));
    expect(written).toMatchObject({ format: 1, kind: 'delivery', packet: 'pkt', size: 10_000, origin: 'boston', class: '-default' });
    expect(written.destinations.map((d) => [d.host, d.state])).toEqual([
      ['sanfran', 'pending'],
      ['tokyo', 'pending'],
    ]);
    expect(written.expiresAt).toBe(Date.UTC(2099, 0, 1));
    expect(files(bay(home, 'outgoing'))).toEqual([]);

    await ok(['mkorder', '-data', data, '-ship', '-copy', '-notify', 'ops@boston', 'sanfran'], { home });
    expect(existsSync(data)).toBe(true);
    expect(files(bay(home, 'outgoing'))).toEqual(['pkt', 'sh_o_pkt']);
    expect(order(join(bay(home, 'outgoing'), 'sh_o_pkt')).notify).toEqual(['ops@boston']);

    // The name is taken in the bay: the moved packet gets the next free one.
    await ok(['mkorder', '--data', data, '--ship', 'sanfran'], { home });
    expect(existsSync(data)).toBe(false);
    expect(files(bay(home, 'outgoing'))).toEqual(['pkt', 'pkt_1', 'sh_o_pkt', 'sh_o_pkt_1']);

    writeFileSync(data, bytes);
    const r = await json<{ shipping: { attempts: { result: string }[] } }>(['mkorder', '--data', data, '--fship', 'sanfran'], { home });
    expect(r.shipping.attempts.map((a) => a.result)).toEqual(['delivered']);
    // --fship runs one pass for its own order only; the two --ship orders wait for a poll.
    expect(files(bay(home, 'outgoing'))).toEqual(['pkt', 'pkt_1', 'sh_o_pkt', 'sh_o_pkt_1']);
    expect(files(bay(dest, 'incoming'))).toEqual(['pkt_2', 'sh_o_pkt_2']);

    const poll = await ok(['shipping_server', '-poll', '-v'], { home });
    expect(poll.stderr).toMatch(/order sh_o_pkt destination sanfran hop sanfran bytes 10000 seconds \S+ delivered/);
    expect(files(bay(home, 'outgoing'))).toEqual([]);
    expect(files(bay(dest, 'incoming'))).toHaveLength(6);
  });

  it('refuses what it cannot do, changing nothing', async () => {
    const root = tempDir();
    const home = join(root, 'boston');
    const data = join(root, 'pkt');
    writeFileSync(data, 'x');
    const both = await msite(['mkorder', '--data', data, '--ship', '--out', join(root, 'o'), 'sanfran'], { home });
    expect(both.status).toBe(2);
    expect(both.stderr).toBe('msite: error: give exactly one of --ship, --fship and --out ORDER\n');
    const badHost = await msite(['mkorder', '--data', data, '--ship', 'san fran'], { home });
    expect(badHost.stderr).toBe('msite: error: "san fran" is not a host name\n');
    expect(existsSync(data)).toBe(true);
    expect(files(bay(home, 'outgoing'))).toEqual([]);
    const neither = await msite(['shipping_server'], { home });
    expect(neither.stderr).toBe('msite: error: give --poll or ORDER files (one or the other)\n');
  });
});

describe('syncreplica and mkreplica --export --ship|--fship', () => {
  it('--ship writes packet and order into the outgoing bay, a packet and an order per MAX-DATA-SIZE fragment; --fship delivers and --receive there applies them', async () => {
    const root = tempDir();
    const sites = await family(root, ['boston_hub', 'sanfran_hub']);
    const [boston, sanfran] = sites as [Site, Site];
    named(sites);
    // MAX-DATA-SIZE is the export's fragment size when --maxsize is not given.
    writeFileSync(join(boston.home, 'shipping.conf'), `${peerLine(sanfran)}MAX-DATA-SIZE 1k\n`);
    for (let i = 0; i < 4; i++) await boston.run('mklbtype', '-c', 'x'.repeat(600), `REL${i}`);

    const shipped = await boston.json<{ packets: string[]; orders: string[] }>('syncreplica', '--export', '--ship', 'sanfran_hub');
    expect(shipped.packets.length).toBeGreaterThanOrEqual(4);
    expect(files(bay(boston.home, 'outgoing'))).toEqual(
      [...shipped.packets.map((p) => p.split('/').pop()!), ...shipped.orders.map((o) => o.split('/').pop()!)].sort(),
    );
    for (const o of shipped.orders) {
      expect(order(o)).toMatchObject({ origin: 'boston_hub-host', destinations: [{ host: 'sanfran_hub-host', state: 'pending' }] });
    }
    // Nothing moves until a shipping server runs.
    expect(files(bay(sanfran.home, 'incoming'))).toEqual([]);
    await boston.run('shipping_server', '--poll');
    expect(files(bay(boston.home, 'outgoing'))).toEqual([]);
    expect(files(bay(sanfran.home, 'incoming'))).toHaveLength(shipped.packets.length * 2);
    await sanfran.run('syncreplica', '--import', '--receive');
    expect(files(bay(sanfran.home, 'incoming'))).toEqual([]);
    expect((await sanfran.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).toEqual(
      expect.arrayContaining(['REL0', 'REL3']),
    );

    await boston.run('mklbtype', 'REL4');
    const now = await boston.json<{ shipping: { attempts: { result: string }[] } }>('syncreplica', '--export', '--fship', 'sanfran_hub');
    expect(now.shipping.attempts.map((a) => a.result)).toEqual(['delivered']);
    expect(files(bay(boston.home, 'outgoing'))).toEqual([]);
    await sanfran.run('syncreplica', '--import', '--receive');
    expect((await sanfran.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).toContain('REL4');
  });

  it('three sites: --fship at boston reaches sanfran directly and bangalore through sanfran; --receive applies them at each', async () => {
    const root = tempDir();
    const sites = await family(root, ['boston_hub', 'sanfran_hub', 'bangalore']);
    const [boston, sanfran, bangalore] = sites as [Site, Site, Site];
    named(sites);
    // A packet for bangalore goes through a relay, so it is sealed for its destinations: their recipients.
    const sealed = async (s: Site): Promise<string> => `${peerLine(s).trimEnd()} ${(await ensureSiteAgeIdentity(s.home)).recipient}\n`;
    writeFileSync(
      join(boston.home, 'shipping.conf'),
      `${await sealed(sanfran)}${await sealed(bangalore)}ROUTE sanfran_hub-host bangalore-host\n`,
    );
    writeFileSync(join(sanfran.home, 'shipping.conf'), peerLine(bangalore));
    await boston.run('mklbtype', 'SHIPPED');
    const r = await boston.json<{ packets: string[]; shipping: { attempts: { hop: string; destinations: string[]; result: string }[] } }>(
      'syncreplica',
      '--export',
      '--fship',
      'sanfran_hub',
      'bangalore',
    );
    expect(r.shipping.attempts.map((a) => [a.hop, a.destinations, a.result])).toEqual([
      ['sanfran_hub-host', ['sanfran_hub-host', 'bangalore-host'], 'delivered'],
    ]);
    const name = r.packets[0]!.split('/').pop()!;
    const sent = readFileSync(join(bay(sanfran.home, 'incoming'), name));
    expect(files(bay(sanfran.home, 'outgoing'))).toEqual([name, `sh_o_${name}`].sort());
    // The relay forwards on its own next pass.
    await sanfran.run('shipping_server', '--poll');
    expect(files(bay(sanfran.home, 'outgoing'))).toEqual([]);
    expect(readFileSync(join(bay(bangalore.home, 'incoming'), name)).equals(sent)).toBe(true);
    expect(order(join(bay(bangalore.home, 'incoming'), `sh_o_${name}`)).hops.map((h) => h.host)).toEqual([
      'boston_hub-host',
      'sanfran_hub-host',
      'bangalore-host',
    ]);
    for (const s of [sanfran, bangalore]) {
      await s.run('syncreplica', '--import', '--receive');
      expect(files(bay(s.home, 'incoming'))).toEqual([]);
      expect((await s.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).toContain('SHIPPED');
    }
  });

  it('mkreplica --export --fship delivers the creation packet to the new replica host', async () => {
    const root = tempDir();
    const [boston] = (await family(root, ['boston_hub'])) as [Site];
    named([boston]);
    const tokyoHome = join(root, 'tokyo');
    mkdirSync(join(tokyoHome, 'shipping', 'ms_ship'), { recursive: true });
    writeFileSync(
      join(boston.home, 'shipping.conf'),
      `PEER tokyo-host ${pathToFileURL(join(tokyoHome, 'shipping', 'ms_ship')).href} ${KEY}\n`,
    );
    const r = await boston.json<{ packets: string[]; shipping: { attempts: { result: string }[] } }>(
      'mkreplica',
      '--export',
      '--fship',
      'tokyo-host:tokyo',
    );
    expect(r.shipping.attempts.map((a) => a.result)).toEqual(['delivered']);
    const [creation] = files(bay(tokyoHome, 'incoming')).filter((n) => n.startsWith('repl_'));
    expect(creation).toBeDefined();
    await ok(['mkreplica', '--import', '--tag', '/vobs/dev', join(root, 'tokyo.vob'), join(bay(tokyoHome, 'incoming'), creation!)], {
      home: tokyoHome,
    });
  });

  it('--out and --ship together are refused; so is --ship with a bad shipping.conf, before anything is exported', async () => {
    const root = tempDir();
    const [boston] = (await family(root, ['boston_hub'])) as [Site];
    const r = await boston.try('syncreplica', '--export', '--ship', '--out', root, 'boston_hub');
    expect(r.stderr).toBe('msite: error: --export needs exactly one of --out FILE|DIR, --ship and --fship\n');
    // A bad shipping.conf stops --ship before anything is exported.
    writeFileSync(join(boston.home, 'shipping.conf'), 'MAX-DATA-SIZE lots\n');
    await boston.run('mklbtype', 'UNSENT');
    const bad = await boston.try('syncreplica', '--export', '--ship', 'boston_hub');
    expect(bad.stderr).toMatch(/^msite: error: \S+shipping\.conf: line 1: MAX-DATA-SIZE must be a size like 500k, 20m or 2g/);
    expect(files(bay(boston.home, 'outgoing'))).toEqual([]);
  });
});

describe('two shipping servers polling one bay at once', () => {
  it('deliver each order once', async () => {
    const { root, home, dest } = bostonShipsToSanfran();
    const N = 24;
    for (let i = 0; i < N; i++) {
      const data = join(root, `pkt${String(i).padStart(2, '0')}`);
      writeFileSync(data, randomBytes(512 * 1024));
      await ok(['mkorder', '--data', data, '--ship', 'sanfran'], { home });
    }
    const server = (): Promise<{ status: number | null; stderr: string; stdout: string }> =>
      new Promise((resolveRun) => {
        const env = { ...process.env, MSITE_HOME: home };
        const child = spawn(process.execPath, [BIN, 'shipping_server', '--poll', '--json'], { env });
        let stderr = '';
        let stdout = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.on('close', (status) => resolveRun({ status, stderr, stdout }));
      });
    const runs = await Promise.all([server(), server()]);
    expect(runs.map((r) => r.stderr)).toEqual(['', '']);
    expect(runs.map((r) => r.status)).toEqual([0, 0]);
    // Between them, one attempt per order: what one server claimed the other left alone.
    const attempted = runs.flatMap((r) => (JSON.parse(r.stdout) as { attempts: { order: string }[] }).attempts.map((a) => a.order));
    expect(attempted.sort()).toEqual(Array.from({ length: N }, (_, i) => `sh_o_pkt${String(i).padStart(2, '0')}`));
    const landed = files(bay(dest, 'incoming')).filter((n) => !n.startsWith('sh_o_'));
    // Each packet once: a second delivery would have landed as pktNN_1.
    expect(landed).toEqual(Array.from({ length: N }, (_, i) => `pkt${String(i).padStart(2, '0')}`));
    expect(files(bay(home, 'outgoing'))).toEqual([]);
    const db = SiteDatabase.open(home);
    try {
      expect(db.db.prepare("SELECT count(*) FROM order_attempt WHERE outcome = 'delivered'").pluck().get()).toBe(N);
      expect(db.db.prepare('SELECT count(DISTINCT order_name) FROM order_attempt').pluck().get()).toBe(N);
    } finally {
      db.close();
    }
  });

  it('a bad shipping.conf line stops the poll with one error naming file and line; nothing is shipped', async () => {
    const root = tempDir();
    const home = join(root, 'boston');
    mkdirSync(home, { recursive: true });
    const data = join(root, 'pkt');
    writeFileSync(data, 'x');
    await ok(['mkorder', '--data', data, '--ship', 'sanfran'], { home });
    writeFileSync(join(home, 'shipping.conf'), 'EXPIRATION 3\nROUTE\n');
    const r = await msite(['shipping_server', '--poll'], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `msite: error: ${join(home, 'shipping.conf')}: line 2: ROUTE needs a next hop and at least one destination host (ROUTE [-class C] NEXT-HOP DESTINATION...) (correct the line in ${join(home, 'shipping.conf')})\n`,
    );
    expect(files(bay(home, 'outgoing'))).toEqual(['pkt', 'sh_o_pkt']);
  });
});

describe('a shipping server killed in the middle of a delivery', () => {
  it('leaves a claim and a partial copy that the next poll takes over, sending only the missing bytes', async () => {
    const { root, home, dest } = bostonShipsToSanfran();
    const data = join(root, 'big');
    const size = 256 * 1024 * 1024;
    const chunk = randomBytes(1024 * 1024);
    writeFileSync(data, Buffer.concat(Array.from({ length: 256 }, (_, i) => (i % 2 ? chunk : chunk.reverse()))));
    const sha = await sha256File(data);
    await ok(['mkorder', '--data', data, '--ship', 'sanfran'], { home });

    const child = spawn(process.execPath, [BIN, 'shipping_server', '--poll'], { env: { ...process.env, MSITE_HOME: home } });
    const exited = new Promise((r) => child.on('close', r));
    const incoming = bay(dest, 'incoming');
    const partialSize = (): number => {
      const name = files(incoming).find((n) => n.endsWith('.partial'));
      return name ? statSync(join(incoming, name)).size : 0;
    };
    const deadline = Date.now() + 20_000;
    while (partialSize() < 16 * 1024 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    const held = partialSize();
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(size);
    expect(files(incoming).filter((n) => !n.startsWith('.'))).toEqual([]);

    const r = await json<{ attempts: { bytes: number; result: string }[] }>(['shipping_server', '--poll'], { home });
    expect(r.attempts.map((a) => a.result)).toEqual(['delivered']);
    expect(r.attempts[0]!.bytes).toBeLessThanOrEqual(size - held);
    expect(r.attempts[0]!.bytes).toBeGreaterThan(0);
    expect(files(incoming)).toEqual(['big', 'sh_o_big']);
    expect(statSync(join(incoming, 'big')).size).toBe(size);
    expect(await sha256File(join(incoming, 'big'))).toBe(sha);
    expect(files(bay(home, 'outgoing'))).toEqual([]);
  });
});
