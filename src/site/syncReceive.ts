import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { toMsiteError } from '../core/errors.js';
import { isPacketFileName, readPacketHeader } from '../packet/packetFile.js';
import type { PacketHeader } from '../packet/packetTypes.js';
import { expandPacketPaths, importPackets, type PacketOutcome } from '../replication/importPackets.js';
import { incomingBays } from '../shipping/incomingBays.js';
import type { Notification } from '../shipping/notifier.js';
import { orderPathOf } from '../shipping/orderFiles.js';
import { isReturnPacket } from '../shipping/receivePackets.js';
import { openSitePackets } from '../shipping/openSitePackets.js';
import type { OpenedPackets } from '../replication/openedPackets.js';
import { Vob } from '../vob/vob.js';
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
  /** Told of warnings as they happen (discarded ops, packets for no VOB here). */
  warn?: (message: string) => void;
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
  const result: SyncReceiveResult = { vobs: [], waitingForFragments: [], creationPackets: [], unclaimed: [], failures: [] };
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
      options.warn?.(`cannot open VOB ${r.tag}: ${toMsiteError(err).message}`);
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
  return result;

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
      try {
        const vob = Vob.open(reg.path);
        try {
          // Another process may have imported and removed some while this one waited for the lock.
          outcomes = importPackets(
            vob,
            packets.map((p) => p.path).filter((p) => existsSync(p)),
            { opened, ...(options.warn ? { warn: options.warn } : {}) },
          );
        } finally {
          vob.close();
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
          if (!shared) {
            rmSync(o.path, { force: true });
            rmSync(orderPathOf(o.path), { force: true });
          }
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
