import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { StorageError, type MsiteErrorOptions } from '../core/errors.js';
import { LineProblemsError, type LineProblem } from '../core/lineProblemsError.js';
import { MAX_PACKET_SIZE, parseSize } from '../core/parseSize.js';
import { isAgeRecipient } from '../packet/sealedPacket.js';
import { isPeerKeyText, PEER_KEY_PREFIX } from './peerKey.js';

/**
 * shipping.conf: a site's shipping settings, in MultiSite's format (one directive a line, `#` starts a
 * comment), plus `PEER` lines for the TCP world:
 *
 *     ADMINISTRATOR [-class C] ADDRESS...           default root
 *     STORAGE-BAY [-class C] DIR                    one or more per class
 *     RETURN-BAY [-class C] DIR
 *     EXPIRATION [-class C] DAYS                    default 14
 *     NOTIFICATION-PROGRAM [-class C] PATH          invoked as PATH -s SUBJECT -f MSGFILE ADDRESS...
 *     RECEIPT-HANDLER [-class C] PATH
 *     ROUTE [-class C] NEXT-HOP DEST...             hosts with no route are delivered to directly
 *     MAX-DATA-SIZE [-class C] SIZE[k|m|g]          default and maximum 2097151k; 0 means the default
 *     CLEARCASE_MIN_PORT PORT / CLEARCASE_MAX_PORT PORT
 *     PEER HOST URL PUBLIC-KEY [RECIPIENT]          where HOST's daemon listens (or file:///BAY: its bay as a
 *                                                   directory), the key it authenticates with (`ed25519:…`,
 *                                                   peerKey.ts), the key packets for it are encrypted to
 *
 * `-class C` may be repeated to give one line to several classes; `-default` (alone, as MultiSite's own
 * template writes it, or as `-class -default`) is the default class, which is also what a line without
 * `-class` sets. A class without a setting of its own uses the default class's. The port range and
 * PEER lines are host-wide and take no class. Directive names are read case-insensitively. A value with
 * blanks is written in double quotes. Relative directories and programs are taken relative to the
 * directory holding shipping.conf.
 */

export const DEFAULT_CLASS = '-default';
/** MultiSite's default and maximum packet size, 2097151 KB, in bytes. */
export const MAX_DATA_SIZE_LIMIT = MAX_PACKET_SIZE;
export const DEFAULT_EXPIRATION_DAYS = 14;
export const DEFAULT_ADMINISTRATOR = 'root';
export const MAX_CLASSES = 64;

export const DIRECTIVES = [
  'ADMINISTRATOR',
  'STORAGE-BAY',
  'RETURN-BAY',
  'EXPIRATION',
  'NOTIFICATION-PROGRAM',
  'RECEIPT-HANDLER',
  'ROUTE',
  'MAX-DATA-SIZE',
  'CLEARCASE_MIN_PORT',
  'CLEARCASE_MAX_PORT',
  'PEER',
] as const;
export type Directive = (typeof DIRECTIVES)[number];

export interface Route {
  nextHop: string;
  destinations: string[];
  line: number;
}

export interface Peer {
  host: string;
  url: string;
  /** `ed25519:<base64url>` (peerKey.ts). */
  publicKey: string;
  /** The age recipient packets for HOST are sealed to (sealedPacket.ts), when given. */
  recipient?: string;
  line: number;
}

/** What shipping.conf says for one storage class. */
export interface ClassSettings {
  administrators?: string[];
  storageBays: string[];
  returnBays: string[];
  expirationDays?: number;
  notificationProgram?: string;
  receiptHandler?: string;
  routes: Route[];
  /** Bytes. */
  maxDataSize?: number;
}

export interface ShippingConf {
  /** The file it was read from, when read from one. */
  file?: string;
  /** Always has DEFAULT_CLASS. */
  classes: Map<string, ClassSettings>;
  minPort?: number;
  maxPort?: number;
  peers: Map<string, Peer>;
}

export type ShippingConfProblem = LineProblem;

/** A shipping.conf that breaks a rule: "FILE: line N: <rule>"; `data.problems` lists them all. */
export class ShippingConfError extends LineProblemsError {
  static readonly code = 'SHIPPING_CONF';

  constructor(problems: readonly ShippingConfProblem[], file: string, options: MsiteErrorOptions = {}) {
    super(ShippingConfError.code, problems, file, { hint: `correct the line in ${file}`, ...options });
  }
}

export interface ParseShippingConfOptions {
  /** Named in error messages. Default "shipping.conf". */
  file?: string;
  /** Directory relative paths are resolved against. Default: the file's directory, else as written. */
  baseDir?: string;
}

const USAGE: Record<Directive, string> = {
  ADMINISTRATOR: 'ADMINISTRATOR [-class C] ADDRESS...',
  'STORAGE-BAY': 'STORAGE-BAY [-class C] DIRECTORY',
  'RETURN-BAY': 'RETURN-BAY [-class C] DIRECTORY',
  EXPIRATION: 'EXPIRATION [-class C] DAYS',
  'NOTIFICATION-PROGRAM': 'NOTIFICATION-PROGRAM [-class C] PATH',
  'RECEIPT-HANDLER': 'RECEIPT-HANDLER [-class C] PATH',
  ROUTE: 'ROUTE [-class C] NEXT-HOP DESTINATION...',
  'MAX-DATA-SIZE': 'MAX-DATA-SIZE [-class C] SIZE[k|m|g]',
  CLEARCASE_MIN_PORT: 'CLEARCASE_MIN_PORT PORT',
  CLEARCASE_MAX_PORT: 'CLEARCASE_MAX_PORT PORT',
  PEER: 'PEER HOST URL PUBLIC-KEY [RECIPIENT]',
};
const HOST_WIDE: ReadonlySet<Directive> = new Set(['CLEARCASE_MIN_PORT', 'CLEARCASE_MAX_PORT', 'PEER']);
const HOST = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CLASS = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Splits a line into words: blanks separate, "…" groups, a word starting with # begins a comment. */
function words(line: string): string[] | { error: string } {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i]!)) {
      i++;
      continue;
    }
    if (line[i] === '#') break;
    if (line[i] === '"') {
      const close = line.indexOf('"', i + 1);
      if (close < 0) return { error: 'unclosed " quote' };
      out.push(line.slice(i + 1, close));
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < line.length && !/\s/.test(line[j]!)) j++;
    out.push(line.slice(i, j));
    i = j;
  }
  return out;
}

function emptyClass(): ClassSettings {
  return { storageBays: [], returnBays: [], routes: [] };
}

/**
 * Reads shipping.conf text. Every line is checked; on any problem nothing is returned.
 *
 * @throws ShippingConfError naming the file, the first bad line and the rule it breaks.
 */
export function parseShippingConf(text: string, options: ParseShippingConfOptions = {}): ShippingConf {
  const file = options.file ?? 'shipping.conf';
  const baseDir = options.baseDir ?? (options.file !== undefined ? dirname(resolve(options.file)) : undefined);
  const problems: ShippingConfProblem[] = [];
  const conf: ShippingConf = { classes: new Map([[DEFAULT_CLASS, emptyClass()]]), peers: new Map() };
  if (options.file !== undefined) conf.file = options.file;
  // For "given twice" messages: directive + class → the line it was first set on.
  const firstSet = new Map<string, number>();
  const routed = new Map<string, number>();

  const path = (p: string): string => (baseDir !== undefined && !isAbsolute(p) ? resolve(baseDir, p) : p);

  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const problem = (message: string): void => {
      problems.push({ line, message });
    };
    const split = words(raw.replace(/\r$/, ''));
    if (!Array.isArray(split)) return problem(`syntax error: ${split.error}`);
    if (split.length === 0) return;
    const [word, ...rest] = split as [string, ...string[]];
    const directive = DIRECTIVES.find((d) => d === word.toUpperCase());
    if (!directive) return problem(`unknown directive "${word}" (known: ${DIRECTIVES.join(', ')})`);
    const usage = `(${USAGE[directive]})`;

    // Leading class options.
    const classes: string[] = [];
    let args = rest;
    while (args[0] !== undefined && (args[0] === '-class' || args[0] === DEFAULT_CLASS)) {
      if (args[0] === DEFAULT_CLASS) {
        classes.push(DEFAULT_CLASS);
        args = args.slice(1);
        continue;
      }
      const name = args[1];
      if (name === undefined) return problem(`-class needs a class name ${usage}`);
      if (name !== DEFAULT_CLASS && !CLASS.test(name)) {
        return problem(`bad class name "${name}": letters, digits, ".", "_" and "-", not starting with "-"`);
      }
      classes.push(name);
      args = args.slice(2);
    }
    if (classes.length > 0 && HOST_WIDE.has(directive)) return problem(`${directive} is host-wide and takes no -class`);
    if (classes.length === 0) classes.push(DEFAULT_CLASS);
    const unique = [...new Set(classes)];
    for (const c of unique) {
      if (!conf.classes.has(c)) {
        if (conf.classes.size >= MAX_CLASSES) return problem(`too many storage classes: at most ${MAX_CLASSES}`);
        conf.classes.set(c, emptyClass());
      }
    }
    const each = (fn: (settings: ClassSettings, cls: string) => void): void => {
      for (const c of unique) fn(conf.classes.get(c)!, c);
    };
    /** Single-valued settings: refused the second time for a class. */
    const once = (cls: string): boolean => {
      const key = `${directive} ${cls}`;
      const first = firstSet.get(key);
      if (first !== undefined) {
        const forClass = cls === DEFAULT_CLASS ? '' : ` for class ${cls}`;
        problem(`${directive} given twice${forClass} (first at line ${first})`);
        return false;
      }
      firstSet.set(key, line);
      return true;
    };
    const single = (what: string): string | undefined => {
      if (args.length === 1) return args[0]!;
      problem(
        args.length === 0
          ? `${directive} needs ${what} ${usage}`
          : `${directive} takes one ${what.replace(/^an? /, '')}, got ${args.length} words ${usage}`,
      );
      return undefined;
    };

    switch (directive) {
      case 'ADMINISTRATOR': {
        const addresses = args.flatMap((a) => a.split(',')).filter((a) => a !== '');
        if (addresses.length === 0) return problem(`ADMINISTRATOR needs at least one address ${usage}`);
        return each((s, c) => {
          if (once(c)) s.administrators = addresses;
        });
      }
      case 'STORAGE-BAY':
      case 'RETURN-BAY': {
        const dir = single('a directory');
        if (dir === undefined) return;
        return each((s) => {
          const list = directive === 'STORAGE-BAY' ? s.storageBays : s.returnBays;
          if (!list.includes(path(dir))) list.push(path(dir));
        });
      }
      case 'EXPIRATION': {
        const value = single('a number of days');
        if (value === undefined) return;
        const days = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!(days >= 1)) return problem(`EXPIRATION must be a whole number of days from 1, got "${value}"`);
        return each((s, c) => {
          if (once(c)) s.expirationDays = days;
        });
      }
      case 'NOTIFICATION-PROGRAM':
      case 'RECEIPT-HANDLER': {
        const program = single('a program path');
        if (program === undefined) return;
        return each((s, c) => {
          if (!once(c)) return;
          if (directive === 'NOTIFICATION-PROGRAM') s.notificationProgram = path(program);
          else s.receiptHandler = path(program);
        });
      }
      case 'ROUTE': {
        const [nextHop, ...destinations] = args;
        if (nextHop === undefined || destinations.length === 0) {
          return problem(`ROUTE needs a next hop and at least one destination host ${usage}`);
        }
        const bad = [nextHop, ...destinations].find((h) => !HOST.test(h));
        if (bad !== undefined) return problem(`ROUTE: "${bad}" is not a host name`);
        if (destinations.includes(nextHop))
          return problem(`ROUTE: next hop ${nextHop} is also one of its destinations (a route to itself)`);
        for (const c of unique) {
          for (const d of destinations) {
            const key = `${c} ${d}`;
            const first = routed.get(key);
            if (first !== undefined) return problem(`ROUTE: host ${d} already has a route (line ${first})`);
            routed.set(key, line);
          }
        }
        return each((s) => s.routes.push({ nextHop, destinations, line }));
      }
      case 'MAX-DATA-SIZE': {
        const value = single('a size');
        if (value === undefined) return;
        const size = parseSize(value);
        if (size === undefined || size > MAX_DATA_SIZE_LIMIT) {
          return problem(`MAX-DATA-SIZE must be a size like 500k, 20m or 2g, at most 2097151k, got "${value}"`);
        }
        return each((s, c) => {
          if (once(c)) s.maxDataSize = size === 0 ? MAX_DATA_SIZE_LIMIT : size;
        });
      }
      case 'CLEARCASE_MIN_PORT':
      case 'CLEARCASE_MAX_PORT': {
        const value = single('a port number');
        if (value === undefined) return;
        const port = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!(port >= 1 && port <= 65535)) return problem(`${directive} must be a port number from 1 to 65535, got "${value}"`);
        if (!once(DEFAULT_CLASS)) return;
        if (directive === 'CLEARCASE_MIN_PORT') conf.minPort = port;
        else conf.maxPort = port;
        return;
      }
      case 'PEER': {
        if (args.length !== 3 && args.length !== 4) return problem(`PEER needs a host, a URL and a public key ${usage}`);
        const [host, url, publicKey, recipient] = args as [string, string, string, string | undefined];
        if (!HOST.test(host)) return problem(`PEER: "${host}" is not a host name`);
        let parsed: URL | undefined;
        try {
          parsed = new URL(url);
        } catch {
          parsed = undefined;
        }
        // file:// is a bay reached as a directory (removable media, a shared mount): directoryTransport.ts.
        if (!parsed || !['http:', 'https:', 'file:'].includes(parsed.protocol)) {
          return problem(`PEER ${host}: "${url}" is not an http://, https:// or file:// URL`);
        }
        if (!isPeerKeyText(publicKey)) {
          return problem(`PEER ${host}: the public key must be ${PEER_KEY_PREFIX} and 32 bytes in base64url, as msite site show prints it`);
        }
        if (recipient !== undefined && !isAgeRecipient(recipient)) {
          return problem(`PEER ${host}: the recipient must be an age recipient (age1…), as msite site show prints it`);
        }
        const first = conf.peers.get(host);
        if (first) return problem(`PEER ${host} given twice (first at line ${first.line})`);
        conf.peers.set(host, { host, url, publicKey, ...(recipient !== undefined ? { recipient } : {}), line });
        return;
      }
    }
  });

  if (conf.minPort !== undefined && conf.maxPort !== undefined && conf.minPort > conf.maxPort) {
    problems.push({
      line: firstSet.get(`CLEARCASE_MAX_PORT ${DEFAULT_CLASS}`) ?? 0,
      message: `CLEARCASE_MAX_PORT ${conf.maxPort} is below CLEARCASE_MIN_PORT ${conf.minPort}`,
    });
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    throw new ShippingConfError(problems, file);
  }
  return conf;
}

/** An empty configuration: every setting at its default. */
export function defaultShippingConf(): ShippingConf {
  return { classes: new Map([[DEFAULT_CLASS, emptyClass()]]), peers: new Map() };
}

/**
 * Reads `file` when it exists, else returns the defaults (a site need not have a shipping.conf to run
 * scheduled jobs).
 *
 * @throws ShippingConfError for a bad line; StorageError when the file exists but cannot be read.
 */
export function loadShippingConf(file: string): ShippingConf {
  if (!existsSync(file)) return defaultShippingConf();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new StorageError(`cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  return parseShippingConf(text, { file });
}

/** The setting of `cls`, else the default class's. */
function setting<T>(conf: ShippingConf, cls: string, pick: (s: ClassSettings) => T | undefined): T | undefined {
  const own = conf.classes.get(cls);
  const value = own ? pick(own) : undefined;
  return value !== undefined ? value : pick(conf.classes.get(DEFAULT_CLASS)!);
}
const nonEmpty = <T>(list: T[]): T[] | undefined => (list.length > 0 ? list : undefined);

/** Who is told about expiries, returns and failures (and scheduled jobs that name no one). Default root. */
export function administrators(conf: ShippingConf, cls: string = DEFAULT_CLASS): string[] {
  return setting(conf, cls, (s) => s.administrators) ?? [DEFAULT_ADMINISTRATOR];
}

/** The configured notification program; undefined means msite's built-in one (see the scheduler's notifier). */
export function notificationProgram(conf: ShippingConf, cls: string = DEFAULT_CLASS): string | undefined {
  return setting(conf, cls, (s) => s.notificationProgram);
}

/** Days before a shipping order expires. Default 14. */
export function expirationDays(conf: ShippingConf, cls: string = DEFAULT_CLASS): number {
  return setting(conf, cls, (s) => s.expirationDays) ?? DEFAULT_EXPIRATION_DAYS;
}

/** Default export packet size in bytes. Default and maximum 2097151 KB. */
export function maxDataSize(conf: ShippingConf, cls: string = DEFAULT_CLASS): number {
  return setting(conf, cls, (s) => s.maxDataSize) ?? MAX_DATA_SIZE_LIMIT;
}

/** Storage bays of the class (or of the default class); empty when none is configured. */
export function storageBays(conf: ShippingConf, cls: string = DEFAULT_CLASS): string[] {
  return setting(conf, cls, (s) => nonEmpty(s.storageBays)) ?? [];
}

export function returnBays(conf: ShippingConf, cls: string = DEFAULT_CLASS): string[] {
  return setting(conf, cls, (s) => nonEmpty(s.returnBays)) ?? [];
}

export function receiptHandler(conf: ShippingConf, cls: string = DEFAULT_CLASS): string | undefined {
  return setting(conf, cls, (s) => s.receiptHandler);
}

/** The host to hand a packet for `destination` to: its ROUTE's next hop (class first), else itself. */
export function nextHop(conf: ShippingConf, destination: string, cls: string = DEFAULT_CLASS): string {
  const find = (s: ClassSettings | undefined): string | undefined => s?.routes.find((r) => r.destinations.includes(destination))?.nextHop;
  return find(conf.classes.get(cls)) ?? find(conf.classes.get(DEFAULT_CLASS)) ?? destination;
}
