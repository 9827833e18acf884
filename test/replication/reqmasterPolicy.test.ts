import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grantMastership } from '../../src/replication/grantMastership.js';
import { replicaByName } from '../../src/vob/queries.js';
import { Vob } from '../../src/vob/vob.js';
import { tempDir } from '../helpers/cli.js';
import { family, type Site } from '../helpers/sites.js';

describe("reqmaster's policy at the master replica", () => {
  it('is off by default with an empty ACL; bad input changes nothing', async () => {
    const root = tempDir();
    const [boston] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    expect(await boston.json('reqmaster', '--acl', '--get')).toEqual([]);
    writeFileSync(join(root, 'acl'), 'bangalore\n*\n');
    expect(await boston.json('reqmaster', '--acl', '--set', join(root, 'acl'))).toEqual(['bangalore', '*']);
    writeFileSync(join(root, 'bad'), 'bangalore\nnowhere\n');
    expect((await boston.try('reqmaster', '--acl', '--set', join(root, 'bad'))).stderr).toMatch(/replica not found: "nowhere"/);
    expect(await boston.json('reqmaster', '--acl', '--get')).toEqual(['bangalore', '*']);

    await boston.run('mklbtype', 'REL');
    expect((await boston.try('reqmaster', '--deny', 'lbtype:REL')).stderr).toMatch(/take branch types and branches/);
    expect((await boston.try('reqmaster', '--enable', '--deny', 'brtype:main')).status).toBe(2);
    expect((await boston.try('reqmaster', '--acl')).stderr).toMatch(/--acl needs one of --get and --set FILE/);
    expect((await boston.run('reqmaster', '--deny', 'brtype:main')).stdout).toBe('Requests for mastership of brtype "main" denied.\n');
    expect((await boston.try('reqmaster', 'brtype:main')).stderr).toMatch(/this replica already masters brtype "main"/);
  });

  it('is granted only to a request from the host of the requesting replica', async () => {
    const root = tempDir();
    const [boston] = (await family(root, ['boston_hub', 'bangalore'])) as [Site, Site];
    await boston.run('reqmaster', '--enable');
    writeFileSync(join(root, 'acl'), '*\n');
    await boston.run('reqmaster', '--acl', '--set', join(root, 'acl'));
    await boston.run('mkbrtype', 'dev');
    const vob = Vob.open(join(root, 'boston_hub.vob'));
    try {
      const bangalore = replicaByName(vob, 'bangalore')!.oid;
      const dev = vob.q("SELECT oid FROM type WHERE kind = 'brtype' AND name = 'dev'").pluck().get() as string;
      expect(() => grantMastership(vob, bangalore, [dev], { peerHost: 'sanfran_hub-host' })).toThrow(
        'Request for mastership denied: the request came from host "sanfran_hub-host", and replica "bangalore" is at host "bangalore-host"',
      );
      expect(grantMastership(vob, bangalore, [dev], { peerHost: 'bangalore-host', checkOnly: true }).objects).toEqual(['brtype "dev"']);
      expect(vob.q('SELECT master FROM type WHERE oid = ?').pluck().get(dev)).toBe(vob.self);
      grantMastership(vob, bangalore, [dev], { peerHost: 'bangalore-host' });
      expect(vob.q('SELECT master FROM type WHERE oid = ?').pluck().get(dev)).toBe(bangalore);
    } finally {
      vob.close();
    }
  });
});
