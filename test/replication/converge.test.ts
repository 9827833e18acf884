import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, typeNames, type Site } from '../helpers/sites.js';

describe('the converge name policy', () => {
  const root = tempDir();
  let boston: Site;
  let sanfran: Site;
  let bangalore: Site;

  beforeAll(async () => {
    [boston, sanfran, bangalore] = (await family(root, ['boston_hub', 'sanfran_hub', 'bangalore'], { policy: 'converge' })) as [
      Site,
      Site,
      Site,
    ];
  });

  it('every replica ends with the same names, with no administrator step', async () => {
    await sanfran.run('mklbtype', 'V2.0'); // created first: keeps the name everywhere
    await boston.run('mklbtype', 'V2.0');
    const sanfranOid = (await sanfran.json<{ oid: string }>('describe', 'lbtype:V2.0')).oid;
    const bostonOid = (await boston.json<{ oid: string }>('describe', 'lbtype:V2.0')).oid;
    // bangalore hears from boston first, then sanfran; boston and sanfran hear of each other.
    await bangalore.run('syncreplica', '--import', ...(await boston.exportTo('bangalore')));
    const r = await bangalore.run('syncreplica', '--import', ...(await sanfran.exportTo('bangalore')));
    expect(r.stderr).toContain('generated name "boston_hub_V2.0" for lbtype "V2.0" created at replica "boston_hub"');
    await boston.run('syncreplica', '--import', ...(await sanfran.exportTo('boston_hub')));
    await sanfran.run('syncreplica', '--import', ...(await boston.exportTo('sanfran_hub')));
    const expected = [`V2.0=${sanfranOid}`, `boston_hub_V2.0=${bostonOid}`].sort();
    for (const s of [boston, sanfran, bangalore]) expect(await typeNames(s, 'lbtype'), s.name).toEqual(expected);
  });
});
