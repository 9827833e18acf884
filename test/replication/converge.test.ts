import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { family, typeNames, type Site } from '../helpers/sites.js';

describe('the converge name policy', () => {
  const root = tempDir();
  let boston: Site;
  let sanfran: Site;
  let bangalore: Site;

  beforeAll(() => {
    [boston, sanfran, bangalore] = family(root, ['boston_hub', 'sanfran_hub', 'bangalore'], { policy: 'converge' }) as [Site, Site, Site];
  });

  it('every replica ends with the same names, with no administrator step', () => {
    sanfran.run('mklbtype', 'V2.0'); // created first: keeps the name everywhere
    boston.run('mklbtype', 'V2.0');
    const sanfranOid = sanfran.json<{ oid: string }>('describe', 'lbtype:V2.0').oid;
    const bostonOid = boston.json<{ oid: string }>('describe', 'lbtype:V2.0').oid;
    // bangalore hears from boston first, then sanfran; boston and sanfran hear of each other.
    bangalore.run('syncreplica', '--import', ...boston.exportTo('bangalore'));
    const r = bangalore.run('syncreplica', '--import', ...sanfran.exportTo('bangalore'));
    expect(r.stderr).toContain('generated name "boston_hub_V2.0" for lbtype "V2.0" created at replica "boston_hub"');
    boston.run('syncreplica', '--import', ...sanfran.exportTo('boston_hub'));
    sanfran.run('syncreplica', '--import', ...boston.exportTo('sanfran_hub'));
    const expected = [`V2.0=${sanfranOid}`, `boston_hub_V2.0=${bostonOid}`].sort();
    for (const s of [boston, sanfran, bangalore]) expect(typeNames(s, 'lbtype'), s.name).toEqual(expected);
  });
});
