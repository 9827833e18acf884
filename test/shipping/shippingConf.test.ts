import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  administrators,
  DEFAULT_CLASS,
  expirationDays,
  loadShippingConf,
  MAX_DATA_SIZE_LIMIT,
  maxDataSize,
  nextHop,
  notificationProgram,
  parseShippingConf,
  receiptHandler,
  returnBays,
  ShippingConfError,
  storageBays,
} from '../../src/shipping/shippingConf.js';

const KEY = `ed25519:${Buffer.alloc(32, 7).toString('base64url')}`;

const FULL = `# shipping.conf for boston_hub
MAX-DATA-SIZE 500m
ADMINISTRATOR ccadmin@boston.example ops@boston.example
NOTIFICATION-PROGRAM /usr/local/bin/notify   # MultiSite's notify
STORAGE-BAY /var/ms/ms_ship
STORAGE-BAY -class big /srv/big_ship
STORAGE-BAY -class big -class nightly "/srv/nightly ship"
RETURN-BAY /var/ms/ms_rtn
EXPIRATION 14
EXPIRATION -class big 3
RECEIPT-HANDLER -default /usr/atria/config/scheduler/tasks/sync_receive
ROUTE sydney_fw sanfran_hub tokyo
ROUTE -class big bigpipe sanfran_hub
CLEARCASE_MIN_PORT 49152
CLEARCASE_MAX_PORT 49200
PEER sanfran_hub http://sanfran.example:7071 ${KEY}
peer tokyo https://tokyo.example/msite#site ${KEY} age1tokyo
`;

describe('shipping.conf', () => {
  it('reads every directive, with classes falling back to the default class', () => {
    const conf = parseShippingConf(FULL, { baseDir: '/etc/msite' });
    expect([...conf.classes.keys()]).toEqual([DEFAULT_CLASS, 'big', 'nightly']);
    expect(administrators(conf)).toEqual(['ccadmin@boston.example', 'ops@boston.example']);
    expect(administrators(conf, 'big')).toEqual(['ccadmin@boston.example', 'ops@boston.example']);
    expect(notificationProgram(conf)).toBe('/usr/local/bin/notify');
    expect(storageBays(conf)).toEqual(['/var/ms/ms_ship']);
    expect(storageBays(conf, 'big')).toEqual(['/srv/big_ship', '/srv/nightly ship']);
    expect(storageBays(conf, 'nightly')).toEqual(['/srv/nightly ship']);
    expect(storageBays(conf, 'unknown')).toEqual(['/var/ms/ms_ship']);
    expect(returnBays(conf, 'big')).toEqual(['/var/ms/ms_rtn']);
    expect(expirationDays(conf)).toBe(14);
    expect(expirationDays(conf, 'big')).toBe(3);
    expect(expirationDays(conf, 'nightly')).toBe(14);
    expect(receiptHandler(conf)).toBe('/usr/atria/config/scheduler/tasks/sync_receive');
    expect(maxDataSize(conf)).toBe(500 * 1024 * 1024);
    expect(nextHop(conf, 'tokyo')).toBe('sydney_fw');
    expect(nextHop(conf, 'sanfran_hub')).toBe('sydney_fw');
    expect(nextHop(conf, 'sanfran_hub', 'big')).toBe('bigpipe');
    expect(nextHop(conf, 'tokyo', 'big')).toBe('sydney_fw');
    expect(nextHop(conf, 'bangalore')).toBe('bangalore');
    expect([conf.minPort, conf.maxPort]).toEqual([49152, 49200]);
    expect(conf.peers.get('sanfran_hub')).toEqual({ host: 'sanfran_hub', url: 'http://sanfran.example:7071', publicKey: KEY, line: 16 });
    expect(conf.peers.get('tokyo')).toMatchObject({ url: 'https://tokyo.example/msite#site', recipient: 'age1tokyo' });
  });

  it('has MultiSite defaults for an empty file, and resolves relative paths against its directory', () => {
    const conf = parseShippingConf('# nothing\n\n');
    expect(administrators(conf)).toEqual(['root']);
    expect(notificationProgram(conf)).toBeUndefined();
    expect(expirationDays(conf)).toBe(14);
    expect(maxDataSize(conf)).toBe(MAX_DATA_SIZE_LIMIT);
    expect(storageBays(conf)).toEqual([]);
    expect(maxDataSize(parseShippingConf('MAX-DATA-SIZE 0'))).toBe(MAX_DATA_SIZE_LIMIT);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msite-conf-'));
    try {
      const file = path.join(dir, 'shipping.conf');
      expect(administrators(loadShippingConf(file))).toEqual(['root']);
      fs.writeFileSync(file, 'STORAGE-BAY shipping/ms_ship\nNOTIFICATION-PROGRAM ./notify.sh\n');
      const conf2 = loadShippingConf(file);
      expect(storageBays(conf2)).toEqual([path.join(dir, 'shipping/ms_ship')]);
      expect(notificationProgram(conf2)).toBe(path.join(dir, 'notify.sh'));
      fs.writeFileSync(file, 'STORAGE-BAY\n');
      expect(() => loadShippingConf(file)).toThrow(`${file}: line 1: STORAGE-BAY needs a directory (STORAGE-BAY [-class C] DIRECTORY)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const bad: ReadonlyArray<readonly [string, string, string]> = [
    [
      'unknown directive',
      'ADMIN root',
      'line 1: unknown directive "ADMIN" (known: ADMINISTRATOR, STORAGE-BAY, RETURN-BAY, EXPIRATION, NOTIFICATION-PROGRAM, RECEIPT-HANDLER, ROUTE, MAX-DATA-SIZE, CLEARCASE_MIN_PORT, CLEARCASE_MAX_PORT, PEER)',
    ],
    [
      'administrator without address',
      '# c\nADMINISTRATOR',
      'line 2: ADMINISTRATOR needs at least one address (ADMINISTRATOR [-class C] ADDRESS...)',
    ],
    [
      'two bays on one line',
      'STORAGE-BAY /a /b',
      'line 1: STORAGE-BAY takes one directory, got 2 words (STORAGE-BAY [-class C] DIRECTORY)',
    ],
    ['-class without a name', 'STORAGE-BAY -class', 'line 1: -class needs a class name (STORAGE-BAY [-class C] DIRECTORY)'],
    ['bad class name', 'EXPIRATION -class b@d 3', 'line 1: bad class name "b@d": letters, digits, ".", "_" and "-", not starting with "-"'],
    ['expiration not a number', 'EXPIRATION two-weeks', 'line 1: EXPIRATION must be a whole number of days from 1, got "two-weeks"'],
    ['expiration zero', 'EXPIRATION 0', 'line 1: EXPIRATION must be a whole number of days from 1, got "0"'],
    ['expiration twice', 'EXPIRATION 3\n\nEXPIRATION 4', 'line 3: EXPIRATION given twice (first at line 1)'],
    [
      'expiration twice for a class',
      'EXPIRATION -class big 3\nEXPIRATION -class big 4',
      'line 2: EXPIRATION given twice for class big (first at line 1)',
    ],
    ['size with a bad unit', 'MAX-DATA-SIZE 20x', 'line 1: MAX-DATA-SIZE must be a size like 500k, 20m or 2g, at most 2097151k, got "20x"'],
    ['size above the maximum', 'MAX-DATA-SIZE 3g', 'line 1: MAX-DATA-SIZE must be a size like 500k, 20m or 2g, at most 2097151k, got "3g"'],
    [
      'route without destination',
      'ROUTE hub',
      'line 1: ROUTE needs a next hop and at least one destination host (ROUTE [-class C] NEXT-HOP DESTINATION...)',
    ],
    ['route to itself', 'ROUTE hub a hub', 'line 1: ROUTE: next hop hub is also one of its destinations (a route to itself)'],
    ['host routed twice', 'ROUTE hub a b\nROUTE hub2 b', 'line 2: ROUTE: host b already has a route (line 1)'],
    ['port out of range', 'CLEARCASE_MIN_PORT 70000', 'line 1: CLEARCASE_MIN_PORT must be a port number from 1 to 65535, got "70000"'],
    [
      'port range reversed',
      'CLEARCASE_MIN_PORT 5000\nCLEARCASE_MAX_PORT 4000',
      'line 2: CLEARCASE_MAX_PORT 4000 is below CLEARCASE_MIN_PORT 5000',
    ],
    ['class on a host-wide directive', 'CLEARCASE_MIN_PORT -class big 5000', 'line 1: CLEARCASE_MIN_PORT is host-wide and takes no -class'],
    [
      'peer without key',
      'PEER tokyo http://tokyo:7071',
      'line 1: PEER needs a host, a URL and a public key (PEER HOST URL PUBLIC-KEY [RECIPIENT])',
    ],
    [
      'peer with a bad URL',
      `PEER tokyo ftp://tokyo ${KEY}`,
      'line 1: PEER tokyo: "ftp://tokyo" is not an http://, https:// or file:// URL',
    ],
    [
      'peer with a bad key',
      'PEER tokyo http://tokyo:7071 not-a-key!',
      'line 1: PEER tokyo: the public key must be ed25519: and 32 bytes in base64url, as msite site show prints it',
    ],
    [
      'peer with a bad recipient',
      `PEER tokyo http://tokyo:7071 ${KEY} AGE-SECRET-KEY-1XYZ`,
      'line 1: PEER tokyo: the recipient must be an age recipient (age1…), as msite site show prints it',
    ],
    ['peer twice', `PEER tokyo http://a:1 ${KEY}\nPEER tokyo http://b:1 ${KEY}`, 'line 2: PEER tokyo given twice (first at line 1)'],
    ['unclosed quote', 'STORAGE-BAY "/srv/a b', 'line 1: syntax error: unclosed " quote'],
  ];

  it.each(bad)('refuses %s, naming file and line', (_what, text, message) => {
    let caught: unknown;
    try {
      parseShippingConf(text, { file: '/etc/msite/shipping.conf' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ShippingConfError);
    const err = caught as ShippingConfError;
    expect(err.code).toBe('SHIPPING_CONF');
    expect(err.message).toBe(`/etc/msite/shipping.conf: ${message}`);
    expect(err.toLine()).toBe(`/etc/msite/shipping.conf: ${message} (correct the line in /etc/msite/shipping.conf)`);
  });

  it('reports every bad line, the first in the message', () => {
    const err = (() => {
      try {
        parseShippingConf('EXPIRATION x\nADMINISTRATOR root\nBOGUS 1\n');
      } catch (e) {
        return e as ShippingConfError;
      }
      throw new Error('accepted');
    })();
    expect(err.message).toBe('shipping.conf: line 1: EXPIRATION must be a whole number of days from 1, got "x" (and 1 more)');
    expect(err.problems.map((p) => p.line)).toEqual([1, 3]);
  });
});
