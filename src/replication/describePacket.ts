import { MsiteError } from '../core/errors.js';
import { readPacket } from '../packet/packetFile.js';
import { PACKET_FORMAT } from '../packet/packetTypes.js';
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
export function describePacket(vob: Vob, a: PacketAssessment, options: { dump?: boolean; shownAs?: string } = {}): PacketDescription {
  const h = a.header;
  const shown = options.shownAs ?? a.path;
  const named = (row: Record<string, number>) => Object.fromEntries(Object.entries(row).map(([o, id]) => [replicaName(vob, o), id]));
  let ops: { origin: string; id: number; kind: string }[] | undefined;
  let dumpError: string | undefined;
  if (options.dump && h) {
    try {
      ops = readPacket(a.path, (o) => getReplica(vob, o)?.public_key ?? undefined).body.ops.map((op) => ({
        origin: replicaName(vob, op.origin),
        id: op.id,
        kind: op.kind,
      }));
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
        lines.push(`Packet format: ${PACKET_FORMAT.major}.${PACKET_FORMAT.minor}`);
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
export function describePackets(
  vob: Vob,
  paths: readonly string[],
  options: { dump?: boolean; opened?: OpenedPackets } = {},
): PacketDescription[] {
  const opened = options.opened ?? OpenedPackets.none;
  return expandPacketPaths(paths).map((p) => {
    const refusal = opened.refusal(p);
    if (refusal !== undefined) return describePacket(vob, { path: p, state: 'refused', reason: refusal, header: undefined });
    return describePacket(vob, assessPacket(vob, opened.readable(p)), { ...options, shownAs: p });
  });
}
