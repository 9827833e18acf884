import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { parseShippingOrder } from '../../src/shipping/shippingOrder.js';
import type { RunResult } from '../../src/schedule/scheduler.js';
import type { SiteDaemon } from '../../src/site/siteDaemon.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { tempDir } from '../helpers/cli.js';
import { peerUrl, startDaemon, until } from '../helpers/loopbackSites.js';
import { family, typeNames, type Site } from '../helpers/sites.js';
import { seedBlocks } from './fixtures.js';

/**
 * Seed 000 as a whole: three sites, each with `msite serve` on loopback (its scheduler on one fake
 * clock), the seed's five jobs set verbatim with `schedule --set`, receipt handlers on, bangalore
 * reached from boston_hub through a ROUTE via sanfran_hub's host and back the same way. Through
 * simulated days with changes at every site, the predefined tasks 13 and 14 run the real
 * `msite sync_export_list` and `msite sync_receive` with each job's Job.Args, handlers import what
 * arrives, a packet that overtakes the one before it is deferred by the handler, and the next
 * scheduled `sync_receive` applies it: every replica ends with every change.
 */

const bay = (s: Site, dir: 'incoming' | 'outgoing'): string => join(s.home, 'shipping', 'ms_ship', dir);
const files = (dir: string, prefix: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith(prefix)) : []);

/** Processes working for a site home (scheduled tasks, receipt handlers): their command lines name it after --home. */
function busyFor(home: string): number {
  let n = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args.some((a, i) => a === '--home' && args[i + 1] === home)) n++;
  }
  return n;
}

function claimsAt(s: Site): number {
  return SiteHome.locate(s.home, {}, s.home).withDatabase(
    (site) => site.db.prepare('SELECT count(*) FROM order_claim').pluck().get() as number,
  );
}

describe("seed 000's jobs at three sites under msite serve", () => {
  it('a simulated day and night with handlers, a relay and an overtaken packet: every replica converges', async () => {
    const root = tempDir('msite-seed-jobs-');
    const sites = (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
    const [boston, sanfran, bangalore] = sites;
    // Each site is the host its replica names (boston_hub's, made by mkvob, is this machine's name).
    const replicas = await boston.json<{ name: string; host: string }[]>('lsreplica');
    const host = (s: Site): string => replicas.find((r) => r.name === s.name)!.host;
    const shown = new Map<Site, { publicKey: string; recipient: string }>();
    for (const s of sites) {
      await s.run('site', 'init', '--host', host(s), '--listen', '127.0.0.1');
      shown.set(s, await s.json<{ publicKey: string; recipient: string }>('site', 'show'));
      // The administrator turns on the handler `site init` wrote, as its template line suggests.
      const conf = join(s.home, 'shipping.conf');
      writeFileSync(conf, readFileSync(conf, 'utf8').replace('#RECEIPT-HANDLER -default', 'RECEIPT-HANDLER -default'));
    }

    // `schedule --set` stamps the jobs with the real time: the fake clock starts there, and the
    // simulated days are the ones after tomorrow, so the scenario is the same whatever the hour.
    const clock = new ManualClock(Date.now());
    const today = new Date();
    const day0 = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 2);
    const at = (day: number, time: string): string =>
      new Date(day0 + day * 86_400_000 + Date.parse(`1970-01-01T${time}:00Z`)).toISOString();
    const daemons = new Map<Site, SiteDaemon>();
    for (const s of sites) daemons.set(s, await startDaemon(s, 0, { clock, timeZone: 'UTC' }));
    const peer = async (at: Site, to: Site, reachable: boolean): Promise<void> => {
      const url = reachable ? peerUrl(daemons.get(to)!) : 'https://127.0.0.1:1';
      await at.run('site', 'peer', host(to), url, shown.get(to)!.publicKey, shown.get(to)!.recipient);
    };
    await peer(boston, sanfran, true);
    await peer(boston, bangalore, false);
    await peer(sanfran, boston, true);
    await peer(sanfran, bangalore, true);
    await peer(bangalore, sanfran, true);
    await peer(bangalore, boston, false);
    writeFileSync(join(boston.home, 'shipping.conf'), `ROUTE ${host(sanfran)} ${host(bangalore)}\n`, { flag: 'a' });
    writeFileSync(join(bangalore.home, 'shipping.conf'), `ROUTE ${host(sanfran)} ${host(boston)}\n`, { flag: 'a' });

    const jobs = join(root, 'seed-jobs.txt');
    writeFileSync(jobs, seedBlocks().join('\n\n') + '\n');
    for (const s of sites) await s.run('schedule', '--set', jobs);

    const commands = new Set<string>();
    const results: RunResult[] = [];
    /** Nothing running for any site, no order being sent: twice in a row, a moment apart. */
    const settled = async (): Promise<void> => {
      let quiet = 0;
      await until(
        'every task, handler and relayed delivery has ended',
        () => {
          quiet = sites.every((s) => busyFor(s.home) === 0 && claimsAt(s) === 0) ? quiet + 1 : 0;
          return quiet >= 3;
        },
        60_000,
      );
    };
    /** Every job due at `time` at the three sites, run to the end, with what it set off. */
    const runAt = async (time: string): Promise<void> => {
      clock.set(Date.parse(time));
      for (const d of daemons.values()) {
        const tick = d.scheduler.runDue();
        for (const r of tick.runs) {
          commands.add(
            r.command
              .slice(2)
              .filter((w) => !w.startsWith('/'))
              .join(' '),
          );
          void r.done.then((x) => results.push(x));
        }
      }
      for (const d of daemons.values()) await d.scheduler.idle();
      await settled();
    };

    // The starts missed from now until the first simulated night's end run once, with nothing to send yet.
    await runAt(at(0, '04:00'));
    results.length = 0;

    // Day 1: a change at each site; at 21:00 the Store job leaves packets and orders in the bays.
    await boston.run('mklbtype', 'B1');
    await sanfran.run('mklbtype', 'S1');
    await bangalore.run('mklbtype', 'G1');
    await runAt(at(0, '21:00'));
    const stored = files(bay(boston, 'outgoing'), 'sh_o_');
    expect(stored.length).toBeGreaterThan(0);
    // boston's packet for bangalore is held up on its way (its order set aside), and boston changes again.
    const held = join(root, 'held');
    mkdirSync(held);
    const forBangalore = stored.filter((o) =>
      parseShippingOrder(readFileSync(join(bay(boston, 'outgoing'), o), 'utf8')).destinations.some((d) => d.host === host(bangalore)),
    );
    expect(forBangalore.length).toBe(1);
    renameSync(join(bay(boston, 'outgoing'), forBangalore[0]!), join(held, forBangalore[0]!));
    await boston.run('mklbtype', 'B2');

    // Midnight: the Force export overtakes the held packet; bangalore's handler defers what it cannot apply.
    await runAt(at(1, '00:00'));
    expect(await typeNames(bangalore, 'lbtype')).not.toContainEqual(expect.stringMatching(/^B[12]=/));
    const waiting = files(bay(bangalore, 'incoming'), 'sync_boston_hub_');
    expect(waiting.length).toBe(1);
    expect(readFileSync(join(bangalore.home, 'log', 'receipt_handler_log'), 'utf8')).toMatch(
      /sync_boston_hub_.* waits for changes not yet received by VOB/,
    );

    // The held packet arrives at the 02:00 poll; the handler applies it, and only it.
    renameSync(join(held, forBangalore[0]!), join(bay(boston, 'outgoing'), forBangalore[0]!));
    await runAt(at(1, '02:00'));
    const afterLate = (await typeNames(bangalore, 'lbtype')).map((t) => t.split('=')[0]);
    expect(afterLate).toContain('B1');
    expect(afterLate).not.toContain('B2');
    expect(files(bay(bangalore, 'incoming'), 'sync_boston_hub_')).toEqual(waiting);
    await runAt(at(1, '04:00'));

    // Day 2: more changes; the next night's scheduled sync_receive applies what waited.
    await sanfran.run('mklbtype', 'S2');
    await bangalore.run('mkbrtype', 'g2');
    await runAt(at(1, '21:00'));
    for (const time of ['00:00', '02:00', '04:00']) await runAt(at(2, time));

    expect([...commands].sort()).toEqual([
      'sync_export_list --home -quiet 1 -all',
      'sync_export_list --home -quiet 1 -poll',
      'sync_export_list --home -quiet 1 -ship -all',
      'sync_receive --home',
    ]);
    for (const r of results) expect(r, JSON.stringify(r)).toMatchObject({ exitStatus: 0 });
    expect(files(bay(bangalore, 'incoming'), 'sync_')).toEqual([]);
    for (const kind of ['lbtype', 'brtype']) {
      const names = await typeNames(boston, kind);
      for (const s of [sanfran, bangalore]) expect(await typeNames(s, kind), `${kind} at ${s.name}`).toEqual(names);
    }
    expect((await typeNames(boston, 'lbtype')).map((t) => t.split('=')[0])).toEqual(expect.arrayContaining(['B1', 'B2', 'S1', 'S2', 'G1']));
    expect((await typeNames(boston, 'brtype')).map((t) => t.split('=')[0])).toContain('g2');
    for (const d of daemons.values())
      for (const id of [15, 17, 18, 19, 20]) expect(d.store.getJob(id).lastCompletion, `job ${id}`).toMatchObject({ exitStatus: 0 });
  }, 240_000);
});
