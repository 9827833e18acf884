import { fileURLToPath } from 'node:url';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/core/errors.js';
import { ScheduleStore } from '../../src/schedule/scheduleStore.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { SITE_SCHEMA_VERSION } from '../../src/site/siteSchema.js';
import { json, msite, ok, startBinary, tempDir } from '../helpers/cli.js';

/**
 * A site home written by the version before the site database (test/fixtures/site-home-v1, see its
 * README) migrates on first use, once, with nothing lost.
 */

const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/site-home-v1');
const PLACEHOLDER = '/FIXTURE_HOME';

const expected = (name: string): string => readFileSync(join(FIXTURE, 'expected', name), 'utf8');

/** A copy of the fixture home whose vobs.json names the copy's VOBs. */
function copyFixture(prefix: string): string {
  const home = join(tempDir(prefix), 'home');
  cpSync(join(FIXTURE, 'home'), home, { recursive: true });
  const registry = join(home, 'vobs.json');
  writeFileSync(registry, readFileSync(registry, 'utf8').replaceAll(PLACEHOLDER, home));
  return home;
}

describe('a site home of the previous version', () => {
  it('migrates on first use: every tag, every job and its state, byte-identical schedule --get', async () => {
    const home = copyFixture('msite-legacy-');
    const legacySchedule = JSON.parse(readFileSync(join(home, 'schedule', 'schedule.json'), 'utf8')) as {
      state: Record<string, unknown>;
      nextJobId: number;
    };

    expect(await json(['lsvob'], { home })).toEqual(JSON.parse(expected('lsvob.json').replaceAll(PLACEHOLDER, home)));
    expect((await ok(['schedule', '--get'], { home })).stdout).toBe(expected('schedule-get.txt'));
    expect((await ok(['schedule', '--get', '--tasks'], { home })).stdout).toBe(expected('schedule-get-tasks.txt'));
    expect((await ok(['schedule', '--get', '--acl'], { home })).stdout).toBe(expected('schedule-get-acl.txt'));
    // The VOBs open by tag.
    expect((await ok(['lsreplica', '--vob', '/vobs/dev_sf'], { home })).stdout).toContain('sanfran_hub (this replica)');

    // The old files are renamed aside, the stale lock is gone.
    expect(existsSync(join(home, 'vobs.json'))).toBe(false);
    expect(existsSync(join(home, 'vobs.json.migrated'))).toBe(true);
    expect(existsSync(join(home, 'schedule', 'schedule.json'))).toBe(false);
    expect(existsSync(join(home, 'schedule', 'schedule.json.migrated'))).toBe(true);
    expect(existsSync(join(home, 'schedule', 'schedule.lock'))).toBe(false);

    // The run state came across field for field; new jobs go on from the old next id.
    const site = SiteDatabase.open(home);
    try {
      const store = ScheduleStore.open(site.db);
      expect(Object.fromEntries([...store.getRunStates()].map(([id, s]) => [String(id), s]))).toEqual(legacySchedule.state);
      const set = store.set(
        `${expected('schedule-get.txt')}\nJob.Begin\nJob.Name: "New"\nJob.Schedule.Daily.Frequency: 1\nJob.Schedule.FirstStartTime: 01:00:00\nJob.Task: 14\nJob.End\n`,
      );
      expect(set.at(-1)!.id).toBe(legacySchedule.nextJobId);
    } finally {
      site.close();
    }
  });

  it('is migrated exactly once when several commands use it first at the same time', async () => {
    const home = copyFixture('msite-legacy-race-');
    const outcomes = await Promise.all([
      ...Array.from({ length: 4 }, () => startBinary(['lsvob', '--json'], home)),
      startBinary(['schedule', '--get'], home),
      startBinary(['mkvob', '--tag', '/vobs/new', join(dirname(home), 'new.vob')], home),
    ]);
    for (const o of outcomes) expect(o, o.stderr).toMatchObject({ status: 0, stderr: '' });
    const listings = outcomes.slice(0, 4).map((o) => (JSON.parse(o.stdout) as { tag: string }[]).map((r) => r.tag));
    for (const tags of listings) expect(tags.slice(0, 2)).toEqual(['/vobs/dev', '/vobs/dev_sf']);
    expect(outcomes[4]!.stdout).toBe(expected('schedule-get.txt'));
    expect((await json<{ tag: string }[]>(['lsvob'], { home })).map((r) => r.tag)).toEqual(['/vobs/dev', '/vobs/dev_sf', '/vobs/new']);
    const db = new BetterSqlite3(join(home, 'site.db'), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SITE_SCHEMA_VERSION);
      expect(db.prepare('SELECT count(*) FROM vob').pluck().get()).toBe(3);
    } finally {
      db.close();
    }
  });

  it('a malformed old file stops the migration with one error line and changes nothing', async () => {
    const home = copyFixture('msite-legacy-bad-');
    writeFileSync(join(home, 'vobs.json'), '[{"tag": "/vobs/dev"}]');
    const r = await msite(['lsvob'], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`msite: error: cannot migrate the VOB registry ${join(home, 'vobs.json')}: it is malformed (repair the file)\n`);
    expect(readFileSync(join(home, 'vobs.json'), 'utf8')).toBe('[{"tag": "/vobs/dev"}]');
    expect(existsSync(join(home, 'schedule', 'schedule.json'))).toBe(true);
    expect(existsSync(join(home, 'schedule', 'schedule.lock'))).toBe(true);
    const db = new BetterSqlite3(join(home, 'site.db'), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe('the site database', () => {
  it('refuses a database written by a newer msite, and changes nothing', async () => {
    const home = join(tempDir('msite-sitedb-'), 'home');
    SiteDatabase.open(home).close();
    const raw = new BetterSqlite3(join(home, 'site.db'));
    raw.pragma(`user_version = ${SITE_SCHEMA_VERSION + 1}`);
    raw.close();

    expect(() => SiteDatabase.open(home)).toThrow(StorageError);
    const r = await msite(['lsvob'], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `msite: error: cannot open the site database ${join(home, 'site.db')}: its schema version ${SITE_SCHEMA_VERSION + 1} is newer than this msite supports (${SITE_SCHEMA_VERSION}) (upgrade msite)\n`,
    );
    const after = new BetterSqlite3(join(home, 'site.db'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SITE_SCHEMA_VERSION + 1);
    after.close();
  });
});
