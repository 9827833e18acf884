import { masteredObject } from '../mastership.js';
import { readOplog, type OplogEntry } from '../ops/applyOp.js';
import type { OpData } from '../ops/registry.js';
import { branchPath, elementPath, getBranch, getCheckout, getType, getVersion, replicaName, versionId } from '../queries.js';
import type { Vob } from '../vob.js';

export interface HistoryEntry {
  kind: string;
  /** Name of the replica that made the change (or that the sync record concerns). */
  origin: string;
  /** Oplog id at the origin; null for export and import records. */
  id: number | null;
  at: string;
  summary: string;
  data: unknown;
  discarded?: string;
  /** Export and import records: the epoch row at that moment, by replica name. */
  row?: Record<string, number>;
}

function name(vob: Vob, oid: string): string {
  const v = getVersion(vob, oid);
  if (v) return `version "${elementPath(vob, getBranch(vob, v.branch)!.element)}@@${versionId(vob, v)}"`;
  try {
    return masteredObject(vob, oid).description;
  } catch {
    return `object ${oid}`;
  }
}

/** One line saying what an op did, in today's names (names may have changed since). */
export function summarize(vob: Vob, entry: Pick<OplogEntry, 'kind' | 'data'>): string {
  const d = entry.data as Record<string, unknown>;
  switch (entry.kind) {
    case 'mkreplica': {
      const x = d as OpData<'mkreplica'>;
      return `created replica "${replicaName(vob, x.replica)}" on host ${x.host}`;
    }
    case 'mktype': {
      const x = d as OpData<'mktype'>;
      return `created ${x.kind} "${getType(vob, x.type)?.name ?? x.name}"`;
    }
    case 'rename':
      return `renamed ${name(vob, (d as OpData<'rename'>).object)}`;
    case 'rmtype':
      return `removed type ${(d as OpData<'rmtype'>).type}`;
    case 'lock':
      return `locked ${(d as OpData<'lock'>).obsolete ? 'as obsolete ' : ''}${name(vob, (d as OpData<'lock'>).object)}`;
    case 'unlock':
      return `unlocked ${name(vob, (d as OpData<'unlock'>).object)}`;
    case 'mkelem': {
      const x = d as OpData<'mkelem'>;
      return `created ${x.kind} element "${x.parentCheckout === null ? '.' : elementPath(vob, x.element)}"`;
    }
    case 'checkout':
    case 'uncheckout': {
      const x = d as { branch?: string; checkout: string };
      const branch = getBranch(vob, x.branch ?? getCheckout(vob, x.checkout)?.branch ?? '');
      const where = branch ? `"${elementPath(vob, branch.element)}@@${branchPath(vob, branch)}"` : 'a branch';
      return entry.kind === 'checkout'
        ? `checked out ${(d as OpData<'checkout'>).reserved ? 'reserved' : 'unreserved'} ${where}`
        : `cancelled a checkout`;
    }
    case 'checkin':
    case 'mkversion': {
      const x = d as OpData<'checkin' | 'mkversion'>;
      const v = getVersion(vob, x.version);
      const word = entry.kind === 'checkin' ? 'checked in' : 'created version';
      return v ? `${word} "${elementPath(vob, getBranch(vob, v.branch)!.element)}@@${versionId(vob, v)}"` : `${word} version ${x.number}`;
    }
    case 'importelem': {
      const x = d as OpData<'importelem'>;
      return `created ${x.kind} element "${elementPath(vob, x.element)}"`;
    }
    case 'mkdirversion': {
      const x = d as OpData<'mkdirversion'>;
      const v = getVersion(vob, x.version);
      return v
        ? `created directory version "${elementPath(vob, getBranch(vob, v.branch)!.element)}@@${versionId(vob, v)}"`
        : `created directory version ${x.number}`;
    }
    case 'mkbranch': {
      const x = d as OpData<'mkbranch'>;
      const b = getBranch(vob, x.branch);
      return b ? `created branch "${elementPath(vob, b.element)}@@${branchPath(vob, b)}"` : 'created a branch';
    }
    case 'mklabel':
    case 'rmlabel': {
      const x = d as OpData<'mklabel'>;
      return `${entry.kind === 'mklabel' ? 'attached' : 'removed'} label "${getType(vob, x.lbtype)?.name ?? x.lbtype}" ${entry.kind === 'mklabel' ? 'to' : 'from'} ${name(vob, x.version)}`;
    }
    case 'mkattr': {
      const x = d as OpData<'mkattr'>;
      return `set attribute ${getType(vob, x.attype)?.name ?? x.attype}=${JSON.stringify(x.value)} on ${name(vob, x.object)}`;
    }
    case 'mkhlink': {
      const x = d as OpData<'mkhlink'>;
      return `created hyperlink ${getType(vob, x.hltype)?.name ?? x.hltype} from ${name(vob, x.from)} to ${name(vob, x.to)}`;
    }
    case 'chmaster': {
      const x = d as OpData<'chmaster'>;
      return `gave mastership of ${name(vob, x.object)} to ${x.master ? `replica "${replicaName(vob, x.master)}"` : 'its branch type (default)'}`;
    }
    default:
      return entry.kind;
  }
}

/**
 * The VOB's history from its oplog, oldest first, with the export and import records
 * ("row at export/import") interleaved by time.
 */
export function lshistory(vob: Vob, options: { since?: number } = {}): HistoryEntry[] {
  const ops: HistoryEntry[] = readOplog(vob, { sinceAt: options.since }).map((e) => ({
    kind: e.kind,
    origin: replicaName(vob, e.origin),
    id: e.id,
    at: new Date(e.at).toISOString(),
    summary: summarize(vob, e),
    data: e.data,
    ...(e.discarded ? { discarded: e.discarded } : {}),
  }));
  const records = vob.q('SELECT kind, replica, at, row, packet FROM sync_record WHERE at >= ? ORDER BY seq').all(options.since ?? 0) as {
    kind: string;
    replica: string;
    at: number;
    row: string;
    packet: string | null;
  }[];
  const syncs: HistoryEntry[] = records.map((r) => {
    const row = Object.fromEntries(Object.entries(JSON.parse(r.row) as Record<string, number>).map(([o, n]) => [replicaName(vob, o), n]));
    const word = r.kind === 'export' ? 'export' : 'import';
    return {
      kind: `${word}_sync`,
      origin: replicaName(vob, r.replica),
      id: null,
      at: new Date(r.at).toISOString(),
      summary: `${word === 'export' ? 'exported to' : 'imported from'} replica "${replicaName(vob, r.replica)}". Row at ${word} was: ${Object.entries(
        row,
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
      data: { packet: r.packet },
      row,
    };
  });
  return [...ops, ...syncs].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}
