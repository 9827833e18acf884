import type { PacketKind } from './packetTypes.js';

const PREFIX: Record<PacketKind, string> = { update: 'sync', creation: 'repl' };
const NAME = /^(sync|repl)_([A-Za-z0-9._-]+)_(\d{4}-\d{2}-\d{2}T\d{6}Z)_(\d+)_(\d+)$/;

/** A replica name as it may appear in a file name: anything but letters, digits, '.', '_' and '-' becomes '-'. */
function fileSafe(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '-');
  return safe === '' ? '-' : safe;
}

/** `2026-11-22T095226Z`: UTC, to the second, no ':' (not allowed in Windows file names). */
export function packetTimestamp(at: number): string {
  return new Date(at)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '');
}

/**
 * MultiSite's names: update packets `sync_<replica>_<timestamp>_<pid>_<seq>`, creation packets
 * `repl_<replica>_<timestamp>_<pid>_<seq>`, e.g. `sync_boston_hub_2026-11-22T095226Z_4711_12`.
 * The replica is the exporting one; characters unsafe in file names become '-'.
 */
export function packetFileName(kind: PacketKind, replicaName: string, at: number, seq: number): string {
  if (!Number.isFinite(at)) throw new RangeError(`packet time ${at} is not a time`);
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`packet sequence number ${seq} is not a non-negative integer`);
  return `${PREFIX[kind]}_${fileSafe(replicaName)}_${packetTimestamp(at)}_${process.pid}_${seq}`;
}

export interface PacketFileNameParts {
  kind: PacketKind;
  replica: string;
  timestamp: string;
  pid: number;
  seq: number;
}

/** The parts of a packet file name, or undefined for any other name (temp files, shipping orders...). */
export function parsePacketFileName(name: string): PacketFileNameParts | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return { kind: m[1] === 'repl' ? 'creation' : 'update', replica: m[2]!, timestamp: m[3]!, pid: Number(m[4]), seq: Number(m[5]) };
}

/** True for names packetFileName makes; false for temp files (`.sync_...~msite-tmp~...`), orders (`sh_o_...`) and the rest. */
export function isPacketFileName(name: string): boolean {
  return NAME.test(name);
}
