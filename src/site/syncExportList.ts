import { basename, join } from 'node:path';
import { InvalidInputError, toMsiteError, UsageError } from '../core/errors.js';
import { exportForShipping, orderPackets } from '../shipping/shipExport.js';
import { applyActualRow } from '../replication/epochCommands.js';
import { siblingActualRow, siblingAddress } from './siblingActualRow.js';
import { Vob } from '../vob/vob.js';
import { shipFromHome } from './shipFromSite.js';
import type { SiteHome } from './siteHome.js';
import { SyncLog, type SyncLogLevel, type SyncReporter } from './syncLog.js';
import { takeVobLock } from './vobLock.js';

/** The export settings a line of a sync_export_list script (or the command line) puts in force. */
export interface ExportSettings {
  /** `-ship`: leave the orders in the bay for the shipping server; default `-fship`, deliver now. */
  ship: boolean;
  sclass?: string;
  maxsize?: number;
  limit?: number;
  /** How long to wait for another export from the same VOB, in milliseconds. */
  lockWaitMs: number;
  /** `-update`: ask each sibling's site for its actual row first (as `chepoch --actual`). */
  update?: boolean;
}

/** One `replicas:` selection: the siblings named (undefined: every sibling) of one VOB, with its settings. */
export interface ExportSelection {
  /** The VOB's tag; undefined with `all`. */
  vob: string | undefined;
  replicas: string[] | undefined;
  settings: ExportSettings;
}

/** One export from one VOB to one sibling. */
export interface ExportRecord {
  vob: string;
  replica: string;
  /** `sent`: packets written (and, with -fship, delivered); `up-to-date`: nothing to send. */
  result: 'sent' | 'up-to-date' | 'failed';
  packets: string[];
  orders: string[];
  error?: string;
}

export interface SyncExportResult {
  exports: ExportRecord[];
  /** The number of failed exports: the command's exit status. */
  failed: number;
  /** The run's log, when kept (on failure or `trace`). */
  logFile: string | undefined;
}

export interface SyncExportOptions {
  selections: readonly ExportSelection[];
  /** `-logdir`; default `<home>/log/sync_logs`. */
  logDir?: string;
  /** `-trace`: keep the log even when every export succeeded. */
  trace?: boolean;
  /** Told each line as it is logged, with its level (the CLI filters by `-quiet`). */
  report?: SyncReporter;
}

/**
 * Splits MultiSite's `-replicas LIST`: `rep1@vob,rep2,rep3` (a replica without a VOB is of the one
 * before it), or a VOB alone (`@vob`, or the tag of a registered VOB) for all its siblings.
 */
export function parseReplicaList(list: string, tags: readonly string[], settings: ExportSettings): ExportSelection[] {
  const selections: ExportSelection[] = [];
  let current: ExportSelection | undefined;
  for (const raw of list.split(',').map((s) => s.trim().replace(/^replica:/, ''))) {
    if (raw === '') continue;
    const at = raw.lastIndexOf('@');
    let vob: string;
    let replica: string | undefined;
    if (at >= 0) {
      vob = raw.slice(at + 1);
      replica = raw.slice(0, at) || undefined;
    } else if (current?.vob !== undefined) {
      vob = current.vob;
      replica = raw;
    } else if (tags.includes(raw)) {
      vob = raw;
    } else if (tags.length === 1) {
      vob = tags[0]!;
      replica = raw;
    } else {
      throw new UsageError(`-replicas: "${raw}" names no VOB`, { hint: 'write REPLICA@VOB for the first replica of each VOB' });
    }
    if (current?.vob !== vob || current.replicas === undefined || replica === undefined) {
      current = { vob, replicas: replica === undefined ? undefined : [], settings };
      selections.push(current);
    }
    if (replica !== undefined) current.replicas!.push(replica);
  }
  if (selections.length === 0) throw new UsageError('-replicas names no replica');
  return selections;
}

/**
 * Reads a sync_export_list script: `tag:value` lines (`compress`/`nocompress`, `maxsize:`,
 * `ship`/`fship`, `limit:`, `update`/`noupdate`, `sclass:`, `lockwait:`, `replicas:`); a setting stays in
 * force for the lines after it, and each `replicas:` line exports with the settings of its moment.
 */
export function parseExportScript(
  text: string,
  file: string,
  tags: readonly string[],
  initial: ExportSettings,
  parse: { size: (v: string) => number; count: (v: string) => number },
): ExportSelection[] {
  let settings = { ...initial };
  const selections: ExportSelection[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.replace(/#.*/, '').trim();
    if (t === '') return;
    const colon = t.indexOf(':');
    const key = (colon < 0 ? t : t.slice(0, colon)).trim().toLowerCase();
    const value = colon < 0 ? '' : t.slice(colon + 1).trim();
    const bad = (why: string): never => {
      throw new InvalidInputError(`${file}:${i + 1}: ${why}`, { hint: 'see msite help sync_export_list' });
    };
    switch (key) {
      case 'ship':
      case 'fship':
        settings = { ...settings, ship: key === 'ship' };
        break;
      case 'compress':
      case 'nocompress':
      case 'update':
      case 'noupdate':
        settings = { ...settings, update: key === 'update' };
        break;
      case 'maxsize':
        settings = { ...settings, maxsize: parse.size(value) };
        break;
      case 'limit':
        settings = { ...settings, limit: parse.count(value) };
        break;
      case 'sclass':
        settings = value === '' ? bad('sclass: needs a class') : { ...settings, sclass: value };
        break;
      case 'lockwait':
        settings = { ...settings, lockWaitMs: parse.count(value) * 60_000 };
        break;
      case 'replicas':
        selections.push(...parseReplicaList(value, tags, settings));
        break;
      default:
        bad(`unknown setting "${key}"`);
    }
  });
  if (selections.length === 0) throw new InvalidInputError(`${file}: no replicas: line`, { hint: 'add a line replicas: REPLICA@VOB,...' });
  return selections;
}

/**
 * `-update`: sets this site's estimate of `replica` to the actual row its site reports (as `chepoch
 * --actual`), so the export sends exactly what it lacks. A sibling that cannot be asked (no PEER line,
 * its daemon down) is exported to by the estimate held here, with a warning: the self-healing rules
 * correct an estimate later anyway.
 */
async function updateFromActualRow(
  home: SiteHome,
  vob: Vob,
  replica: string,
  tag: string,
  say: (line: string, level?: 'info' | 'warning' | 'error') => void,
): Promise<void> {
  try {
    const reply = await siblingActualRow(home, siblingAddress(vob, replica));
    const { changes } = applyActualRow(vob, replica, reply.row);
    say(`${replica}@${tag}: estimate set from its actual row (${changes.length} entr${changes.length === 1 ? 'y' : 'ies'} changed)`);
  } catch (err) {
    say(
      `-update: cannot ask ${replica}@${tag} for its actual row: ${toMsiteError(err).toLine()}; exporting by this site's estimate`,
      'warning',
    );
  }
}

/**
 * `sync_export_list`: for each VOB selected (every registered one with `-all`) and each selected
 * sibling replica that lacks something, one `syncreplica --export --ship` into the storage bay; with
 * `-fship` (the default) the new orders are then delivered in one shipping pass. A sibling that
 * already has everything is skipped. Everything is logged to a file in `log/sync_logs/` (or `logDir`),
 * removed after a run with no failure unless `trace`.
 */
export async function syncExportList(home: SiteHome, options: SyncExportOptions): Promise<SyncExportResult> {
  const log = new SyncLog(options.logDir ?? join(home.logDir, 'sync_logs'), 'sync_export_list', options.report);
  const say = (line: string, level?: SyncLogLevel): void => log.say(line, level);
  const registry = home.registry();
  const exports: ExportRecord[] = [];
  const toShip: { record: ExportRecord; settings: ExportSettings }[] = [];
  for (const selection of options.selections) {
    const regs = selection.vob === undefined ? registry : registry.filter((r) => r.tag === selection.vob);
    if (regs.length === 0 && selection.vob !== undefined) {
      exports.push({ vob: selection.vob, replica: '', result: 'failed', packets: [], orders: [], error: `no VOB ${selection.vob} here` });
      say(`no VOB ${selection.vob} is registered at this site`, 'error');
      continue;
    }
    for (const reg of regs) {
      let lock;
      try {
        lock = await takeVobLock(home, `export:${reg.tag}`, { waitMs: selection.settings.lockWaitMs, command: 'sync_export_list' });
      } catch (err) {
        const error = toMsiteError(err).toLine();
        exports.push({ vob: reg.tag, replica: '', result: 'failed', packets: [], orders: [], error });
        say(error, 'error');
        continue;
      }
      try {
        const vob = Vob.open(reg.path);
        try {
          const siblings =
            selection.replicas ??
            (vob.q('SELECT name FROM replica WHERE removed = 0 AND oid <> ? ORDER BY name').pluck().all(vob.self) as string[]);
          if (siblings.length === 0) say(`VOB ${reg.tag} has no sibling replica: nothing to export`);
          for (const replica of siblings) {
            const record: ExportRecord = { vob: reg.tag, replica, result: 'up-to-date', packets: [], orders: [] };
            exports.push(record);
            const s = selection.settings;
            if (s.update) await updateFromActualRow(home, vob, replica, reg.tag, say);
            try {
              const exported = await exportForShipping(vob, [replica], {
                homeDir: home.dir,
                ...(s.sclass !== undefined ? { sclass: s.sclass } : {}),
                ...(s.maxsize !== undefined ? { maxsize: s.maxsize } : {}),
                ...(s.limit !== undefined ? { limit: s.limit } : {}),
              });
              for (const w of exported.result.warnings) say(w, 'warning');
              if (exported.result.upToDate) {
                say(`${replica}@${reg.tag}: up to date, nothing to send`);
                continue;
              }
              const orders = await orderPackets(
                exported.packets.map((packet) => ({ packet, destinations: exported.destinations })),
                { homeDir: home.dir, ...(s.sclass !== undefined ? { sclass: s.sclass } : {}) },
              );
              record.result = 'sent';
              record.packets = orders.map((o) => o.packetPath);
              record.orders = orders.map((o) => o.orderPath);
              say(
                `${replica}@${reg.tag}: ${exported.result.opCount} ops in ${orders.length} packet${orders.length === 1 ? '' : 's'} for ` +
                  `${exported.destinations.join(', ')}${s.ship ? ', stored for the shipping server' : ''}`,
              );
              if (!s.ship) toShip.push({ record, settings: s });
            } catch (err) {
              record.result = 'failed';
              record.error = toMsiteError(err).toLine();
              say(`export to ${replica}@${reg.tag} failed: ${record.error}`, 'error');
            }
          }
        } finally {
          vob.close();
        }
      } catch (err) {
        const error = toMsiteError(err).toLine();
        exports.push({ vob: reg.tag, replica: '', result: 'failed', packets: [], orders: [], error });
        say(`cannot export from VOB ${reg.tag}: ${error}`, 'error');
      } finally {
        lock.release();
      }
    }
  }
  const orders = toShip.flatMap((t) => t.record.orders);
  if (orders.length > 0) {
    const shipping = await shipFromHome(home, orders);
    for (const a of shipping.attempts) {
      if (a.result === 'delivered') say(`delivered ${a.order} to ${a.destinations.join(', ')} via ${a.hop}`);
    }
    for (const f of shipping.failures) say(`shipping_server: ${f}`, 'error');
    for (const { record } of toShip) {
      // Attempts name an order by its file name, other failures by its path.
      const names = record.orders.flatMap((o) => [o, basename(o)]);
      const failure = shipping.failures.find((f) => names.some((n) => f.startsWith(`${n}:`)));
      if (failure !== undefined) {
        record.result = 'failed';
        record.error = failure;
      }
    }
  }
  const failed = exports.filter((e) => e.result === 'failed').length;
  say(`${exports.filter((e) => e.result === 'sent').length} sent, ${failed} failed`);
  return { exports, failed, logFile: log.finish(failed > 0 || options.trace === true) };
}
