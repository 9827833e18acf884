import { unlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

type Matrix = Record<string, Record<string, number>>;
const lbtypes = async (s: Site) => (await s.json<{ name: string }[]>('lstype', '--kind', 'lbtype')).map((t) => t.name).sort();

describe('lsepoch rows and the documented repair after lost packets', () => {
  it('every row lists every replica of the family, zeros included, in text and --json', async () => {
    const [boston] = (await family(tempDir(), ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
    const matrix = await boston.json<Matrix>('lsepoch');
    for (const row of Object.values(matrix)) expect(Object.keys(row).sort()).toEqual(['bangalore', 'boston_hub', 'sanfran_hub']);
    expect(matrix.boston_hub!.bangalore).toBe(0);
    const text = (await boston.run('lsepoch', 'boston_hub')).stdout;
    expect(text).toMatch(/ oid:[0-9a-f-]+=0 \(bangalore\)/);
    expect(text).toMatch(/ oid:[0-9a-f-]+=0 \(sanfran_hub\)/);
  });

  it("after chepoch --force with the row copied from the sibling's lsepoch, every exchange imports", async () => {
    const [boston, sanfran, bangalore] = (await family(tempDir(), ['boston_hub', 'sanfran_hub', 'bangalore'])) as [Site, Site, Site];
    // bangalore's first packets to boston are lost: boston has never applied anything from bangalore.
    await bangalore.run('mklbtype', 'LOST');
    for (const p of await bangalore.exportTo('boston_hub')) unlinkSync(p);
    await bangalore.run('mklbtype', 'AFTER');
    const waiting = await bangalore.exportTo('boston_hub');
    expect((await boston.try('syncreplica', '--import', ...waiting)).stdout).toContain('packet depends on changes not yet received');

    // The administrator's repair: boston's actual row, copied into bangalore's estimate of it.
    const row = (await boston.json<Matrix>('lsepoch', 'boston_hub')).boston_hub!;
    await bangalore.run('chepoch', '--force', 'boston_hub', ...Object.entries(row).map(([o, id]) => `${o}=${id}`));

    await boston.run('syncreplica', '--import', ...(await bangalore.exportTo('boston_hub')));
    expect(await lbtypes(boston)).toEqual(['AFTER', 'LOST']);
    await boston.run('mklbtype', 'FROM_BOSTON');
    for (const s of [sanfran, bangalore]) await s.run('syncreplica', '--import', ...(await boston.exportTo(s.name)));
    await boston.run('syncreplica', '--import', ...(await sanfran.exportTo('boston_hub')));
    await bangalore.run('syncreplica', '--import', ...(await sanfran.exportTo('bangalore')));
    for (const s of [boston, sanfran, bangalore]) expect(await lbtypes(s)).toEqual(['AFTER', 'FROM_BOSTON', 'LOST']);
  });
});
