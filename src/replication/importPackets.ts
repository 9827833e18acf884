import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InvalidInputError, MsiteError } from '../core/errors.js';
import type { OplogId, ReplicaOid } from '../core/ids.js';
import type { ProgressListener } from '../core/progress.js';
import { PacketError } from '../packet/packetError.js';
import { isPacketFileName, readPacketHeader, readPacketStream } from '../packet/packetFile.js';
import { applyDelta, DELTA_BYTES_PER_BODY } from '../packet/packetStream.js';
import { DELTA_MAX } from './exportUpdate.js';
import { verifyPacketHeader } from '../packet/verifyPacketHeader.js';
import type { PacketHeader, WireOp } from '../packet/packetTypes.js';
import { sha256Hex } from '../core/sha256.js';
import { CHUNK_BYTES, DELTA_DEPTH, type StagedBlob } from '../vob/contentPool.js';
import { applyImportedMany, isPositional, opDataFromStored, type OplogEntry } from '../vob/ops/applyOp.js';
import type { OpKind } from '../vob/ops/registry.js';
import { getReplica, replicaName } from '../vob/queries.js';
import type { Vob } from '../vob/vob.js';
import { actualRow, type EpochRow } from './epochs.js';
import { learnFromHeader } from './learnFromHeader.js';
import { OpenedPackets } from './openedPackets.js';

/**
 * What an import can do with a packet here:
 * - importable: everything it needs is applied; its new ops can apply now
 * - already-applied: every op in it is applied here (re-import is a no-op)
 * - deferred: it needs ops this replica has not applied yet; left in place for a later import
 * - not-applicable: addressed to no replica here; left in place
 * - refused: damaged, forged, from another family or an old incarnation; left in place
 */
export const PACKET_STATES = ['importable', 'already-applied', 'deferred', 'not-applicable', 'refused'] as const;
export type PacketState = (typeof PACKET_STATES)[number];

export interface PacketAssessment {
  path: string;
  state: PacketState;
  reason: string | undefined;
  header: PacketHeader | undefined;
}

export interface PacketOutcome extends PacketAssessment {
  /** `applied` once its ops went in; otherwise the state it was left in. */
  result: 'applied' | Exclude<PacketState, 'importable'>;
  applied: number;
  skipped: number;
  discarded: number;
  warnings: string[];
}

function lack(vob: Vob, requires: EpochRow, actual: EpochRow): string | undefined {
  const missing = Object.entries(requires)
    .filter(([o, id]) => (actual[o] ?? 0) < id)
    .map(([o, id]) => `requires ops up to ${id} from ${replicaName(vob, o)}; this replica has ${actual[o] ?? 0}`);
  return missing.length ? missing.join('; ') : undefined;
}

/**
 * Decides from the header alone what importing `path` would do here. Import and lspacket both use
 * this one test, so lspacket's "importable" always agrees with what syncreplica does.
 */
export function assessPacket(vob: Vob, path: string, actual: EpochRow = actualRow(vob)): PacketAssessment {
  let header: PacketHeader;
  try {
    header = readPacketHeader(path);
  } catch (err) {
    return { path, state: 'refused', reason: err instanceof MsiteError ? err.message : String(err), header: undefined };
  }
  const refuse = (reason: string): PacketAssessment => ({ path, state: 'refused', reason, header });
  // Packets for another VOB, or creation packets, are not this import's to judge (a bay holds
  // packets for every VOB of the site): not applicable here, not refused.
  const elsewhere = (reason: string): PacketAssessment => ({ path, state: 'not-applicable', reason, header });
  if (header.family !== vob.family)
    return elsewhere(`packet belongs to VOB family ${header.family}, not to this VOB's family ${vob.family}`);
  // Verify the signature before trusting anything else the header says (targets, ranges, rows).
  const sender = getReplica(vob, header.origin);
  if (!sender?.public_key) return refuse(`packet is signed by replica ${header.originName} (${header.origin}), which is unknown here`);
  try {
    verifyPacketHeader(path, () => sender.public_key ?? undefined);
  } catch (err) {
    if (!(err instanceof MsiteError) || err.transient) throw err;
    return refuse(err.message);
  }
  if (header.kind === 'creation') return elsewhere('this is a replica-creation packet: import it with msite mkreplica --import');
  if (!header.targets.some((t) => t.oid === vob.self)) {
    return elsewhere(`Packet is not applicable to any local replicas (it is for ${header.targets.map((t) => t.name).join(', ')})`);
  }
  const known = vob.q('SELECT value FROM incarnation WHERE replica = ?').pluck().get(header.origin) as number | undefined;
  if (known !== undefined && header.incarnation < known) {
    return refuse(
      `Replica incarnation for "${sender.name}" is old: ${new Date(header.incarnation).toISOString()} should be ${new Date(known).toISOString()}`,
    );
  }
  const allApplied = Object.entries(header.ranges).every(([o, [, last]]) => (actual[o] ?? 0) >= last);
  if (allApplied) return { path, state: 'already-applied', reason: 'already applied: every op in it is applied here', header };
  const missing = lack(vob, header.requires, actual);
  if (missing) return { path, state: 'deferred', reason: missing, header };
  return { path, state: 'importable', reason: undefined, header };
}

/** Packet files named on the command line: files as given, directories expanded to the packets in them. */
export function expandPacketPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (existsSync(p) && statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) if (isPacketFileName(name)) out.push(join(p, name));
    } else {
      out.push(p);
    }
  }
  return out;
}

/** Ops applied between two progress reports: often enough for a person, rarely enough to cost nothing. */
const PROGRESS_EVERY = 1024;

/**
 * Blobs of a packet up to this size are held in memory as they are read (the pool would hold them in
 * memory when staged too), up to HOLD_BYTES in all; bigger ones are staged in pool files.
 */
const HOLD_BLOB_BYTES = CHUNK_BYTES;
/** Held blobs are stored, in a transaction of their own, whenever they reach this many bytes. */
const HOLD_BYTES = 32 * 1024 * 1024;
/**
 * The most bytes of delta bases kept in memory as they are staged (more are read back from the
 * pool): one base of the largest size a delta is made for, so an import's peak stays under 256 MB.
 */
const KEEP_BYTES = DELTA_MAX;

/** A buffer in chunks of CHUNK_BYTES, as the pool's stage takes content. */
async function* chunksOf(bytes: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) yield bytes.subarray(at, at + CHUNK_BYTES);
}

/**
 * Reads, verifies and applies one packet. Its big blobs are staged in pool files as they are read,
 * small ones held, and its ops held; once the whole body is read and matches its signed header, one
 * transaction records the blobs and applies the ops. A failure or a kill before that commit leaves
 * the VOB as it was (staged files are the pool's to clear), and a re-run starts over. Blobs that
 * come in the sender pool's stored form are staged as they are (deflated or raw), inflated only to
 * be hashed; blobs that come as deltas are made once the body is read (their bases may follow
 * them), each checked against its SHA-256 before it is staged.
 *
 * When the small blobs of a packet add up to more than HOLD_BYTES, they go into the pool in steps, a
 * transaction each, before the body is checked: each was checked against its own SHA-256, nothing
 * refers to it until the ops commit, and a re-run finds it there and skips it. The ops, the only
 * part that changes what the VOB holds, still go in as one transaction after the check.
 */
async function applyPacket(
  vob: Vob,
  a: PacketAssessment,
  warn: (m: string) => void,
  onProgress: ProgressListener | undefined,
): Promise<Omit<PacketOutcome, keyof PacketAssessment | 'result' | 'warnings'>> {
  // Reading and verifying the packet count too: that is the import's time as an administrator sees it.
  const started = performance.now();
  const step = `applying ${basename(a.path)}`;
  const total = a.header?.opCount ?? 0;
  onProgress?.({ step, done: 0, total, unit: 'ops' });
  const ops: WireOp[] = [];
  const held: { sha: string; bytes: Uint8Array }[] = [];
  const staged: StagedBlob[] = [];
  // Blobs of this packet not in the pool yet, by SHA: the bases of its deltas.
  const heldBySha = new Map<string, Uint8Array>();
  const stagedBySha = new Map<string, StagedBlob>();
  const deltas: { sha: string; size: number; base: string; delta: Buffer }[] = [];
  let deltaBytes = 0;
  // Bases of the deltas, by how many deltas use each, and those kept in memory as they were staged.
  const baseUses = new Map<string, number>();
  const kept = new Map<string, Buffer>();
  let keptBytes = 0;
  let heldBytes = 0;
  let committed = false;
  const damaged = (why: string): PacketError =>
    new PacketError('checksum', a.path, `packet ${a.path} is damaged: ${why}`, { hint: 'ask the sender to resend it' });
  // A held blob is a view of the buffer it was read into (no copy per blob): what it holds in memory
  // is that buffer, counted once. No look-up first: storing a blob the pool has costs no more than
  // asking whether it has it.
  let lastBuffer: ArrayBufferLike | undefined;
  const hold = (sha: string, bytes: Uint8Array): void => {
    held.push({ sha, bytes });
    heldBySha.set(sha, bytes);
    if (bytes.buffer !== lastBuffer) {
      lastBuffer = bytes.buffer;
      heldBytes += bytes.buffer.byteLength;
    }
    if (heldBytes >= HOLD_BYTES) {
      vob.transaction(() => vob.pool.putManyWithHash(held));
      held.length = 0;
      heldBySha.clear();
      heldBytes = 0;
    }
  };
  const stage = (s: StagedBlob): void => {
    staged.push(s);
    stagedBySha.set(s.sha, s);
  };
  try {
    const header = await readPacketStream(a.path, (origin) => getReplica(vob, origin)?.public_key ?? undefined, {
      ops(batch) {
        for (const op of batch) ops.push(op);
      },
      small(sha, bytes) {
        hold(sha, bytes);
      },
      async blob(sha, size, bytes) {
        if (vob.pool.contains(sha)) return;
        if (size <= HOLD_BLOB_BYTES) {
          const parts: Buffer[] = [];
          for await (const part of bytes) parts.push(part);
          // A copy of its own size: the parts are views of the decompressor's larger buffers.
          const whole = Buffer.concat(parts, size);
          if (sha256Hex(whole) !== sha) throw damaged(`content ${sha} does not have that SHA-256`);
          hold(sha, whole);
        } else stage(await vob.pool.stage(bytes, { expectedSha: sha }));
      },
      async stored(sha, size, deflated, storedLength, bytes) {
        // Kept as it came (deflated or raw), as the sender's pool kept it: nothing is compressed again.
        if (vob.pool.contains(sha)) return;
        // A delta's base (its record came first) is kept as it passes, so it need not be read back.
        const keep = (baseUses.get(sha) ?? 0) > 0 && size <= DELTA_MAX && keptBytes + size <= KEEP_BYTES;
        // Copied into one buffer of its size as it passes (chunks and their concatenation would be twice it).
        const into = keep ? Buffer.allocUnsafe(size) : undefined;
        let at = 0;
        const onContent = (c: Buffer): void => {
          at += c.copy(into!, at);
        };
        stage(await vob.pool.stageStored(bytes, { sha, size, deflated, storedLength }, into ? { onContent } : {}));
        if (into) {
          kept.set(sha, into);
          keptBytes += size;
        }
      },
      delta(sha, size, base, delta) {
        // A version made from a delta is whole in memory: no bigger than an export makes one of.
        if (size > DELTA_MAX)
          throw new PacketError('malformed', a.path, `packet ${a.path} holds a delta for content of ${size} bytes, over ${DELTA_MAX}`, {
            hint: 'the sender wrote a damaged packet; report it with the packet attached',
          });
        deltaBytes += delta.length;
        if (deltaBytes > DELTA_BYTES_PER_BODY)
          throw new PacketError('malformed', a.path, `packet ${a.path} holds more than ${DELTA_BYTES_PER_BODY} bytes of deltas`, {
            hint: 'the sender wrote a damaged packet; report it with the packet attached',
          });
        // A copy of its own size: the delta is a view of the decompressor's larger buffer, which many
        // small deltas kept until the end would each hold whole.
        deltas.push({ sha, size, base, delta: Buffer.from(delta) });
        baseUses.set(base, (baseUses.get(base) ?? 0) + 1);
      },
    });
    // Deltas are made once the whole body is read: a base may come after its delta (in the stored
    // section). In the body's order, so a delta's base made by an earlier delta is there; the last
    // one made is kept at hand, as it is most often the next one's base.
    let made: { sha: string; bytes: Buffer } | undefined;
    // Versions of this packet stored as deltas: how to make them again, and how deep they sit.
    const storedAsDelta = new Map<string, { base: string; delta: Buffer; depth: number }>();
    const baseOf = async (sha: string): Promise<Uint8Array> => {
      if (made?.sha === sha) return made.bytes;
      const k = kept.get(sha);
      if (k) return k;
      const h = heldBySha.get(sha);
      if (h) return h;
      const d = storedAsDelta.get(sha);
      if (d) return applyDelta(sha, await baseOf(d.base), d.delta);
      const s = stagedBySha.get(sha);
      if (s) return vob.pool.stagedBytes(s);
      if (vob.pool.contains(sha)) return vob.pool.get(sha);
      throw new PacketError(
        'malformed',
        a.path,
        `packet ${a.path} holds a delta against content ${sha}, which neither it nor this replica has`,
        {
          hint: 'the sender wrote a damaged packet; report it with the packet attached',
        },
      );
    };
    for (const d of deltas) {
      if (heldBySha.has(d.sha) || stagedBySha.has(d.sha) || vob.pool.contains(d.sha)) continue;
      let bytes: Buffer;
      try {
        bytes = applyDelta(d.sha, await baseOf(d.base), d.delta);
      } catch (err) {
        if (err instanceof InvalidInputError) throw damaged(err.message);
        throw err;
      }
      if (bytes.length !== d.size || sha256Hex(bytes) !== d.sha)
        throw damaged(`content ${d.sha} made from its delta does not have that SHA-256`);
      made = { sha: d.sha, bytes };
      const uses = baseUses.get(d.base)! - 1;
      baseUses.set(d.base, uses);
      if (uses === 0 && kept.has(d.base)) {
        keptBytes -= kept.get(d.base)!.length;
        kept.delete(d.base);
      }
      // Stored as the delta it came as, unless its chain would grow too long.
      const depth =
        storedAsDelta.get(d.base)?.depth ??
        (heldBySha.has(d.base) || stagedBySha.has(d.base) ? 0 : vob.pool.contains(d.base) ? vob.pool.deltaDepth(d.base) : DELTA_DEPTH);
      if (depth < DELTA_DEPTH) {
        storedAsDelta.set(d.sha, { base: d.base, delta: d.delta, depth: depth + 1 });
        stage(vob.pool.stageDelta(d.sha, d.size, d.base, d.delta));
      } else if (bytes.length <= HOLD_BLOB_BYTES) hold(d.sha, bytes);
      else stage(await vob.pool.stage(chunksOf(bytes), { expectedSha: d.sha }));
    }
    const counts = commitPacket(vob, a, header, ops, held, staged, { warn, onProgress, step, total, started });
    committed = true;
    return counts;
  } finally {
    if (!committed) for (const s of staged) s.discard();
  }
}

function commitPacket(
  vob: Vob,
  a: PacketAssessment,
  header: PacketHeader,
  ops: readonly WireOp[],
  held: readonly { sha: string; bytes: Uint8Array }[],
  staged: readonly StagedBlob[],
  how: { warn: (m: string) => void; onProgress: ProgressListener | undefined; step: string; total: number; started: number },
): Omit<PacketOutcome, keyof PacketAssessment | 'result' | 'warnings'> {
  const { warn, onProgress, step, total, started } = how;
  const body = { ops };
  return vob.transaction(() => {
    // Every blob was checked against its SHA-256 as it was read or staged.
    for (const s of staged) vob.pool.commitStaged(s);
    vob.pool.putManyWithHash(held);
    const actual = actualRow(vob);
    let applied = 0;
    let skipped = 0;
    let discarded = 0;
    // The ops still to apply, each checked to be the next from its origin, then applied in runs.
    const entries: OplogEntry[] = [];
    for (const op of body.ops) {
      const have = actual[op.origin] ?? 0;
      if (op.id <= have) {
        skipped++;
        continue;
      }
      if (op.id !== have + 1) {
        throw new PacketError(
          'malformed',
          a.path,
          `packet ${a.path} skips ops: it holds op ${op.id} from ${replicaName(vob, op.origin)}, and this replica has ${have}`,
          {
            hint: 'ask the sender to resend it',
          },
        );
      }
      entries.push({
        origin: op.origin as ReplicaOid,
        id: op.id as OplogId,
        kind: op.kind as OpKind,
        data: opDataFromStored(op.kind, op.data),
        at: op.at,
        ...(op.encoded && isPositional(op.kind, op.data) ? { stored: op.encoded } : {}),
      });
      actual[op.origin] = op.id;
    }
    applyImportedMany(vob, entries, {
      warn,
      onOutcome(e, outcome) {
        if (outcome.status === 'applied') applied++;
        else {
          discarded++;
          warn(`op ${e.id} from ${replicaName(vob, e.origin)} (${e.kind}) was discarded: ${outcome.reason}`);
        }
        const done = skipped + applied + discarded;
        if (onProgress && (done % PROGRESS_EVERY === 0 || done === total)) onProgress({ step, done, total, unit: 'ops' });
      },
    });
    learnFromHeader(vob, header);
    vob
      .q("INSERT INTO sync_record (kind, replica, at, row, requires, packet, duration_ms) VALUES ('import', ?, ?, ?, ?, ?, ?)")
      .run(
        header.origin,
        vob.clock.now(),
        JSON.stringify(actual),
        JSON.stringify(header.requires),
        basename(a.path),
        performance.now() - started,
      );
    return { applied, skipped, discarded };
  });
}

/** Import order: by sender, then its sequence number (fragments of one packet are in sequence). */
function bySenderSequence(a: PacketAssessment, b: PacketAssessment): number {
  const ha = a.header;
  const hb = b.header;
  if (!ha || !hb) return 0;
  if (ha.origin !== hb.origin) return ha.origin < hb.origin ? -1 : 1;
  return ha.sequence - hb.sequence || ha.fragment.index - hb.fragment.index;
}

export interface ImportOptions {
  /** Only say what each packet lacks; apply nothing. */
  diagnose?: boolean;
  /** Receives warnings as they happen (automatic renames, discarded ops). */
  warn?: (message: string) => void;
  /** Told, packet by packet, how many of its ops are applied (the CLI shows it on a TTY). */
  onProgress?: ProgressListener;
  /** The sealed packets among those given, opened (default: none is sealed). */
  opened?: OpenedPackets;
}

/**
 * `syncreplica -import`: applies what can apply of the given packets, in dependency order, looping
 * until a pass applies nothing, so packets given in any order all go in. Each packet is verified
 * whole (checksum, signature) before it touches the VOB and applies in one transaction; packets that
 * wait for others, or are refused, are left where they are with the reason.
 */
export async function importPackets(vob: Vob, paths: readonly string[], options: ImportOptions = {}): Promise<PacketOutcome[]> {
  const outcomes = new Map<string, PacketOutcome>();
  const opened = options.opened ?? OpenedPackets.none;
  const given = expandPacketPaths(paths);
  // Sealed packets are read from their opened copies and reported under their own names.
  const files = given.filter((f) => opened.refusal(f) === undefined).map((f) => opened.readable(f));
  const reported = (): PacketOutcome[] =>
    given.map((f) => {
      const refusal = opened.refusal(f);
      if (refusal !== undefined) {
        const state = 'refused' as const;
        return { path: f, state, reason: refusal, header: undefined, result: state, applied: 0, skipped: 0, discarded: 0, warnings: [] };
      }
      const read = opened.readable(f);
      const o = outcomes.get(read)!;
      return { ...o, path: f, reason: o.reason?.replaceAll(read, f) };
    });
  const settle = (a: PacketAssessment, result: PacketOutcome['result'], extra: Partial<PacketOutcome> = {}) =>
    outcomes.set(a.path, { ...a, result, applied: 0, skipped: 0, discarded: 0, warnings: [], ...extra });

  let pending = files.map((f) => assessPacket(vob, f));
  if (options.diagnose) {
    for (const a of pending)
      settle(
        a,
        a.state === 'importable' ? 'deferred' : a.state,
        a.state === 'importable' ? { reason: 'importable: everything it needs is applied here' } : {},
      );
    return reported();
  }
  for (let progress = true; progress;) {
    progress = false;
    const actual = actualRow(vob);
    const next: PacketAssessment[] = [];
    for (const a0 of pending.sort(bySenderSequence)) {
      const a = a0.header ? assessPacket(vob, a0.path, actual) : a0;
      if (a.state !== 'importable') {
        next.push(a);
        continue;
      }
      const warnings: string[] = [];
      try {
        const counts = await applyPacket(
          vob,
          a,
          (m) => {
            warnings.push(m);
            options.warn?.(m);
          },
          options.onProgress,
        );
        settle(a, 'applied', { ...counts, warnings });
        progress = true;
        Object.assign(actual, actualRow(vob));
      } catch (err) {
        if (err instanceof MsiteError && !err.transient) settle(a, 'refused', { reason: err.message, state: 'refused' });
        else throw err;
      }
    }
    pending = next;
  }
  for (const a of pending) {
    // A packet that waits (or brought nothing new) still teaches its facts and rows: that is how a
    // lost packet is noticed (self-healing) and how a restore request is heard.
    if (a.header && (a.state === 'deferred' || a.state === 'already-applied')) learnFromHeader(vob, a.header);
    // A packet that waits on one that never came: tell its sender what this replica has, with the
    // next export, so the sender can notice the loss (self-healing).
    if (a.header && a.state === 'deferred') vob.setMeta(`status_due:${a.header.origin}`, '1');
    settle(a, a.state === 'importable' ? 'deferred' : a.state);
  }
  return reported();
}
