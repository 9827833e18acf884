import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, typeNames, type Site } from '../helpers/sites.js';
import { snapshot, vobContent } from '../helpers/snapshot.js';

describe('syncreplica between three sites', () => {
  const top = tempDir();
  /** A family of three of this test's own, in `root`. */
  const sites = async (root: string) => (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
  const caseDir = () => mkdtempSync(join(top, 'case-'));

  it("every replica knows the family, and its own epoch row starts at the creator's", async () => {
    const root = caseDir();
    const [, , bangalore] = await sites(root);
    const names = (await bangalore.json<{ name: string; self: boolean }[]>('lsreplica')).map((r) => `${r.name}${r.self ? '*' : ''}`);
    expect(names).toEqual(['boston_hub', 'sanfran_hub', 'bangalore*']);
    const epochs = await bangalore.json<Record<string, Record<string, number>>>('lsepoch');
    expect(epochs.bangalore).toEqual(epochs.boston_hub);
  });

  it('seed 002, Figure 3: the second V2.0 to reach bangalore is renamed, with the warning', async () => {
    const root = caseDir();
    const [boston, sanfran, bangalore] = await sites(root);
    await boston.run('mklbtype', 'V2.0');
    await sanfran.run('mklbtype', 'V2.0');
    const fromBoston = await boston.exportTo('bangalore');
    const fromSanfran = await sanfran.exportTo('bangalore');
    await bangalore.run('syncreplica', '--import', ...fromBoston);
    const r = await bangalore.run('syncreplica', '--import', ...fromSanfran);
    expect(r.stderr).toMatch(
      /^msite: warning: To avoid name conflict, generated name "sanfran_hub_V2.0" for lbtype "V2.0" created at replica "sanfran_hub"/m,
    );
    const bostonOid = (await boston.json<{ oid: string }>('describe', 'lbtype:V2.0')).oid;
    const sanfranOid = (await sanfran.json<{ oid: string }>('describe', 'lbtype:V2.0')).oid;
    expect(await typeNames(bangalore, 'lbtype')).toEqual([`V2.0=${bostonOid}`, `sanfran_hub_V2.0=${sanfranOid}`].sort());
    expect(await bangalore.json('lsconflict')).toEqual([
      expect.objectContaining({
        kind: 'lbtype',
        oid: sanfranOid,
        originalName: 'V2.0',
        localName: 'sanfran_hub_V2.0',
        creator: 'sanfran_hub',
      }),
    ]);

    // The administrators' remedy: each master renames its own, all sync, one renames back.
    await boston.run('rename', 'lbtype:V2.0', 'V2.0_boston_hub');
    await sanfran.run('rename', 'lbtype:V2.0', 'V2.0_sanfran_hub');
    await syncAll([boston, sanfran, bangalore]);
    await boston.run('rename', 'lbtype:V2.0_boston_hub', 'V2.0');
    await syncAll([boston, sanfran, bangalore]);
    const expected = [`V2.0=${bostonOid}`, `V2.0_sanfran_hub=${sanfranOid}`].sort();
    for (const s of [boston, sanfran, bangalore]) expect(await typeNames(s, 'lbtype'), s.name).toEqual(expected);
  });

  it('hub routing: ops made at sanfran_hub reach bangalore through boston_hub alone', async () => {
    const root = caseDir();
    const [boston, sanfran, bangalore] = await sites(root);
    await sanfran.run('mklbtype', 'FROM_SANFRAN');
    await boston.run('syncreplica', '--import', ...(await sanfran.exportTo('boston_hub')));
    await bangalore.run('syncreplica', '--import', ...(await boston.exportTo('bangalore')));
    expect(await bangalore.json<{ name: string; master: string }[]>('lstype', '--kind', 'lbtype')).toContainEqual(
      expect.objectContaining({ name: 'FROM_SANFRAN', master: 'sanfran_hub' }),
    );
  });

  it('out of order: the later packet waits, naming what it lacks, then both apply from one directory', async () => {
    const root = caseDir();
    const [boston, , bangalore] = await sites(root);
    await boston.run('mklbtype', 'FIRST');
    const [p1] = await boston.exportTo('bangalore');
    await boston.run('mklbtype', 'SECOND');
    const [p2] = await boston.exportTo('bangalore');
    const inbox = join(root, 'inbox-order');
    mkdirSync(inbox);
    copyFileSync(p2!, join(inbox, basename(p2!)));
    const vobDir = join(root, 'bangalore.vob');
    const before = vobContent(vobDir);
    const r = await bangalore.try('syncreplica', '--import', join(inbox, basename(p2!)));
    expect(r.status).toBe(1);
    const ranges = (
      await bangalore.json<{ ranges: Record<string, [number, number]>; requires: Record<string, number> }[]>('lspacket', p2!)
    )[0]!;
    const need = ranges.requires.boston_hub!;
    expect(r.stdout).toContain(
      `packet depends on changes not yet received: requires ops up to ${need} from boston_hub; this replica has ${need - 1}`,
    );
    expect(vobContent(vobDir)).toEqual(before);
    copyFileSync(p1!, join(inbox, basename(p1!)));
    const both = await bangalore.json<{ result: string }[]>('syncreplica', '--import', inbox);
    expect(both.map((o) => o.result).sort()).toEqual(['applied', 'applied']);
    expect((await bangalore.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name)).toEqual(
      expect.arrayContaining(['FIRST', 'SECOND']),
    );
  });

  it('re-import of an applied packet is a no-op that says so', async () => {
    const root = caseDir();
    const [boston, , bangalore] = await sites(root);
    await boston.run('mklbtype', 'AGAIN');
    const [p] = await boston.exportTo('bangalore');
    await bangalore.run('syncreplica', '--import', p!);
    const vobDir = join(root, 'bangalore.vob');
    const before = snapshot(vobDir);
    const r = await bangalore.run('syncreplica', '--import', p!);
    expect(r.stdout).toContain('already applied; nothing to do');
    expect(snapshot(vobDir)).toEqual(before);
  });

  it('chmaster of a branch: after sync bangalore checks in on it and boston_hub cannot', async () => {
    const root = caseDir();
    const [boston, , bangalore] = await sites(root);
    await boston.run('mkdir', '--auto', 'src');
    await boston.run('mkelem', '--auto', '--from', file(root, 'f1', 'one\n'), 'src/f');
    await boston.run('mkbrtype', 'dev');
    await boston.run('mkbranch', 'dev', 'src/f');
    await boston.run('chmaster', 'bangalore', 'src/f@@/main/dev');
    await bangalore.run('syncreplica', '--import', ...(await boston.exportTo('bangalore')));
    await bangalore.run('checkout', 'src/f@@/main/dev');
    await bangalore.run('checkin', '--from', file(root, 'f2', 'two\n'), 'src/f');
    expect((await bangalore.try('cat', 'src/f@@/main/dev/1')).stdout).toBe('two\n');
    const r = await boston.try('checkout', 'src/f@@/main/dev');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /Unable to perform operation "checkout" in replica "boston_hub" of VOB "\/vobs\/dev": Master replica of branch "src\/f@@\/main\/dev" is "bangalore"/,
    );
    await boston.run('syncreplica', '--import', ...(await bangalore.exportTo('boston_hub')));
    expect((await boston.try('cat', 'src/f@@/main/dev/1')).stdout).toBe('two\n');
  });
});

function file(root: string, name: string, text: string): string {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
}

/** Every site exports to every other, then every site imports all it received, twice (for forwarding). */
export async function syncAll(sites: readonly Site[]): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const inbox = new Map<string, string[]>(sites.map((s) => [s.name, []]));
    for (const s of sites) {
      for (const t of sites) if (t !== s) inbox.get(t.name)!.push(...(await s.exportTo(t.name)));
    }
    for (const s of sites) if (inbox.get(s.name)!.length) await s.run('syncreplica', '--import', ...inbox.get(s.name)!);
  }
}
