import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { newOid, type ReplicaOid } from '../../src/core/ids.js';
import { chmaster } from '../../src/vob/commands/chmaster.js';
import { lock } from '../../src/vob/commands/types.js';
import { applyLocal } from '../../src/vob/ops/applyOp.js';
import { Vob } from '../../src/vob/vob.js';
import { msite, ok, tempDir } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

describe('mastership', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const vobDir = join(dir, 'm.vob');
  const run = (...args: string[]) => ok(args, { home });

  beforeAll(async () => {
    await run('mkvob', '--tag', 'm', vobDir);
    await run('mkdir', '--auto', 'src');
    await run('mkelem', '--auto', 'src/f');
    await run('mkelem', '--auto', 'src/g');
    await run('mklbtype', 'UNS', 'UNS2', 'LK');
    await run('mklbtype', '--shared', 'SH');
    await run('mkbrtype', 'dev');
    await run('mkattype', 'AT');
    await run('mkhltype', 'HL');
    await run('mklabel', 'UNS2', 'src/g');
    // Another replica takes over objects, as chmaster would hand them over (set up through the library API).
    const vob = Vob.open(vobDir);
    try {
      const sanfran = newOid() as unknown as ReplicaOid;
      applyLocal(vob, 'mkreplica', { replica: sanfran, name: 'sanfran_hub', host: 'sf' });
      lock(vob, ['lbtype:LK']);
      chmaster(vob, 'sanfran_hub', [
        'lbtype:UNS',
        'lbtype:UNS2',
        'lbtype:LK',
        'brtype:dev',
        'attype:AT',
        'hltype:HL',
        'src/f@@/main',
        'replica:sanfran_hub',
      ]);
    } finally {
      vob.close();
    }
  });

  const refusal = (operation: string, object: string) =>
    `msite: error: Unable to perform operation "${operation}" in replica "original" of VOB "m": ` +
    `Master replica of ${object} is "sanfran_hub" (ask the master replica to do it, or to hand over mastership with chmaster)\n`;

  const guarded: [string[], string, string][] = [
    [['rename', 'lbtype:UNS', 'X'], 'rename', 'lbtype "UNS"'],
    [['lock', 'lbtype:UNS'], 'lock', 'lbtype "UNS"'],
    [['unlock', 'lbtype:LK'], 'unlock', 'lbtype "LK"'],
    [['rmtype', 'lbtype:UNS'], 'rmtype', 'lbtype "UNS"'],
    [['mklabel', 'UNS', 'src/g'], 'mklabel', 'lbtype "UNS"'],
    [['rmlabel', 'UNS2', 'src/g'], 'rmlabel', 'lbtype "UNS2"'],
    [['mklabel', 'SH', 'src/f'], 'mklabel', 'branch "src/f@@/main"'],
    [['checkout', 'src/f'], 'checkout', 'branch "src/f@@/main"'],
    [['checkout', '--unreserved', 'src/f'], 'checkout', 'branch "src/f@@/main"'],
    [['mkbranch', 'dev', 'src/g'], 'mkbranch', 'brtype "dev"'],
    [['mkattr', 'AT', '"x"', 'src/g'], 'mkattr', 'attype "AT"'],
    [['mkhlink', 'HL', 'src/g@@', 'src/f@@'], 'mkhlink', 'hltype "HL"'],
    [['chmaster', 'original', 'lbtype:UNS'], 'chmaster', 'lbtype "UNS"'],
    [['chmaster', '--default', 'src/f@@/main'], 'chmaster', 'branch "src/f@@/main"'],
    [['rename', 'replica:sanfran_hub', 'sf2'], 'rename', 'replica "sanfran_hub"'],
  ];

  it.each(guarded)('refuses %j and changes nothing', async (args, operation, object) => {
    const before = snapshot(vobDir);
    const r = await msite(args, { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(refusal(operation, object));
    expect(snapshot(vobDir)).toEqual(before);
  });

  it('allows an unreserved non-mastered checkout, refuses its checkin, and allows the uncheckout', async () => {
    await run('checkout', '--unreserved', '--nmaster', 'src/f');
    const before = snapshot(vobDir);
    const r = await msite(['checkin', 'src/f'], { home });
    expect(r.stderr).toBe(refusal('checkin', 'branch "src/f@@/main"'));
    expect(snapshot(vobDir)).toEqual(before);
    await run('uncheckout', 'src/f');
  });

  it('still allows what this replica masters', async () => {
    await run('mklabel', 'SH', 'src/g');
    await run('checkout', 'src/g');
    await run('checkin', 'src/g');
    expect((await ok(['describe', '--json', 'src/f@@/main'], { home })).stdout).toContain('"master": "sanfran_hub"');
  });
});
