import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { typeNames, type Site } from '../helpers/sites.js';
import { relayedFamily, until } from '../helpers/loopbackSites.js';

/**
 * Seed 000's automated synchronization between three sites with their daemons on loopback: boston_hub
 * reaches sanfran_hub directly and bangalore through a ROUTE via sanfran's host; sanfran and bangalore
 * import through the receipt handler `msite site init` wrote. One `sync_export_list -quiet 1 -all` at
 * boston is the only command.
 */

const packetsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('sync_')) : []);

/** What a replica holds that a person would compare: its label types and branch types, and a file's text. */
async function holdings(s: Site): Promise<string> {
  const r = await s.try('cat', 'src/f');
  return JSON.stringify([await typeNames(s, 'lbtype'), await typeNames(s, 'brtype'), r.status === 0 ? r.stdout : null]);
}

describe('automated synchronization on loopback', () => {
  it('one sync_export_list -quiet 1 -all at boston: the receipt handlers bring all three replicas to the same objects', async () => {
    const root = tempDir('msite-sync-');
    const { boston, sanfran, bangalore } = await relayedFamily(root);
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
    // The handler says what it applied when its run ends, a moment after the import commits.
    await until("bangalore's handler has said what it applied", () =>
      /Applied .*sync_boston_hub_.* to VOB \/vobs\/dev/.test(readFileSync(join(bangalore.home, 'log', 'receipt_handler_log'), 'utf8')),
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
