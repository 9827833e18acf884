import { mkdirSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { exportUpdate } from '../src/replication/exportUpdate.js';
import { importPackets, type PacketOutcome } from '../src/replication/importPackets.js';
import { exportReplica, importReplica } from '../src/replication/mkreplica.js';
import { Vob } from '../src/vob/vob.js';

/** The sibling replica every bench run makes of the bulk-load VOB. */
export const SIBLING = { host: 'h', name: 'sibling' } as const;

/**
 * How the sibling commits while it imports: `full`, the library's default (every commit fsync'd),
 * as a real replica would run. Printed with the figures.
 */
export const SIBLING_SYNCHRONOUS = 'full' as const;

export interface SiblingSetup {
  dir: string;
  creationPacket: string;
  creationBytes: number;
  seconds: number;
}

/**
 * Makes the sibling replica of `origin` (mkreplica export, then import in `dir`), right after the
 * VOB is created, before any element or version: the creation packet is then tiny and every later
 * change (element creations and checkins alike) reaches the sibling as ops in an update packet.
 * Setup, not measured; the sibling is closed again.
 */
export async function createSibling(origin: Vob, dir: string, packetDir: string): Promise<SiblingSetup> {
  mkdirSync(packetDir, { recursive: true });
  const start = performance.now();
  const [creationPacket] = await exportReplica(origin, [SIBLING], { out: packetDir });
  if (!creationPacket) throw new Error('mkreplica export wrote no creation packet');
  (await importReplica(dir, creationPacket, { tag: 'b' })).close();
  const seconds = (performance.now() - start) / 1000;
  return { dir, creationPacket, creationBytes: statSync(creationPacket).size, seconds };
}

export interface ExportFigures {
  seconds: number;
  /** CPU time (user + system) of this process during the export. */
  cpuSeconds: number;
  packets: string[];
  opCount: number;
  /** Sum of the packet files' sizes. */
  bytes: number;
  /** Peak resident set size of the process (maxRSS) once the export returned, in bytes. */
  maxRssAfter: number;
}

/**
 * Reopens the loaded origin VOB (default options: synchronous full) and times one exportUpdate to
 * the sibling into `outDir`: every op the sibling lacks, in one packet (no -maxsize).
 */
export async function exportToSibling(originDir: string, outDir: string): Promise<ExportFigures> {
  mkdirSync(outDir, { recursive: true });
  const vob = Vob.open(originDir);
  try {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const result = await exportUpdate(vob, [SIBLING.name], { out: outDir });
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    if (result.upToDate || result.packets.length === 0) throw new Error('export wrote no packet: the sibling already had everything');
    const bytes = result.packets.reduce((n, p) => n + statSync(p).size, 0);
    return {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      packets: result.packets,
      opCount: result.opCount,
      bytes,
      maxRssAfter: maxRss(),
    };
  } finally {
    vob.close();
  }
}

export interface ImportFigures {
  seconds: number;
  cpuSeconds: number;
  applied: number;
  /** Peak resident set size of the process (maxRSS) once the import returned, in bytes. */
  maxRssAfter: number;
  /** Second import of the same packets: already applied, so it reads only their headers. */
  reimportSeconds: number;
  reimportResults: string[];
  /** Closing the sibling after the imports (WAL checkpoint): not part of the import. */
  closeSeconds: number;
}

/**
 * Opens the sibling with synchronous full and times importPackets of the export's packets, then
 * the same call again (a no-op that must read only the headers). Fails unless the first import
 * applied every packet and the second found every one already applied.
 */
export async function importIntoSibling(siblingDir: string, packets: string[]): Promise<ImportFigures> {
  const vob = Vob.open(siblingDir, { synchronous: SIBLING_SYNCHRONOUS });
  let closed = false;
  try {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const outcomes = await importPackets(vob, packets);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const maxRssAfter = maxRss();
    requireResults(outcomes, 'applied', 'import');
    const discarded = outcomes.reduce((n, o) => n + o.discarded, 0);
    if (discarded > 0)
      throw new Error(
        `import discarded ${discarded} ops: ${outcomes
          .flatMap((o) => o.warnings)
          .slice(0, 3)
          .join('; ')}`,
      );

    const again = performance.now();
    const second = await importPackets(vob, packets);
    const reimportSeconds = (performance.now() - again) / 1000;
    requireResults(second, 'already-applied', 're-import');

    const closeStart = performance.now();
    vob.close();
    closed = true;
    const closeSeconds = (performance.now() - closeStart) / 1000;
    return {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      applied: outcomes.reduce((n, o) => n + o.applied, 0),
      maxRssAfter,
      reimportSeconds,
      reimportResults: second.map((o) => o.result),
      closeSeconds,
    };
  } finally {
    if (!closed) vob.close();
  }
}

/** The process's peak RSS so far (maxRSS is in kilobytes): grows past the earlier peak if a call needed more. */
function maxRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

function requireResults(outcomes: PacketOutcome[], expected: PacketOutcome['result'], what: string): void {
  const bad = outcomes.find((o) => o.result !== expected);
  if (bad) throw new Error(`${what} of ${bad.path}: ${bad.result} (${bad.reason ?? 'no reason given'}), expected ${expected}`);
}

export interface ReplicaCounts {
  versions: number;
  elements: number;
  oplog: number;
}

/** What both replicas must agree on after the import: versions (all kinds), elements, oplog entries. */
export function replicaCounts(dir: string): ReplicaCounts {
  const vob = Vob.open(dir);
  try {
    const count = (table: string): number => vob.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
    return { versions: count('version'), elements: count('element'), oplog: count('oplog') };
  } finally {
    vob.close();
  }
}
