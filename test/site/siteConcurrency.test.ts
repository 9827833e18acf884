import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiteHome } from '../../src/site/siteHome.js';
import { json, ok, startBinary, tempDir } from '../helpers/cli.js';
import { fixture } from '../schedule/fixtures.js';

/**
 * Commands that change one site home at the same time, as real processes (the built CLI): the site
 * database must keep every change and leave no storage behind that no tag names.
 */

interface Listed {
  tag: string;
  path: string;
  replica: string | null;
  state?: string;
}

const SEED = fixture('seed-jobs.txt');
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('one site home, many commands at once', () => {
  it('6 mkvob, 6 mkreplica --import and a schedule --set at once: every tag, the whole schedule, no orphaned storage', async () => {
    const root = tempDir('msite-site-race-');
    const home = join(root, 'home');
    const vobs = join(root, 'vobs');
    const packets = join(root, 'packets');
    mkdirSync(packets);
    await ok(['mkvob', '--tag', '/vobs/src', '--replica', 'hub', join(vobs, 'src.vob')], { home });
    const specs = range(6).map((i) => `host${i}:spoke${i}`);
    const exported = await json<{ packets: string[] }>(['mkreplica', '--export', '--vob', '/vobs/src', '--out', packets, ...specs], {
      home,
    });
    expect(exported.packets).toHaveLength(6);
    const seedFile = join(root, 'seed-jobs.txt');
    writeFileSync(seedFile, SEED);

    const runs = [
      ...range(6).map((i) => startBinary(['mkvob', '--tag', `/vobs/new${i}`, join(vobs, `new${i}.vob`)], home)),
      ...range(6).map((i) =>
        startBinary(['mkreplica', '--import', '--tag', `/vobs/spoke${i}`, join(vobs, `spoke${i}.vob`), exported.packets[i - 1]!], home),
      ),
      startBinary(['schedule', '--set', seedFile], home),
    ];
    const outcomes = await Promise.all(runs);
    for (const o of outcomes) expect(o, o.stderr).toMatchObject({ status: 0, stderr: '' });

    const listed = await json<Listed[]>(['lsvob'], { home });
    const tags = ['/vobs/src', ...range(6).map((i) => `/vobs/new${i}`), ...range(6).map((i) => `/vobs/spoke${i}`)];
    expect(listed.map((l) => l.tag).sort()).toEqual(tags.sort());
    expect(listed.every((l) => l.replica !== null && l.state === undefined)).toBe(true);
    // Every storage directory made is registered, and only those.
    expect(
      readdirSync(vobs)
        .map((d) => join(vobs, d))
        .sort(),
    ).toEqual(listed.map((l) => l.path).sort());

    const got = (await ok(['schedule', '--get'], { home })).stdout;
    expect(got.replace(/^# Job\.Task: .*\n/gm, '')).toBe(SEED);
  }, 180_000);

  it('6 mkvob of one tag at once: one wins, the others exit 1 and leave no storage', async () => {
    const root = tempDir('msite-site-race-');
    const home = join(root, 'home');
    const dirs = range(6).map((i) => join(root, `dev${i}.vob`));
    const outcomes = await Promise.all(dirs.map((dir) => startBinary(['mkvob', '--tag', '/vobs/dev', dir], home)));

    const winners = outcomes.flatMap((o, i) => (o.status === 0 ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const o of outcomes.filter((x) => x.status !== 0)) {
      expect(o.status).toBe(1);
      expect(o.stderr).toMatch(/^msite: error: VOB tag already exists: "\/vobs\/dev" \([^\n]*\)\n$/);
    }
    expect(dirs.filter((d) => existsSync(d))).toEqual([dirs[winners[0]!]]);
    const listed = await json<Listed[]>(['lsvob'], { home });
    expect(listed).toMatchObject([{ tag: '/vobs/dev', path: dirs[winners[0]!], replica: 'original' }]);
  }, 120_000);

  it('lists a VOB being created as such, refuses to use it, and takes over the claim of a process that died', async () => {
    const root = tempDir('msite-site-claim-');
    const home = join(root, 'home');
    const site = SiteHome.locate(home, {}, root);
    site.claimTag('/vobs/half', join(root, 'half.vob'));

    expect(await json<Listed[]>(['lsvob'], { home })).toEqual([
      { tag: '/vobs/half', path: join(root, 'half.vob'), family: null, replica: null, state: 'creating' },
    ]);
    expect((await ok(['lsvob'], { home })).stdout).toMatch(/^\/vobs\/half +\S+half\.vob +\(being created\) *\n$/);
    expect(() => site.resolveVob('/vobs/half', root)).toThrow('VOB "/vobs/half" is being created');
    expect(site.registry()).toEqual([]);
    // Another live process holds it.
    const taken = await startBinary(['mkvob', '--tag', '/vobs/half', join(root, 'other.vob')], home);
    expect(taken.status).toBe(1);
    expect(existsSync(join(root, 'other.vob'))).toBe(false);

    // Its creator died: the next mkvob of the tag takes the claim over.
    site.withDatabase((db) => db.db.prepare('UPDATE vob SET claimed_by = ? WHERE tag = ?').run(2 ** 22 + 4321, '/vobs/half'));
    await ok(['mkvob', '--tag', '/vobs/half', join(root, 'other.vob')], { home });
    expect(site.registry()).toMatchObject([{ tag: '/vobs/half', path: join(root, 'other.vob'), state: 'ready' }]);
  }, 60_000);
});
