import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { SiteDaemon } from '../../src/site/siteDaemon.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { tempDir } from '../helpers/cli.js';
import { family, typeNames, type Site } from '../helpers/sites.js';

/**
 * Seed 000's automated synchronization between three sites with their daemons on loopback: boston_hub
 * reaches sanfran_hub directly and bangalore through a ROUTE via sanfran's host; sanfran and bangalore
 * import through the receipt handler `msite site init` wrote. One `sync_export_list -quiet 1 -all` at
 * boston is the only command.
 */

const daemons: SiteDaemon[] = [];
afterAll(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

const packetsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('sync_')) : []);

async function until(what: string, done: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What a replica holds that a person would compare: its label types and branch types, and a file's text. */
async function holdings(s: Site): Promise<string> {
  const r = await s.try('cat', 'src/f');
  return JSON.stringify([await typeNames(s, 'lbtype'), await typeNames(s, 'brtype'), r.status === 0 ? r.stdout : null]);
}

describe('automated synchronization on loopback', () => {
  it('one sync_export_list -quiet 1 -all at boston: the receipt handlers bring all three replicas to the same objects', async () => {
    const root = tempDir('msite-sync-');
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
    // What goes to bangalore through the relay is sealed for it: boston needs its recipient.
    await boston.run('site', 'peer', 'sanfran_hub-host', url(sf), keys.get(sanfran)!, recipients.get(sanfran)!);
    await boston.run('site', 'peer', 'bangalore-host', 'https://127.0.0.1:1', keys.get(bangalore)!, recipients.get(bangalore)!);
    appendFileSync(join(boston.home, 'shipping.conf'), 'ROUTE sanfran_hub-host bangalore-host\n');
    await sanfran.run('site', 'peer', 'boston_hub-host', 'https://127.0.0.1:1', keys.get(boston)!);
    await sanfran.run('site', 'peer', 'bangalore-host', url(bg), keys.get(bangalore)!);
    await bangalore.run('site', 'peer', 'sanfran_hub-host', 'https://127.0.0.1:1', keys.get(sanfran)!);
    // The handler site init wrote, named by the template's commented line: uncommenting it is the set-up.
    for (const s of [sanfran, bangalore]) {
      const conf = join(s.home, 'shipping.conf');
      const handler = join(s.home, 'bin', 'sync_receive_handler');
      expect(readFileSync(conf, 'utf8')).toContain(`#RECEIPT-HANDLER -default ${handler}\n`);
      writeFileSync(
        conf,
        readFileSync(conf, 'utf8').replace(`#RECEIPT-HANDLER -default ${handler}`, `RECEIPT-HANDLER -default ${handler}`),
      );
    }

    writeFileSync(join(root, 'v1'), 'version 1\n');
    await boston.run('mklbtype', 'SYNCED');
    await boston.run('mkbrtype', 'dev');
    await boston.run('mkdir', '--auto', 'src');
    await boston.run('mkelem', '--auto', '--from', join(root, 'v1'), 'src/f');
    const want = await holdings(boston);

    const began = Date.now();
    const r = await boston.try('sync_export_list', '-quiet', '1', '-all');
    expect(r).toMatchObject({ status: 0, stderr: '' });
    await until('sanfran and bangalore hold what boston holds', async () =>
      (await Promise.all([sanfran, bangalore].map(holdings))).every((h) => h === want),
    );
    const seconds = (Date.now() - began) / 1000;
    expect(seconds).toBeLessThan(20);
    // Everything was applied and cleared away: no packet waits in any bay, and no run log was kept.
    for (const s of [boston, sanfran, bangalore]) {
      for (const bay of ['incoming', 'outgoing']) {
        await until(`${s.name}'s ${bay} bay is empty`, () => packetsIn(join(s.home, 'shipping', 'ms_ship', bay)).length === 0);
      }
    }
    expect(readdirSync(join(boston.home, 'log', 'sync_logs'))).toEqual([]);
    expect(readFileSync(join(bangalore.home, 'log', 'receipt_handler_log'), 'utf8')).toMatch(
      /Applied .*sync_boston_hub_.* to VOB \/vobs\/dev/,
    );

    // Nothing new: a second run sends nothing and says nothing.
    const again = await boston.try('sync_export_list', '-quiet', '1', '-all', '--json');
    expect(again.status).toBe(0);
    expect((JSON.parse(again.stdout) as { exports: { result: string }[] }).exports.map((e) => e.result)).toEqual([
      'up-to-date',
      'up-to-date',
    ]);
  });
});
