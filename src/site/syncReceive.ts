import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { toMsiteError } from '../core/errors.js';
import { isPacketFileName, readPacketHeader } from '../packet/packetFile.js';
import type { PacketHeader } from '../packet/packetTypes.js';
import { expandPacketPaths, importPackets, type PacketOutcome } from '../replication/importPackets.js';
import { incomingBays } from '../shipping/incomingBays.js';
import { OUTGOING } from '../shipping/storageBays.js';
import type { Notification } from '../shipping/notifier.js';
import { orderPathOf } from '../shipping/orderFiles.js';
import { isReturnPacket } from '../shipping/receivePackets.js';
import { openSitePackets } from '../shipping/openSitePackets.js';
import type { OpenedPackets } from '../replication/openedPackets.js';
import type { ShippingRunResult } from '../shipping/shippingServer.js';
import { Vob } from '../vob/vob.js';
import { shipFromHome } from './shipFromSite.js';
import { SyncLog, type SyncReporter } from './syncLog.js';
import type { SiteHome } from './siteHome.js';
import { takeVobLock } from './vobLock.js';

export interface SyncReceiveOptions {
  /** Packets or directories to import (`-data`); default: the incoming storage bays. */
  data?: readonly string[];
  /** Only the incoming bays of this storage class (`-sclass`). */
  sclass?: string;
  /** Only VOBs whose tag matches this pattern (`*` and `?` wildcards) or whose storage is this path (`-vob`). */
  vob?: string;
  /** How long to wait for another process importing into the same VOB (`-lockwait`), in milliseconds. */
  lockWaitMs: number;
  /** Told each line as it is logged, with its level (the CLI filters by `-quiet`). */
  report?: SyncReporter;
  /** `-logdir`; default `<home>/log/sync_logs`. */
  logDir?: string;
  /** `-trace`: keep the log even when every packet went in. */
  trace?: boolean;
  /** `-origin`: the host the packet came from, as a receipt handler is told (logged). */
  origin?: string;
  /**
   * `-actual ORDER`, as a receipt handler is given it. An order in an outgoing bay is one this site
   * relays: it is sent on (MultiSite's handler forwards it with shipping_server), and its packet is
   * not imported here. An order in an incoming bay leaves with its packet once that is applied.
   */
  actualOrder?: string;
  /** Tells the administrators (NOTIFICATION-PROGRAM); awaited. */
  notify?: (n: Notification) => Promise<unknown>;
}

/** What one VOB's imports did. */
export interface VobReceipt {
  tag: string;
  outcomes: PacketOutcome[];
}

export interface SyncReceiveResult {
  vobs: VobReceipt[];
  /** Fragments whose logical packet is not complete yet: left for a later run. */
  waitingForFragments: string[];
  /** Replica-creation packets: not imported here (mkreplica --import does that). */
  creationPackets: string[];
  /** Packets of a family no registered VOB belongs to (or that `-vob` left out): left in place. */
  unclaimed: string[];
  /** Packets that cannot be read, or that an import refused, with why. */
  failures: { path: string; reason: string }[];
  /** What became of `-actual ORDER` when this site relays it: undefined when there was none to send on. */
  forwarded?: ShippingRunResult;
  /** The run's log, when kept (on a failure, or `-trace`). */
  logFile: string | undefined;
}

interface Found {
  path: string;
  header: PacketHeader;
}

/** `-vob PATTERN`: a tag with `*`/`?` wildcards, or a storage path. */
function vobMatcher(pattern: string | undefined): (tag: string, path: string) => boolean {
  if (pattern === undefined) return () => true;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return (tag, path) => re.test(tag) || resolve(pattern) === path;
}

/**
 * The packets `-data` names; a fragment brings the other fragments of its logical packet beside it,
 * so a receipt handler started for the last fragment to arrive imports the whole packet.
 */
function namedPackets(data: readonly string[]): string[] {
  const out = new Set<string>();
  for (const path of expandPacketPaths(data.map((d) => resolve(d)))) {
    out.add(path);
    if (!existsSync(path) || statSync(path).isDirectory()) continue;
    let header: PacketHeader;
    try {
      header = readPacketHeader(path);
    } catch {
      continue;
    }
    if (header.fragment.count <= 1) continue;
    for (const name of readdirSync(dirname(path))) {
      if (!isPacketFileName(name)) continue;
      const other = join(dirname(path), name);
      try {
        if (readPacketHeader(other).packet === header.packet) out.add(other);
      } catch {
        // Not readable: not a fragment this run can use.
      }
    }
  }
  return [...out].sort();
}

/**
 * `sync_receive`: imports every packet waiting in the site's incoming storage bays (or the ones
 * `data` names) into the registered VOBs of their families, the way MultiSite's script does: creation
 * packets are skipped and the administrators told once; fragments wait until every fragment of their
 * logical packet is there; each VOB is imported into under the site-wide `import:TAG` lock, so a
 * receipt handler and a scheduled run never import into one VOB at once; passes repeat until one
 * applies nothing (packets arriving meanwhile go in too); applied packets leave the bay with their
 * orders, and deferred ones stay for a later run.
 */
export async function syncReceive(home: SiteHome, options: SyncReceiveOptions): Promise<SyncReceiveResult> {
  const log = new SyncLog(options.logDir ?? join(home.logDir, 'sync_logs'), 'sync_receive', options.report);
  const result: SyncReceiveResult = {
    vobs: [],
    waitingForFragments: [],
    creationPackets: [],
    unclaimed: [],
    failures: [],
    logFile: undefined,
  };
  if (options.origin !== undefined) log.say(`packet from ${options.origin}${options.data ? `: ${options.data.join(', ')}` : ''}`);
  const relayed = options.actualOrder !== undefined && basename(dirname(resolve(options.actualOrder))) === OUTGOING;
  if (relayed) {
    await forward(home, options.actualOrder!, result, log);
  } else {
    await receive(home, options, result, log);
    reportReceipt(result, log);
  }
  result.logFile = log.finish(result.failures.length > 0 || options.trace === true);
  return result;
}

/** A relayed packet's order, sent on toward its destinations. */
async function forward(home: SiteHome, order: string, result: SyncReceiveResult, log: SyncLog): Promise<void> {
  const path = resolve(order);
  if (!existsSync(path)) {
    // The daemon sends relayed packets on as they land: the handler usually finds the order gone.
    log.say(`shipping order not found (perhaps previously sent?): ${path}`, 'warning');
    return;
  }
  const shipped = await shipFromHome(home, [path]);
  result.forwarded = shipped;
  for (const a of shipped.attempts)
    if (a.result === 'delivered') log.say(`Forwarded ${a.order} to ${a.destinations.join(', ')} via ${a.hop}.`);
  for (const b of shipped.busy) log.say(`shipping order ${b} is being sent by another shipping server; left to it`);
  for (const f of shipped.failures) {
    log.say(`shipping_server: ${f}`, 'error');
    result.failures.push({ path, reason: f });
  }
}

/** The lines a run's outcome is told in, after the run. */
function reportReceipt(result: SyncReceiveResult, log: SyncLog): void {
  for (const v of result.vobs) for (const o of v.outcomes) log.say(receiptLine(v.tag, o), o.result === 'refused' ? 'error' : 'info');
  for (const p of result.waitingForFragments) log.say(`${p} waits for the other fragments of its packet`);
  for (const p of result.creationPackets) log.say(`${p} is a replica-creation packet: import it with msite mkreplica --import`, 'warning');
  for (const p of result.unclaimed) log.say(`${p} is for no VOB registered here; left in place`, 'warning');
  for (const f of result.failures)
    if (!result.vobs.some((v) => v.outcomes.some((o) => o.path === f.path))) log.say(`${f.path}: ${f.reason}`, 'error');
}

function receiptLine(tag: string, o: PacketOutcome): string {
  switch (o.result) {
    case 'applied':
      return `Applied ${o.path} to VOB ${tag} (${o.applied} ops applied, ${o.skipped} already here).`;
    case 'already-applied':
      return `${o.path} was already applied to VOB ${tag}; removed.`;
    case 'deferred':
      return `${o.path} waits for changes not yet received by VOB ${tag}: ${o.reason ?? ''}; left for a later run.`;
    default:
      return `${o.path} was not applied to VOB ${tag}: ${o.reason ?? o.result}.`;
  }
}

/** The import passes of a run, into `result`. */
async function receive(home: SiteHome, options: SyncReceiveOptions, result: SyncReceiveResult, log: SyncLog): Promise<void> {
  const warn = (m: string): void => log.say(m, 'warning');
  const wanted = vobMatcher(options.vob);
  const registered = home.registry().flatMap((r) => {
    try {
      const vob = Vob.open(r.path, { readonly: true });
      try {
        return [{ tag: r.tag, path: r.path, family: vob.family, selected: wanted(r.tag, r.path) }];
      } finally {
        vob.close();
      }
    } catch (err) {
      warn(`cannot open VOB ${r.tag}: ${toMsiteError(err).message}`);
      return [];
    }
  });
  const receipts = new Map<string, VobReceipt>();
  const failed = new Set<string>();
  let applied: number;
  for (;;) {
    const paths = options.data ? namedPackets(options.data) : expandPacketPaths(incomingBays(home.dir, options.sclass));
    // Packets sealed for this site (they came through a relay) are read from their opened copies.
    const opened = await openSitePackets(home.dir, paths);
    try {
      applied = await receivePass(paths, opened);
    } finally {
      opened.close();
    }
    if (applied === 0) break;
  }
  result.vobs = [...receipts.values()];

  async function receivePass(paths: readonly string[], opened: OpenedPackets): Promise<number> {
    const found: Found[] = [];
    const creation: Found[] = [];
    result.waitingForFragments = [];
    result.unclaimed = [];
    for (const path of paths) {
      if (failed.has(path) || !existsSync(path) || isReturnPacket(path)) continue;
      try {
        const refused = opened.refusalError(path);
        if (refused) throw refused;
        const header = readPacketHeader(opened.readable(path));
        (header.kind === 'creation' ? creation : found).push({ path, header });
      } catch (err) {
        // Gone since it was listed: another importer applied and removed it.
        if (!existsSync(path)) continue;
        failed.add(path);
        result.failures.push({ path, reason: toMsiteError(err).message });
      }
    }
    for (const c of creation) {
      if (!result.creationPackets.includes(c.path)) result.creationPackets.push(c.path);
    }
    await tellOfCreationPackets(home, creation, options);

    const fragments = new Map<string, Set<number>>();
    for (const f of found) fragments.set(f.header.packet, (fragments.get(f.header.packet) ?? new Set()).add(f.header.fragment.index));
    const complete = found.filter((f) => {
      if (fragments.get(f.header.packet)!.size >= f.header.fragment.count) return true;
      result.waitingForFragments.push(f.path);
      return false;
    });

    let applied = 0;
    const byVob = new Map<string, Found[]>();
    for (const f of complete) {
      const targets = registered.filter((r) => r.family === f.header.family);
      const chosen = targets.filter((r) => r.selected);
      if (chosen.length === 0) {
        result.unclaimed.push(f.path);
        continue;
      }
      for (const r of chosen) byVob.set(r.tag, [...(byVob.get(r.tag) ?? []), f]);
    }
    for (const [tag, packets] of byVob) {
      const reg = registered.find((r) => r.tag === tag)!;
      // A packet another VOB of its family still needs (one `-vob` left out) stays in the bay.
      const shared = registered.some((r) => r.family === reg.family && r.tag !== tag);
      const lock = await takeVobLock(home, `import:${tag}`, {
        waitMs: options.lockWaitMs,
        command: `sync_receive (process ${process.pid})`,
      });
      let outcomes: PacketOutcome[];
      // The packets applied here leave the bay before the lock is released: removed after it, another
      // importer that took the lock in between could find a packet that vanishes while it reads it.
      try {
        const vob = Vob.open(reg.path);
        try {
          // Another process may have imported and removed some while this one waited for the lock.
          outcomes = await importPackets(
            vob,
            packets.map((p) => p.path).filter((p) => existsSync(p)),
            { opened, warn },
          );
        } finally {
          vob.close();
        }
        for (const o of outcomes) {
          if (!shared && (o.result === 'applied' || o.result === 'already-applied')) {
            rmSync(o.path, { force: true });
            rmSync(orderPathOf(o.path), { force: true });
          }
        }
      } finally {
        lock.release();
      }
      const receipt = receipts.get(tag) ?? { tag, outcomes: [] };
      receipts.set(tag, receipt);
      for (const o of outcomes) {
        if (o.result === 'applied') applied++;
        if (o.result === 'applied' || o.result === 'already-applied') {
          receipt.outcomes.push(o);
        } else if (o.result === 'refused') {
          receipt.outcomes.push(o);
          failed.add(o.path);
          result.failures.push({ path: o.path, reason: o.reason ?? 'refused' });
        }
      }
      // What waits stays listed once, as it was left by the last pass.
      receipt.outcomes = receipt.outcomes.filter((o) => o.result !== 'deferred' && o.result !== 'not-applicable');
      receipt.outcomes.push(...outcomes.filter((o) => o.result === 'deferred' || o.result === 'not-applicable'));
    }
    return applied;
  }
}

/** Tells the administrators of creation packets not told of before, and remembers it in site.db. */
async function tellOfCreationPackets(home: SiteHome, creation: readonly Found[], options: SyncReceiveOptions): Promise<void> {
  if (creation.length === 0) return;
  const fresh = home.withDatabase((site) =>
    creation.filter(
      (c) => site.db.prepare('INSERT OR IGNORE INTO creation_notice (packet, at) VALUES (?, ?)').run(c.path, Date.now()).changes > 0,
    ),
  );
  if (fresh.length === 0 || !options.notify) return;
  await options.notify({
    subject: `msite sync_receive: replica-creation packet${fresh.length === 1 ? '' : 's'} waiting`,
    body: [
      'sync_receive does not import replica-creation packets. Create the new replica from each with',
      'msite mkreplica --import PACKET, then remove the packet from the bay:',
      '',
      ...fresh.map((c) => `  ${c.path} (replica ${c.header.targets.map((t) => t.name).join(', ')} from ${c.header.originName})`),
      '',
    ].join('\n'),
    recipients: [],
  });
}
