import { pack, unpack } from 'msgpackr';
import { packStrings } from '../../core/packedStrings.js';
import { InvalidInputError, MsiteError, StateError } from '../../core/errors.js';
import type { OplogId, ReplicaOid } from '../../core/ids.js';
import { assertComment } from '../names.js';
import { replicaName } from '../queries.js';
import type { Vob } from '../vob.js';
import type { OpDefinition } from './defineOp.js';
import { contentOf, isOpKind, OPS, type OpInput, type OpKind } from './registry.js';

/** One oplog entry: a change, where it was made, its place in that replica's oplog, and when. */
export interface OplogEntry {
  origin: ReplicaOid;
  id: OplogId;
  kind: OpKind;
  data: unknown;
  at: number;
  /**
   * Imported ops: the bytes the origin's oplog holds for `data`, fields by position. Stored as they
   * are when the parsed data is field for field what they hold, instead of being encoded again.
   */
  stored?: Uint8Array;
}

/**
 * The order of each op kind's fields in the oplog: its schema's key order. Ops are stored as arrays
 * in that order, so a field name is not repeated in every row; new fields go at the end, and
 * existing ones are never reordered or removed.
 */
const FIELDS = new Map<string, string[] | undefined>(
  Object.entries(OPS).map(([kind, def]) => {
    const shape = (def.schema as unknown as { shape?: Record<string, unknown> }).shape;
    return [kind, shape ? Object.keys(shape) : undefined];
  }),
);

function fieldsOf(kind: string): string[] | undefined {
  return FIELDS.get(kind);
}

/**
 * Op data as the oplog stores it: msgpack, OIDs and hashes as bytes, fields by position. Data that
 * did not pass its schema (a discarded op, kept to forward) is stored whole, as a map.
 */
export function encodeOpData(kind: string, data: unknown, options: { validated: boolean }): Buffer {
  const fields = options.validated ? fieldsOf(kind) : undefined;
  if (!fields || typeof data !== 'object' || data === null) return pack(packStrings(data));
  return pack(packStrings(fields.map((f) => (data as Record<string, unknown>)[f])));
}

/** Reads op data written by encodeOpData, or by older versions that stored a map. */
export function decodeOpData(kind: string, stored: Uint8Array): unknown {
  return opDataFromStored(kind, unpack(stored) as unknown);
}

/** Whether `value` (decoded op data) holds exactly one element per field of `kind`, by position. */
export function isPositional(kind: string, value: unknown): boolean {
  return Array.isArray(value) && value.length === fieldsOf(kind)?.length;
}

/**
 * Op data from the decoded msgpack value encodeOpData wrote: fields by position back to an object
 * (anything else, a discarded op's data, as it is). Update packets carry op data in this form.
 */
export function opDataFromStored(kind: string, value: unknown): unknown {
  const fields = Array.isArray(value) ? fieldsOf(kind) : undefined;
  if (!fields) return value;
  const out: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    if ((value as unknown[])[i] !== undefined) out[f] = (value as unknown[])[i];
  });
  return out;
}

/** The highest oplog id from `origin` this replica has applied (its own epoch row). */
export function actualOf(vob: Vob, origin: string): number {
  return (vob.q('SELECT id FROM epoch WHERE replica = ? AND origin = ?').pluck().get(vob.self, origin) as number | undefined) ?? 0;
}

/**
 * Makes a change at this replica: validates and applies op `kind` and appends its oplog entry with
 * the next dense id, in one transaction (a savepoint inside a caller's transaction). The one write
 * path for local commands.
 */
export function applyLocal<K extends OpKind>(vob: Vob, kind: K, data: OpInput<K>): OplogEntry {
  return applyLocalMany(vob, [{ kind, data }])[0]!;
}

/**
 * Makes several changes at this replica as consecutive oplog entries, in one transaction: all of
 * them, or none. Each op is validated and applied exactly as applyLocal does it; the epoch row is
 * written once for the lot, which is what makes it the bulk path (importVersions).
 */
export function applyLocalMany(vob: Vob, ops: readonly { kind: OpKind; data: unknown }[]): OplogEntry[] {
  // Checked here, where text enters this replica; a sibling's ops are its own and are applied as sent.
  for (const op of ops) {
    const comment = (op.data as { comment?: unknown } | null)?.comment;
    if (typeof comment === 'string') assertComment(comment);
  }
  return vob.transaction(() => {
    if (vob.meta('restoring')) {
      throw new StateError(`replica ${vob.tag} is being restored: only imports may change it until every sibling has answered`, {
        hint: "import the siblings' packets, or finish with restorereplica --override",
      });
    }
    const origin = vob.self;
    let id = actualOf(vob, origin);
    const entries: OplogEntry[] = ops.map((op) => ({ origin, id: ++id as OplogId, kind: op.kind, data: op.data, at: vob.clock.now() }));
    // A refused run is applied again op by op, so the refusal thrown is the one op's own.
    for (const run of runsOf(entries)) if (!applyRun(vob, run, false)) for (const entry of run) applyOne(vob, entry, false);
    if (entries.length) setActual(vob, origin, id);
    return entries;
  });
}

/** Longest stretches of consecutive entries of one kind that has applyRun (others alone), at most MAX_RUN long. */
function* runsOf(entries: readonly OplogEntry[]): Generator<OplogEntry[]> {
  let run: OplogEntry[] = [];
  for (const entry of entries) {
    const batchable = isOpKind(entry.kind) && OPS[entry.kind].applyRun !== undefined;
    if (run.length && (!batchable || run[0]!.kind !== entry.kind || run.length === MAX_RUN)) {
      yield run;
      run = [];
    }
    if (batchable) run.push(entry);
    else yield [entry];
  }
  if (run.length) yield run;
}

/**
 * Ops applied together by applyRun at most. A run is one savepoint, so its size bounds the pages a
 * refusal takes back and then does again op by op; a run reads each branch it touches once, so
 * longer runs read less (measured on 100k versions of 1,000 files: a quarter of the branch reads
 * at 16k a run against 4k).
 */
export const MAX_RUN = 16_384;

/** Thrown inside a run's savepoint to take the run back when one of its ops would be refused. */
class RunRefused extends Error {}

/**
 * Applies a run of entries of one kind through the kind's applyRun, appending their oplog entries,
 * in one savepoint. False (nothing written) when the run must go op by op instead: a single entry,
 * a kind without applyRun, malformed data, or an op applyRun says would be refused.
 */
function applyRun(vob: Vob, entries: readonly OplogEntry[], imported: boolean): boolean {
  const def = entries.length > 1 && isOpKind(entries[0]!.kind) ? (OPS[entries[0]!.kind] as unknown as OpDefinition) : undefined;
  if (!def?.applyRun) return false;
  const applyRunOf = def.applyRun;
  try {
    vob.transaction(() => {
      const items = entries.map((e) => {
        const parsed = def.schema.safeParse(e.data);
        if (!parsed.success) throw new RunRefused();
        return { origin: e.origin, at: e.at, data: parsed.data };
      });
      try {
        applyRunOf({ vob, imported }, items);
      } catch (err) {
        if (err instanceof MsiteError && !err.transient) throw new RunRefused();
        throw err;
      }
      entries.forEach((e, n) => appendOplog(vob, e, items[n]!.data));
    });
    return true;
  } catch (err) {
    if (err instanceof RunRefused) return false;
    throw err;
  }
}

/** What importing one entry did here. */
export type ImportOutcome = { status: 'applied' } | { status: 'discarded'; reason: string };

/**
 * Applies an entry made at another replica, through the same op functions. Its id must be the next
 * one from its origin; the caller (import) skips what is already applied and orders the rest.
 * An entry that cannot apply here (its object was removed here, its origin was not master) is
 * recorded as discarded with the reason, keeping the origin's ids dense; only a transient failure
 * (I/O) is thrown, so the caller can keep the whole packet for later.
 */
export function applyImported(
  vob: Vob,
  entry: OplogEntry,
  options: { warn?: (message: string) => void; /** The caller has checked the id is the next one. */ nextChecked?: boolean } = {},
): ImportOutcome {
  if (!options.nextChecked) {
    const expected = actualOf(vob, entry.origin) + 1;
    if (entry.id !== expected) {
      throw new StateError(`op ${entry.id} from ${replicaName(vob, entry.origin)} cannot apply: this replica has ${expected - 1} from it`, {
        data: { origin: entry.origin, id: entry.id, actual: expected - 1 },
      });
    }
  }
  try {
    // The op's own savepoint: a refusal takes back whatever the op had written.
    vob.transaction(() => {
      applyOne(vob, entry, true, options.warn);
      setActual(vob, entry.origin, entry.id);
    });
    return { status: 'applied' };
  } catch (err) {
    if (!(err instanceof MsiteError) || err.transient) throw err;
    const reason = err.toLine();
    vob
      .q('INSERT INTO oplog (origin, id, kind, data, at, discarded, content) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(
        vob.originIndex(entry.origin),
        entry.id,
        String(entry.kind),
        encodeOpData(String(entry.kind), entry.data, { validated: false }),
        entry.at,
        reason,
        contentKey(String(entry.kind), entry.data, { validated: false }),
      );
    setActual(vob, entry.origin, entry.id);
    return { status: 'discarded', reason };
  }
}

/**
 * Applies consecutive entries from other replicas, each the next from its origin, as applyImported
 * would one by one: a run of one kind goes in at once through the kind's applyRun when none of it
 * would be refused, and otherwise op by op, each refusal recorded as a discarded op.
 */
export function applyImportedMany(
  vob: Vob,
  entries: readonly OplogEntry[],
  options: {
    warn?: (message: string) => void;
    /** Told of each entry's outcome, in order, as it happens (so warnings keep their order). */
    onOutcome?: (entry: OplogEntry, outcome: ImportOutcome) => void;
  } = {},
): void {
  const applied: ImportOutcome = { status: 'applied' };
  for (const run of runsOf(entries)) {
    if (applyRun(vob, run, true)) {
      const last = new Map<string, number>();
      for (const e of run) last.set(e.origin, e.id);
      for (const [origin, id] of last) setActual(vob, origin, id);
      for (const e of run) options.onOutcome?.(e, applied);
    } else {
      for (const e of run) options.onOutcome?.(e, applyImported(vob, e, { warn: options.warn, nextChecked: true }));
    }
  }
}

function setActual(vob: Vob, origin: string, id: number): void {
  vob
    .q('INSERT INTO epoch (replica, origin, id) VALUES (?, ?, ?) ON CONFLICT (replica, origin) DO UPDATE SET id = excluded.id')
    .run(vob.self, origin, id);
}

function applyOne(vob: Vob, entry: OplogEntry, imported: boolean, warn?: (message: string) => void): void {
  if (!isOpKind(entry.kind)) throw new InvalidInputError(`unknown op kind "${String(entry.kind)}"`);
  const def = OPS[entry.kind] as unknown as OpDefinition;
  const parsed = def.schema.safeParse(entry.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      `malformed ${entry.kind} op: ${issue ? `${issue.path.join('.') || 'data'}: ${issue.message}` : 'invalid data'}`,
    );
  }
  def.apply({ vob, origin: entry.origin, at: entry.at, imported, warn }, parsed.data);
  appendOplog(vob, entry, parsed.data);
}

function appendOplog(vob: Vob, entry: OplogEntry, parsed: unknown): void {
  const data =
    entry.stored && sameFields(entry.kind, parsed, entry.data) ? entry.stored : encodeOpData(entry.kind, parsed, { validated: true });
  vob
    .q('INSERT INTO oplog (origin, id, kind, data, at, content) VALUES (?, ?, ?, ?, ?, ?)')
    .run(vob.originIndex(entry.origin), entry.id, entry.kind, data, entry.at, contentKey(entry.kind, parsed, { validated: true }));
}

/** Parsed data equal, field for field, to the data it was parsed from (no default filled in, nothing changed). */
function sameFields(kind: string, parsed: unknown, data: unknown): boolean {
  const fields = fieldsOf(kind);
  if (!fields || typeof parsed !== 'object' || parsed === null || typeof data !== 'object' || data === null) return false;
  for (const f of fields) if ((parsed as Record<string, unknown>)[f] !== (data as Record<string, unknown>)[f]) return false;
  return true;
}

/**
 * The oplog's content column for an op: the 32 bytes of the SHA-256 it names, or null. Data that
 * passed its kind's schema names a well-formed SHA-256 already; only a discarded op's raw data is
 * checked here.
 */
function contentKey(kind: string, data: unknown, options: { validated: boolean }): Buffer | null {
  const sha = contentOf(kind, data);
  if (sha === undefined) return null;
  return options.validated || /^[0-9a-f]{64}$/.test(sha) ? Buffer.from(sha, 'hex') : null;
}

/** Oplog entries in local application order (which is causal), optionally from `seq` on. */
export function readOplog(vob: Vob, options: { sinceAt?: number } = {}): (OplogEntry & { seq: number; discarded: string | null })[] {
  const rows = vob
    .q('SELECT seq, origin, id, kind, data, at, discarded FROM oplog WHERE at >= ? ORDER BY seq')
    .all(options.sinceAt ?? 0) as {
    seq: number;
    origin: number;
    id: OplogId;
    kind: OpKind;
    data: Buffer;
    at: number;
    discarded: string | null;
  }[];
  return rows.map((r) => ({ ...r, origin: vob.originOid(r.origin) as ReplicaOid, data: decodeOpData(r.kind, r.data) }));
}
