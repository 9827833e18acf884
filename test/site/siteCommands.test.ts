import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { peerKeyText } from '../../src/shipping/peerKey.js';
import { parseShippingConf, DIRECTIVES } from '../../src/shipping/shippingConf.js';
import type { SiteDescription } from '../../src/site/describeSite.js';
import { json, msite, ok, tempDir } from '../helpers/cli.js';

const root = tempDir('msite-site-');

type Shown = SiteDescription;

describe('msite site', () => {
  it('init makes the identity, shipping.conf, bays and logs; show prints them; init again changes only what it is asked', async () => {
    const home = join(root, 'boston');
    const made = await json<Shown>(['site', 'init', '--host', 'boston_hub', '--port', '7101', '--admin-port', '7102'], { home });
    expect(made).toEqual({
      home,
      host: 'boston_hub',
      port: 7101,
      adminPort: 7102,
      url: 'https://boston_hub:7101',
      adminUrl: 'http://127.0.0.1:7102',
      publicKey: expect.stringMatching(/^ed25519:[A-Za-z0-9_-]{43}$/),
      recipient: expect.stringMatching(/^age1[02-9ac-hj-np-z]{58}$/),
    });
    expect(await json<Shown>(['site', 'show'], { home })).toEqual(made);
    for (const dir of ['shipping/ms_ship/incoming', 'shipping/ms_ship/outgoing', 'shipping/ms_rtn', 'log/sync_logs']) {
      expect(statSync(join(home, dir)).isDirectory()).toBe(true);
    }
    expect(statSync(join(home, 'site.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'site-age.key')).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(join(home, 'site.crt')));
    expect(cert.subject).toBe('CN=boston_hub');
    expect(peerKeyText(cert.publicKey)).toBe(made.publicKey);

    // The template: every directive, the default bays active, the rest commented out; it parses.
    const conf = readFileSync(join(home, 'shipping.conf'), 'utf8');
    for (const d of DIRECTIVES) expect(conf).toContain(`# ${d} `);
    expect(conf).toMatch(/^STORAGE-BAY shipping\/ms_ship$/m);
    expect(conf).toMatch(/^RETURN-BAY shipping\/ms_rtn$/m);
    const parsed = parseShippingConf(conf, { file: join(home, 'shipping.conf') });
    expect(parsed.classes.get('-default')?.storageBays).toEqual([join(home, 'shipping', 'ms_ship')]);

    // Again: the key stays (peers pin it), an edited shipping.conf stays, settings not given stay.
    writeFileSync(join(home, 'shipping.conf'), `${conf}EXPIRATION 3\n`);
    const key = readFileSync(join(home, 'site.key'), 'utf8');
    const ageKey = readFileSync(join(home, 'site-age.key'), 'utf8');
    const again = await json<Shown>(['site', 'init', '--port', '7201'], { home });
    expect(again).toEqual({ ...made, port: 7201, url: 'https://boston_hub:7201' });
    expect(readFileSync(join(home, 'site.key'), 'utf8')).toBe(key);
    expect(readFileSync(join(home, 'site-age.key'), 'utf8')).toBe(ageKey);
    expect(readFileSync(join(home, 'shipping.conf'), 'utf8')).toBe(`${conf}EXPIRATION 3\n`);
    // A new host name gets a new certificate for the same key.
    const renamed = await json<Shown>(['site', 'init', '--host', 'boston2'], { home });
    expect(renamed.publicKey).toBe(made.publicKey);
    expect(new X509Certificate(readFileSync(join(home, 'site.crt'))).subject).toBe('CN=boston2');

    const text = (await ok(['site', 'show'], { home })).stdout;
    expect(text).toBe(
      `Site boston2 (home ${home})\n  url:        https://boston2:7201\n  admin url:  http://127.0.0.1:7102\n  public key: ${made.publicKey}\n  recipient:  ${made.recipient}\n`,
    );
  });

  it('init refuses a bad host name or port and changes nothing; show says when there is no identity', async () => {
    const home = join(root, 'bad');
    const badHost = await msite(['site', 'init', '--host', 'no way'], { home });
    expect(badHost.status).toBe(1);
    expect(badHost.stderr).toMatch(/^msite: error: bad host name "no way": /);
    expect(existsSync(home)).toBe(false);
    const badPort = await msite(['site', 'init', '--port', '70000'], { home });
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toMatch(/^msite: error: bad --port "70000": give a whole number from 1 to 65535/);
    const show = await msite(['site', 'show'], { home });
    expect(show.status).toBe(1);
    expect(show.stderr).toBe(`msite: error: ${home} has no site identity yet (run msite site init --home ${home})\n`);
  });

  it('peer adds or replaces one PEER line, keeping every other byte; a bad key changes nothing', async () => {
    const home = join(root, 'sanfran');
    await ok(['site', 'init', '--host', 'sanfran_hub'], { home });
    const file = join(home, 'shipping.conf');
    const before = readFileSync(file, 'utf8');
    const key1 = `ed25519:${Buffer.alloc(32, 1).toString('base64url')}`;
    const key2 = `ed25519:${Buffer.alloc(32, 2).toString('base64url')}`;
    const key3 = `ed25519:${Buffer.alloc(32, 3).toString('base64url')}`;
    expect((await ok(['site', 'peer', 'boston_hub', 'https://boston:7071', key1], { home })).stdout).toBe(
      `Added PEER boston_hub in ${file}\n`,
    );
    await ok(['site', 'peer', 'bangalore', 'https://bangalore:7071', key2, 'age1bangalore'], { home });
    expect(readFileSync(file, 'utf8')).toBe(
      `${before}PEER boston_hub https://boston:7071 ${key1}\nPEER bangalore https://bangalore:7071 ${key2} age1bangalore\n`,
    );
    expect((await ok(['site', 'peer', 'boston_hub', 'https://boston.example:7171', key3], { home })).stdout).toBe(
      `Replaced PEER boston_hub in ${file}\n`,
    );
    const after = `${before}PEER boston_hub https://boston.example:7171 ${key3}\nPEER bangalore https://bangalore:7071 ${key2} age1bangalore\n`;
    expect(readFileSync(file, 'utf8')).toBe(after);
    const bad = await msite(['site', 'peer', 'tokyo', 'https://tokyo:7071', 'not-a-key'], { home });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^msite: error: .*shipping\.conf: line \d+: PEER tokyo: the public key must be ed25519: /);
    expect(readFileSync(file, 'utf8')).toBe(after);
  });
});
