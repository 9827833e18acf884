import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Database } from 'better-sqlite3';
import { isoTime, systemClock, type Clock } from '../core/clock.js';
import { InvalidInputError, NotFoundError, StateError, toMsiteError, type MsiteError } from '../core/errors.js';
import { childProcessSpawner, type Spawner } from '../core/spawner.js';
import { moveFileDurably } from './durableCopy.js';
import { DirectoryTransport } from './directoryTransport.js';
import { siteShippingConf } from './incomingBays.js';
import { siteNotifier, type Notifier } from './notifier.js';
import { OrderLedger } from './orderLedger.js';
import { freeNameIn, ordersIn, packetPathOf, readOrderFile, removeOrderAndPacket, writeOrderFile, type OrderInBay } from './orderFiles.js';
import { DEFAULT_RETRY_POLICY, nextTryAt, type RetryPolicy } from './retryPolicy.js';
import { administrators, DEFAULT_CLASS, expirationDays, nextHop, type ShippingConf } from './shippingConf.js';
import type { OrderDestination, ShippingOrder } from './shippingOrder.js';
import { siteHost } from './siteHostName.js';
import { bayDir, classReturnBay, classStorageBays, INCOMING, orderDirs } from './storageBays.js';
import type { Hop, Transport } from './transport.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Hosts an order may be stored at, origin included, before it is refused as lost in a route. */
export const DEFAULT_MAX_HOPS = 16;
/** Orders worked on at once (MultiSite runs up to 10 subprocesses). */
export const DEFAULT_CONCURRENCY = 10;

export interface ShippingServerOptions {
  homeDir: string;
  /** The site database (site.db), where orders are claimed and attempts recorded. */
  db: Database;
  clock?: Clock;
  /**
   * Transports by the URL scheme of a PEER line (`'file:'`, `'https:'`). `file:` defaults to the
   * directory transport; other schemes have none unless given.
   */
  transports?: Record<string, Transport>;
  /** Only orders of this storage class. */
  sclass?: string;
  concurrency?: number;
  retryPolicy?: RetryPolicy;
  /** Runs NOTIFICATION-PROGRAM. Default: real child processes. */
  spawner?: Spawner;
  /** Told each log line as it is written (`-v`). */
  verbose?: (line: string) => void;
  /** This site's host name; default `siteHost(homeDir)`. */
  hostName?: string;
  maxHops?: number;
  /** A claim older than this is taken over. */
  claimStaleMs?: number;
  /**
   * Ends the pass early (the daemon stopping): deliveries under way are cut, resumable where the
   * transport allows, and orders not yet started are left. A destination whose attempt was cut keeps
   * its state and next try, as if the attempt had not begun: it says nothing about the hop.
   */
  signal?: AbortSignal;
}

/** One delivery attempt of one order to one hop, for the destinations routed through it. */
export interface DeliveryAttempt {
  order: string;
  destinations: string[];
  hop: string;
  at: number;
  bytes: number;
  seconds: number;
  result: 'delivered' | 'failed';
  error?: string;
  /** The failure's MsiteError code (stable, for scripts and the dashboard). */
  errorCode?: string;
  transient?: boolean;
}

export interface ShippingRunResult {
  attempts: DeliveryAttempt[];
  /** Orders that expired this run and became return orders. */
  returned: string[];
  /** Return orders that reached this (their origin) host's return bay this run. */
  arrivedHome: string[];
  /** Orders another shipping server was working on: left to it. */
  busy: string[];
  /** One line per failure (a failed attempt, an unreadable order, a return given up). */
  failures: string[];
}

interface Run {
  options: ShippingServerOptions;
  /** The orders were named (not `--poll`): their pending destinations are tried now, due or not. */
  named: boolean;
  conf: ShippingConf;
  here: string;
  clock: Clock;
  ledger: OrderLedger;
  notifier: Notifier;
  transports: Record<string, Transport>;
  result: ShippingRunResult;
  logFile: string;
}

/**
 * `shipping_server`: one pass over the orders (those of `orderPaths`, else every outgoing directory of
 * the storage and return bays, `--poll`). For each order it holds the claim on, each pending destination
 * that is due gets one attempt: to its ROUTE's next hop, else to itself, which must be a PEER. A
 * confirmed delivery marks the destination delivered; a failure keeps it pending with the error and the
 * time of its next try. When no destination is pending the packet and its order are removed. An
 * expired order becomes a return order to its origin. Every attempt is logged to
 * `<home>/log/shipping_server_log` and site.db.
 *
 * @throws ShippingConfError for a bad shipping.conf (nothing is shipped); InvalidInputError for an
 * ORDER argument that is not an order file.
 */
export async function runShippingServer(options: ShippingServerOptions, orderPaths?: readonly string[]): Promise<ShippingRunResult> {
  const conf = siteShippingConf(options.homeDir);
  const clock = options.clock ?? systemClock;
  const run: Run = {
    options,
    named: orderPaths !== undefined,
    conf,
    here: options.hostName ?? siteHost(options.homeDir),
    clock,
    ledger: new OrderLedger(options.db, options.claimStaleMs),
    notifier: siteNotifier(options.homeDir, options.spawner ?? childProcessSpawner, { clock }),
    transports: { 'file:': new DirectoryTransport(), ...options.transports },
    result: { attempts: [], returned: [], arrivedHome: [], busy: [], failures: [] },
    logFile: join(options.homeDir, 'log', 'shipping_server_log'),
  };
  let work: OrderInBay[];
  if (orderPaths !== undefined) {
    work = orderPaths.map((p) => {
      const orderPath = resolve(p);
      const packetPath = packetPathOf(orderPath);
      if (!existsSync(orderPath)) throw new NotFoundError('shipping order', orderPath);
      if (!existsSync(packetPath))
        throw new InvalidInputError(`shipping order ${orderPath} cannot be processed: its data file ${packetPath} is missing`);
      readOrderFile(orderPath);
      return { orderPath, packetPath };
    });
  } else {
    await collectReturnsHome(run);
    work = pollDirs(run).flatMap((d) => ordersIn(d));
  }
  await inParallel(work, options.concurrency ?? DEFAULT_CONCURRENCY, (o) =>
    options.signal?.aborted ? Promise.resolve() : claimed(run, o, () => processOrder(run, o)),
  );
  return run.result;
}

/** The classes a pass covers: `--sclass`, else every class shipping.conf names. */
function classes(run: Run): string[] {
  return run.options.sclass !== undefined ? [run.options.sclass] : [...run.conf.classes.keys()];
}

/** Outgoing directories of the storage bays and return bays of the classes, each once. */
function pollDirs(run: Run): string[] {
  return orderDirs(run.options.homeDir, run.conf, classes(run)).outgoing.filter((d) => existsSync(d));
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Runs `fn` holding the claim on the order; an order another server holds is left to it. */
async function claimed(run: Run, o: OrderInBay, fn: () => Promise<void>): Promise<void> {
  if (!run.ledger.claim(o.orderPath, run.clock.now())) {
    run.result.busy.push(o.orderPath);
    return;
  }
  try {
    // Another server may have finished it between the listing and the claim.
    if (!existsSync(o.orderPath) || !existsSync(o.packetPath)) return;
    await fn();
  } catch (err) {
    fail(run, `${o.orderPath}: ${toMsiteError(err).toLine()}`);
  } finally {
    run.ledger.release(o.orderPath);
  }
}

function fail(run: Run, line: string): void {
  run.result.failures.push(line);
  log(run, `error: ${line}`);
}

function log(run: Run, line: string): void {
  const text = `${isoTime(run.clock.now())} ${line}`;
  try {
    mkdirSync(dirname(run.logFile), { recursive: true });
    appendFileSync(run.logFile, `${text}\n`);
  } catch {
    // The log is a record, not the delivery: a full or read-only log directory must not stop shipping.
  }
  run.options.verbose?.(text);
}

async function processOrder(run: Run, o: OrderInBay): Promise<void> {
  const name = basename(o.orderPath);
  let order = readOrderFile(o.orderPath);
  if (run.options.sclass !== undefined && order.class !== run.options.sclass) return;
  const now = run.clock.now();
  if (!order.destinations.some((d) => d.state === 'pending')) {
    // Delivered here and waiting for import (an order named on the command line): not ours to remove.
    if (basename(dirname(o.orderPath)) === INCOMING) return;
    removeOrderAndPacket(o);
    return;
  }
  if (now >= order.expiresAt) {
    if (order.kind === 'return') {
      fail(run, `giving up trying to return order ${name} to host ${order.origin} (original data file was ${order.packet})`);
      removeOrderAndPacket(o);
      return;
    }
    order = await returnOrder(run, o, order);
    if (!existsSync(o.orderPath)) return;
  }
  // An administrator naming an order asks for it now (MultiSite's `shipping_server ORDER`); a poll
  // tries each destination when its retry policy says it is due.
  const due = order.destinations.filter((d) => d.state === 'pending' && (run.named || d.nextTry === undefined || d.nextTry <= now));
  if (due.length === 0) return;

  // One attempt per hop, for every due destination routed through it.
  const byHop = new Map<string, OrderDestination[]>();
  for (const d of due) {
    const hop = d.host === run.here ? run.here : nextHop(run.conf, d.host, order.class);
    byHop.set(hop, [...(byHop.get(hop) ?? []), d]);
  }
  for (const [hop, dests] of byHop) {
    if (run.options.signal?.aborted) break;
    const attempt = await attemptDelivery(run, o, order, hop, dests);
    if (attempt.result === 'failed' && run.options.signal?.aborted) break;
    for (const d of dests) {
      if (attempt.result === 'delivered') {
        d.state = 'delivered';
        d.deliveredAt = attempt.at;
        d.attempts += 1;
        d.lastHop = hop;
        delete d.lastError;
        delete d.nextTry;
        delete d.errorKind;
      } else {
        d.attempts += 1;
        d.lastHop = hop;
        d.lastError = attempt.error;
        d.errorKind = attempt.transient ? 'transient' : 'permanent';
        d.nextTry = nextTryAt(run.options.retryPolicy ?? DEFAULT_RETRY_POLICY, d.attempts, run.clock.now(), !attempt.transient);
      }
    }
  }
  if (order.destinations.some((d) => d.state === 'pending')) writeOrderFile(dirname(o.orderPath), order);
  else removeOrderAndPacket(o);
}

/** Why `hop` cannot take the order, or undefined when it can. */
function routeProblem(run: Run, order: ShippingOrder, name: string, hop: string, dests: OrderDestination[]): MsiteError | undefined {
  const maxHops = run.options.maxHops ?? DEFAULT_MAX_HOPS;
  // A destination that is this host is delivered here; a ROUTE through this host to another is a cycle.
  if (hop === run.here && dests.every((d) => d.host === run.here)) return undefined;
  if (order.hops.some((h) => h.host === hop)) {
    return new StateError(`cyclic delivery route detected to host ${dests.map((d) => d.host).join(', ')} (via ${hop}) for order ${name}`, {
      hint: `correct the ROUTE lines of ${run.conf.file ?? 'shipping.conf'} here or at ${order.hops.map((h) => h.host).join(', ')}`,
    });
  }
  if (order.hops.length >= maxHops) {
    return new StateError(`order ${name} has been stored at ${order.hops.length} hosts, the limit: not sent on to ${hop}`, {
      hint: 'correct the ROUTE lines along its way',
    });
  }
  if (!run.conf.peers.has(hop)) {
    return new NotFoundError('PEER line for host', hop, {
      hint: `add "PEER ${hop} URL PUBLIC-KEY" to ${run.conf.file ?? join(run.options.homeDir, 'shipping.conf')}`,
    });
  }
  return undefined;
}

async function attemptDelivery(
  run: Run,
  o: OrderInBay,
  order: ShippingOrder,
  hopHost: string,
  dests: OrderDestination[],
): Promise<DeliveryAttempt> {
  const name = basename(o.orderPath);
  const at = run.clock.now();
  const started = performance.now();
  const attempt: DeliveryAttempt = {
    order: name,
    destinations: dests.map((d) => d.host),
    hop: hopHost,
    at,
    bytes: 0,
    seconds: 0,
    result: 'failed',
  };
  try {
    const problem = routeProblem(run, order, name, hopHost, dests);
    if (problem) throw problem;
    let hop: Hop;
    let transport: Transport | undefined;
    if (hopHost === run.here) {
      // A destination that is this host: into its own storage bay's incoming directory.
      const bay = classStorageBays(run.options.homeDir, run.conf, order.class)[0]!;
      bayDir(bay, INCOMING);
      hop = { host: run.here, url: pathToFileURL(bay).href, publicKey: '' };
      transport = run.transports['file:'];
    } else {
      const peer = run.conf.peers.get(hopHost)!;
      hop = { host: peer.host, url: peer.url, publicKey: peer.publicKey };
      transport = run.transports[new URL(peer.url).protocol];
      if (!transport) {
        throw new InvalidInputError(`no transport for ${new URL(peer.url).protocol} URLs: cannot reach ${hopHost} at ${peer.url}`, {
          hint: `correct its PEER line in ${run.conf.file ?? 'shipping.conf'}`,
        });
      }
    }
    const carried: ShippingOrder = {
      ...order,
      destinations: dests.map((d) => ({ host: d.host, state: 'pending' as const, attempts: 0 })),
      hops: hopHost === run.here ? order.hops : [...order.hops, { host: hopHost, at }],
    };
    const receipt = await transport!.deliver({ hop, packetPath: o.packetPath, order: carried }, run.options.signal);
    attempt.result = 'delivered';
    attempt.bytes = receipt.bytesSent;
  } catch (err) {
    const e = toMsiteError(err);
    attempt.error = e.toLine();
    attempt.errorCode = e.code;
    attempt.transient = e.transient;
  }
  attempt.seconds = (performance.now() - started) / 1000;
  run.result.attempts.push(attempt);
  for (const d of attempt.destinations) {
    run.ledger.record({
      order: name,
      destination: d,
      hop: hopHost,
      at,
      outcome: attempt.result,
      bytes: attempt.bytes,
      packetBytes: order.size,
      seconds: attempt.seconds,
      ...(attempt.error !== undefined ? { errorCode: attempt.errorCode ?? 'INTERNAL', errorMessage: attempt.error } : {}),
    });
  }
  const result =
    attempt.result === 'delivered' ? 'delivered' : `failed (${attempt.transient ? 'transient' : 'permanent'}): ${attempt.error}`;
  log(
    run,
    `order ${name} destination ${attempt.destinations.join(',')} hop ${hopHost} bytes ${attempt.bytes} seconds ${attempt.seconds.toFixed(3)} ${result}`,
  );
  if (attempt.result === 'failed') run.result.failures.push(`${name}: ${attempt.destinations.join(', ')} via ${hopHost}: ${attempt.error}`);
  return attempt;
}

/**
 * An expired delivery order: it becomes a return order to its origin, with the destinations it never
 * reached. At the origin it goes into the return bay at once; elsewhere it waits in this outgoing
 * directory and is shipped back like any order.
 */
async function returnOrder(run: Run, o: OrderInBay, order: ShippingOrder): Promise<ShippingOrder> {
  const now = run.clock.now();
  const name = basename(o.orderPath);
  const undelivered = order.destinations.filter((d) => d.state === 'pending').map((d) => d.host);
  const back: ShippingOrder = {
    ...order,
    kind: 'return',
    destinations: [{ host: order.origin, state: 'pending', attempts: 0 }],
    hops: [{ host: run.here, at: now }],
    expiresAt: now + expirationDays(run.conf, order.class) * DAY_MS,
    returned: { at: now, by: run.here, undelivered, expiredAt: order.expiresAt },
  };
  run.result.returned.push(name);
  log(
    run,
    `order ${name} expired at ${isoTime(order.expiresAt)} before reaching ${undelivered.join(', ')}: returning it to ${order.origin}`,
  );
  await notify(
    run,
    back,
    `msite: shipping order ${name} expired; returning it to ${order.origin}`,
    [
      `The shipping order ${name} at ${run.here} expired at ${isoTime(order.expiresAt)}`,
      `before its packet ${order.packet} reached ${undelivered.join(', ')}.`,
      `It is being returned to its origin, ${order.origin}, and will be in its return bay.`,
    ].join('\n'),
  );
  if (order.origin === run.here) {
    await moveIntoReturnBay(run, o, { ...back, destinations: [{ host: run.here, state: 'delivered', attempts: 0, deliveredAt: now }] });
    return back;
  }
  writeOrderFile(dirname(o.orderPath), back);
  return back;
}

/** Puts a packet and its (return) order into the class's return bay's incoming directory, and says so. */
async function moveIntoReturnBay(run: Run, o: OrderInBay, order: ShippingOrder): Promise<string> {
  const dir = bayDir(classReturnBay(run.options.homeDir, run.conf, order.class), INCOMING);
  const stored = freeNameIn(dir, basename(o.packetPath));
  moveFileDurably(o.packetPath, join(dir, stored));
  writeOrderFile(dir, { ...order, packet: stored });
  removeOrderAndPacket(o);
  const name = basename(o.orderPath);
  run.result.arrivedHome.push(join(dir, stored));
  log(run, `order ${name} is back home: ${join(dir, stored)}`);
  await notify(
    run,
    order,
    `msite: returned packet ${order.packet} is in the return bay of ${run.here}`,
    [
      `The packet ${order.packet} could not be delivered to ${order.returned?.undelivered.join(', ') ?? 'its destinations'}`,
      `before its order expired at ${isoTime(order.returned?.expiredAt ?? order.expiresAt)}.`,
      `It is now ${join(dir, stored)}, with its order beside it.`,
    ].join('\n'),
  );
  return join(dir, stored);
}

/**
 * Return orders that a peer delivered into this host's incoming bays (a return lands like any
 * delivery): they go to the return bay, and the administrators are told.
 */
async function collectReturnsHome(run: Run): Promise<void> {
  const dirs = new Set(classes(run).flatMap((c) => classStorageBays(run.options.homeDir, run.conf, c).map((b) => join(b, INCOMING))));
  for (const dir of dirs) {
    for (const o of ordersIn(dir)) {
      let order: ShippingOrder;
      try {
        order = readOrderFile(o.orderPath);
      } catch {
        continue;
      }
      if (order.kind !== 'return' || order.origin !== run.here) continue;
      if (run.options.sclass !== undefined && order.class !== run.options.sclass) continue;
      await claimed(run, o, async () => {
        await moveIntoReturnBay(run, o, order);
      });
    }
  }
}

async function notify(run: Run, order: ShippingOrder, subject: string, body: string): Promise<void> {
  const recipients = [...new Set([...administrators(run.conf, order.class), ...order.notify])];
  const outcome = await run.notifier.send({
    subject,
    body,
    recipients,
    ...(order.class === DEFAULT_CLASS ? {} : { storageClass: order.class }),
  });
  if (!outcome.delivered) log(run, `warning: notification "${subject}" not delivered: ${outcome.reason}`);
}
