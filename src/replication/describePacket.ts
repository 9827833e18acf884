import { MsiteError } from '../core/errors.js';
import { readPacketHeaderInfo, readPacketStream } from '../packet/packetFile.js';
import { getReplica, replicaName } from '../vob/queries.js';
import type { Vob } from '../vob/vob.js';
import { assessPacket, expandPacketPaths, type PacketAssessment } from './importPackets.js';
import { OpenedPackets } from './openedPackets.js';

export interface PacketDescription {
  json: Record<string, unknown>;
  text(long: boolean): string;
}

/**
 * What lspacket shows of one packet: its header in names known here, and whether (and why not) it
 * is importable here, by the same test import uses. `dump` also lists every op (reading the body).
 */
export async function describePacket(
  vob: Vob,
  a: PacketAssessment,
  options: { dump?: boolean; shownAs?: string } = {},
): Promise<PacketDescription> {
  const h = a.header;
  const shown = options.shownAs ?? a.path;
  const named = (row: Record<string, number>) => Object.fromEntries(Object.entries(row).map(([o, id]) => [replicaName(vob, o), id]));
  let ops: { origin: string; id: number; kind: string }[] | undefined;
  let dumpError: string | undefined;
  let format: { major: number; minor: number } | undefined;
  if (h) {
    try {
      format = readPacketHeaderInfo(a.path).format;
    } catch {
      // Said by the assessment already.
    }
  }
  if (options.dump && h) {
    try {
      // Read as a stream, as an import reads it (verified the same way): only the ops are kept.
      const found: { origin: string; id: number; kind: string }[] = [];
      const skip = async (): Promise<void> => {};
      await readPacketStream(a.path, (o) => getReplica(vob, o)?.public_key ?? undefined, {
        ops(batch) {
          for (const op of batch) found.push({ origin: replicaName(vob, op.origin), id: op.id, kind: op.kind });
        },
        small() {},
        delta() {},
        blob: skip,
        stored: skip,
        database: skip,
        databasePart: skip,
        poolFile: skip,
        replicaKey() {},
      });
      ops = found;
    } catch (err) {
      dumpError = err instanceof MsiteError ? err.message : String(err);
    }
  }
  const importable = a.state === 'importable';
  const json: Record<string, unknown> = {
    path: shown,
    kind: h?.kind ?? null,
    family: h?.family ?? null,
    origin: h?.originName ?? null,
    targets: h?.targets.map((t) => t.name) ?? [],
    sequence: h?.sequence ?? null,
    fragment: h ? `${h.fragment.index} of ${h.fragment.count}` : null,
    ranges: h ? Object.fromEntries(Object.entries(h.ranges).map(([o, r]) => [replicaName(vob, o), r])) : {},
    requires: h ? named(h.requires) : {},
    importable,
    state: a.state,
    reason: a.reason ?? null,
    ...(h
      ? {
          packet: h.packet,
          opCount: h.opCount,
          senderRow: named(h.senderRow),
          incarnation: h.incarnation,
          createdAt: new Date(h.createdAt).toISOString(),
          comment: h.comment,
        }
      : {}),
    ...(ops ? { ops } : {}),
    ...(dumpError ? { dumpError } : {}),
  };
  return {
    json,
    text(long) {
      if (!h) return `Packet is: ${shown}\nCannot read it: ${a.reason}`;
      const lines = [
        `Packet is: ${shown}`,
        `Packet type: ${h.kind === 'creation' ? 'Replica Creation' : 'Update'}`,
        `VOB family identifier is: ${h.family}`,
        `Comment supplied at packet creation is: ${h.comment}`,
        'Packet intended for the following targets:',
        ...h.targets.map(
          (t) => `  ${t.name}${t.oid === vob.self ? ` [ local to this site ] tag: ${vob.tag}${importable ? '   *' : ''}` : ''}`,
        ),
        `The packet sequence number is ${h.sequence}`,
        `Packet fragment: ${h.fragment.index} of ${h.fragment.count}`,
        `Packet identifier is: ${h.packet}`,
        importable ? 'Importable here: yes' : `Importable here: no (${a.state}: ${a.reason})`,
      ];
      if (long) {
        lines.push(`Originating replica is ${h.originName} (${h.origin})`);
        for (const [o, [first, last]] of Object.entries(h.ranges)) lines.push(`  oplog ids ${first}-${last} from ${replicaName(vob, o)}`);
        lines.push(
          `Requires: ${
            Object.entries(named(h.requires))
              .map(([o, id]) => `${o}=${id}`)
              .join(' ') || 'nothing'
          }`,
        );
        lines.push(
          `Sender row: ${Object.entries(named(h.senderRow))
            .map(([o, id]) => `${o}=${id}`)
            .join(' ')}`,
        );
        lines.push(`Sender incarnation: ${new Date(h.incarnation).toISOString()}`);
        if (format) lines.push(`Packet format: ${format.major}.${format.minor}`);
      }
      if (ops) {
        ops.forEach((op, i) => lines.push(`${i + 1}: op=${op.kind} rep=${op.origin} id=${op.id}`));
        lines.push(`Packet contains a total of ${ops.length} entries.`);
      }
      if (dumpError) lines.push(`Cannot list its entries: ${dumpError}`);
      return lines.join('\n');
    },
  };
}

/**
 * `lspacket`: each packet in `paths` (packet files, or directories of them) as this replica sees it;
 * a sealed one through its opened copy, under its own name.
 */
export async function describePackets(
  vob: Vob,
  paths: readonly string[],
  options: { dump?: boolean; opened?: OpenedPackets } = {},
): Promise<PacketDescription[]> {
  const opened = options.opened ?? OpenedPackets.none;
  const out: PacketDescription[] = [];
  for (const p of expandPacketPaths(paths)) {
    const refusal = opened.refusal(p);
    if (refusal !== undefined) out.push(await describePacket(vob, { path: p, state: 'refused', reason: refusal, header: undefined }));
    else out.push(await describePacket(vob, assessPacket(vob, opened.readable(p)), { ...options, shownAs: p }));
  }
  return out;
}
