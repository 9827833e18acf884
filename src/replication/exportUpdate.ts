import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { removeStaleTempFiles } from '../core/atomicFile.js';
import { InvalidInputError } from '../core/errors.js';
import { RawMsgpack } from '../core/rawMsgpack.js';
import { newOid } from '../core/ids.js';
import type { ProgressListener } from '../core/progress.js';
import { packetFileName, writePacketStream } from '../packet/packetFile.js';
import { binaryDelta } from '../core/binaryDelta.js';
import { CHUNK_BYTES, DELTA_BYTES_PER_BODY, SMALL_BLOB, type BodyPart } from '../packet/packetStream.js';
import type { PacketHeader, WireOp } from '../packet/packetTypes.js';
import { decodeOpData } from '../vob/ops/applyOp.js';
import { contentOf, hasContent, storedContentGroup } from '../vob/ops/registry.js';
import { getReplica, replicaByName } from '../vob/queries.js';
import type { ReplicaRow } from '../vob/rows.js';
import { oplogRunData, scanOplogAbove, type OplogRun } from '../vob/oplogScan.js';
import type { Vob } from '../vob/vob.js';
import { DELTA_MAX as POOL_DELTA_MAX } from '../vob/contentPool.js';
import { actualRow, covers, epochRow, minRow, raiseEstimate, type EpochRow } from './epochs.js';
import { currentFacts } from './facts.js';
import { readPrivateKey } from './replicaKey.js';
import { restoringFrom } from './restoreReplica.js';
import { blobSizes } from './blobSizes.js';
import { gracePeriod, healEstimates } from './selfHealing.js';

export interface ExportOptions {
  /** A directory (packets get MultiSite names there) or a file path (one packet, no fragments). */
  out: string;
  /** Bytes per fragment, for directory output. A single version is never split: a bigger one makes an oversized fragment. */
  maxsize?: number;
  /** At most this many fragments this run; the rest go next time. */
  limit?: number;
  comment?: string;
  /** Told how many ops are read, then how many fragments are written (the CLI shows it on a TTY). */
  onProgress?: ProgressListener;
}

export interface ExportResult {
  packets: string[];
  targets: string[];
  opCount: number;
  /** True when every target already had everything: no packet was written. */
  upToDate: boolean;
  warnings: string[];
}

/** Resolves `NAME`, `replica:NAME` or `NAME@VOB` to sibling replica rows; refuses self-only targets. */
export function resolveTargets(vob: Vob, selectors: readonly string[], warnings: string[]): ReplicaRow[] {
  const targets: ReplicaRow[] = [];
  for (const s of selectors) {
    const name = s.replace(/^replica:/, '').replace(/@.*$/, '');
    const r = replicaByName(vob, name);
    if (!r || r.removed) throw new InvalidInputError(`unknown replica "${name}"`, { hint: 'see msite lsreplica' });
    if (r.oid === vob.self) {
      warnings.push('A replica cannot update itself');
      continue;
    }
    if (!targets.some((t) => t.oid === r.oid)) targets.push(r);
  }
  if (targets.length === 0) throw new InvalidInputError('A replica cannot update itself', { hint: 'name a sibling replica' });
  return targets;
}

interface Fragment {
  ops: WireOp[];
  /** The content its ops need, by SHA: its size, and what similar content it goes beside. */
  blobs: Map<string, { size: number; group: string | undefined }>;
  bytes: number;
}

/** Small blobs are read many at a time, up to this many bytes (the pool reads them in key order). */
const SMALL_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Versions up to this size may travel as deltas against the version before them. A delta is made
 * and applied with both versions whole in memory (a delta's copies reach anywhere in its base), so
 * the bound is what keeps an export's and an import's memory flat: with versions of 19.6 MiB, the
 * big-files bench measured peaks of 178-231 MB to export and 168-225 MB to import (it varies with
 * when V8 frees the buffers let go of), under the 256 MB a site server gives a VOB's replication;
 * a larger bound would leave no room under it. Bigger versions travel whole, in their stored form.
 */
export const DELTA_MAX = POOL_DELTA_MAX;

/**
 * A fragment's body, read as it is written: its ops, then its small blobs, a file's versions side by
 * side (so the compressor finds what consecutive versions share), content without a group after,
 * read a batch at a time (the pool reads them in key order); then its big blobs (over SMALL_BLOB),
 * a branch's versions in order, each in the pool's stored form (deflated or raw, as it is: nothing is
 * compressed again) or as a delta against the version before it on its branch, when that one came
 * just before it or is at the target already (`atTarget`), and the delta is at most half the stored
 * form.
 */
async function* fragmentParts(vob: Vob, fragment: Fragment, atTarget: (sha: string) => boolean): AsyncGenerator<BodyPart> {
  yield { ops: fragment.ops };
  const grouped = new Map<string, string[]>();
  const loose: string[] = [];
  const big: string[] = [];
  for (const [sha, { group, size }] of fragment.blobs) {
    if (size > SMALL_BLOB) big.push(sha);
    else if (group === undefined) loose.push(sha);
    else {
      const bucket = grouped.get(group);
      if (bucket) bucket.push(sha);
      else grouped.set(group, [sha]);
    }
  }
  const ordered: string[] = [];
  for (const group of [...grouped.keys()].sort()) for (const sha of grouped.get(group)!) ordered.push(sha);
  for (const sha of loose) ordered.push(sha);
  for (let i = 0; i < ordered.length;) {
    const batch: string[] = [];
    for (let bytes = 0; i < ordered.length && bytes < SMALL_BATCH_BYTES; i++) {
      batch.push(ordered[i]!);
      bytes += fragment.blobs.get(ordered[i]!)!.size;
    }
    const read = vob.pool.getMany(batch);
    yield { small: batch.map((b) => ({ sha: b, bytes: read.get(b)! })) };
  }
  // Big blobs by the branch and number of the version holding them, so each follows the version
  // before it on its branch, its delta's base.
  const places = versionPlaces(vob, big);
  const placed = big.filter((sha) => places.has(sha));
  placed.sort((a, b) => {
    const pa = places.get(a)!;
    const pb = places.get(b)!;
    return pa.branch < pb.branch ? -1 : pa.branch > pb.branch ? 1 : pa.number - pb.number;
  });
  let previous: { sha: string; branch: string | undefined; bytes?: Buffer } | undefined;
  let deltaBytes = 0;
  const before = vob.q('SELECT content FROM version WHERE branch = ? AND number < ? AND content IS NOT NULL ORDER BY number DESC LIMIT 1');
  for (const sha of [...placed, ...big.filter((x) => !places.has(x))]) {
    const size = fragment.blobs.get(sha)!.size;
    const place = places.get(sha);
    const branch = place?.branch;
    const stored = vob.pool.storedForm(sha);
    // The base: the version before on the branch, when it came just before in this body, or when
    // the target has it already (the first of its branch in this body).
    let base: { sha: string; bytes?: Buffer } | undefined;
    if (place && previous?.branch === place.branch) base = previous;
    else if (place) {
      const sha0 = (before.get(place.branch, place.number) as { content: string } | undefined)?.content;
      if (sha0 !== undefined && sha0 !== sha && atTarget(sha0) && vob.pool.contains(sha0)) base = { sha: sha0 };
    }
    let delta: Buffer | undefined;
    let bytes: Buffer | undefined;
    if (base && size <= DELTA_MAX && vob.pool.sizeOf(base.sha) <= DELTA_MAX) {
      const baseBytes = base.bytes ?? (await whole(vob, base.sha));
      bytes = await whole(vob, sha);
      delta = binaryDelta(baseBytes, bytes, Math.min((stored?.storedLength ?? size) / 2, DELTA_BYTES_PER_BODY - deltaBytes));
    }
    if (delta) {
      deltaBytes += delta.length;
      yield { delta: { sha, size, base: base!.sha, delta, ...(base === previous ? {} : { baseAtTarget: true }) } };
    } else yield { blob: { sha, size, chunks: () => vob.pool.chunks(sha, CHUNK_BYTES), ...(stored ? { stored } : {}) } };
    previous = { sha, branch, ...(bytes ? { bytes } : {}) };
  }
}

/**
 * A blob's bytes in one buffer of its size, filled a chunk at a time as the pool inflates and checks
 * them: the pool's get would hold the inflated chunks and their concatenation at once, twice the
 * blob, where an export making a delta holds two versions already.
 */
async function whole(vob: Vob, sha: string): Promise<Buffer> {
  const out = Buffer.allocUnsafe(vob.pool.sizeOf(sha));
  let at = 0;
  for await (const chunk of vob.pool.chunks(sha)) at += chunk.copy(out, at);
  return out;
}

/**
 * Where each of `shas` is a version's content: the branch and number of the first version holding
 * it. One scan of the version table (content has no index of its own; a look-up per blob would scan
 * it each time).
 */
function versionPlaces(vob: Vob, shas: readonly string[]): Map<string, { branch: string; number: number }> {
  const places = new Map<string, { branch: string; number: number }>();
  if (shas.length === 0) return places;
  const rows = vob
    .q('SELECT content, branch, number FROM version WHERE content IN (SELECT value FROM json_each(?)) ORDER BY branch, number')
    .all(JSON.stringify(shas)) as { content: string; branch: string; number: number }[];
  for (const r of rows) if (!places.has(r.content)) places.set(r.content, { branch: r.branch, number: r.number });
  return places;
}

/**
 * `syncreplica -export`: writes an update packet (or fragments of one) holding every op the targets
 * lack by this replica's epoch matrix, from every origin (so hubs forward), then records the export
 * and raises the targets' estimates optimistically, as MultiSite does. Packets are written before
 * the estimates move, so a crash between the two only means a resend.
 */
export async function exportUpdate(vob: Vob, selectors: readonly string[], options: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  const warnings: string[] = [];
  const targets = resolveTargets(vob, selectors, warnings);
  // An export killed midway leaves its temp file; clear those here, or they would pile up for ever.
  const outDir = existsSync(options.out) && statSync(options.out).isDirectory() ? options.out : dirname(options.out);
  for (const name of removeStaleTempFiles(outDir)) warnings.push(`removed ${join(outDir, name)}, left by an export that was stopped`);
  vob.transaction(() =>
    healEstimates(
      vob,
      targets.map((t) => t.oid),
    ),
  );
  const actual = actualRow(vob);
  const requires = minRow(targets.map((t) => restrict(epochRow(vob, t.oid), actual)));
  for (const o of Object.keys(actual)) requires[o] ??= 0;
  const targetNames = targets.map((t) => t.name);
  const restoring = restoringFrom(vob);
  const acks: Record<string, number> = {};
  for (const t of targets) {
    const due = vob.meta(`ack_restore:${t.oid}`);
    if (due !== undefined) acks[t.oid] = Number(due);
  }
  const now = vob.clock.now();
  const lastExport = vob.q("SELECT max(at) FROM sync_record WHERE kind = 'export' AND replica = ?").pluck();
  // With nothing to send, a status packet (facts only) still goes while a restore needs telling,
  // when a packet from the target waits here, and at least once per grace period, so a sibling
  // notices a lost packet, even its last one (self-healing).
  const statusDue =
    restoring.length > 0 ||
    Object.keys(acks).length > 0 ||
    targets.some((t) => vob.meta(`status_due:${t.oid}`) !== undefined) ||
    targets.some((t) => ((lastExport.get(t.oid) as number | null) ?? -Infinity) + gracePeriod(vob) <= now);
  if (covers(requires, actual) && !statusDue) return { packets: [], targets: targetNames, opCount: 0, upToDate: true, warnings };

  const toDir = existsSync(options.out) && statSync(options.out).isDirectory();
  if (!toDir && options.maxsize !== undefined) warnings.push('-maxsize is ignored with -out FILE: the packet is written whole');
  const maxsize = toDir ? options.maxsize : undefined;

  const fragments: Fragment[] = [{ ops: [], blobs: new Map(), bytes: 0 }];
  // Op data goes out as the oplog stores it (RawMsgpack), read in runs (scanOplogAbove); only rows
  // from before the oplog kept its content column are decoded, to find their content.
  const floors: EpochRow = {};
  for (const [origin, top] of Object.entries(actual)) if ((requires[origin] ?? 0) < top) floors[origin] = requires[origin] ?? 0;
  // Ids are dense per origin, so the ops to read are known before reading them.
  const total = Object.entries(floors).reduce((n, [origin, floor]) => n + actual[origin]! - floor, 0);
  const progress = options.onProgress ?? (() => {});
  const runs: OplogRun[] = [];
  let read = 0;
  progress({ step: 'reading ops', done: 0, total, unit: 'ops' });
  for (const run of scanOplogAbove(vob, floors)) {
    runs.push(run);
    read += run.seq.length;
    progress({ step: 'reading ops', done: read, total, unit: 'ops' });
  }
  const wanted: string[] = [];
  for (const run of runs) {
    for (let i = 0; i < run.seq.length; i++) {
      if (run.content[i] === undefined && hasContent(run.kind[i]!))
        run.content[i] = contentOf(run.kind[i]!, decodeOpData(run.kind[i]!, oplogRunData(run, i)));
      const sha = run.content[i];
      if (sha !== undefined) wanted.push(sha);
    }
  }
  // Only sizes now: the bytes are read as each packet is written, a chunk at a time.
  const sizes = blobSizes(vob, wanted);
  for (const run of runs) {
    for (let i = 0; i < run.seq.length; i++) {
      const data = oplogRunData(run, i);
      const sha = run.content[i];
      let current = fragments[fragments.length - 1]!;
      const blobSize = sha !== undefined && !current.blobs.has(sha) ? sizes.get(sha)! : 0;
      const size = data.length + 64 + blobSize;
      if (maxsize !== undefined && current.ops.length > 0 && current.bytes + size > maxsize) {
        current = { ops: [], blobs: new Map(), bytes: 0 };
        fragments.push(current);
      }
      if (maxsize !== undefined && size > maxsize)
        warnings.push(`op ${run.id[i]} from ${run.origin[i]} is larger than -maxsize: its fragment is oversized`);
      current.ops.push({ origin: run.origin[i]!, id: run.id[i]!, kind: run.kind[i]!, data: new RawMsgpack(data), at: run.at[i]! });
      if (sha !== undefined && !current.blobs.has(sha))
        current.blobs.set(sha, { size: sizes.get(sha)!, group: storedContentGroup(run.kind[i]!, data) });
      current.bytes += size;
    }
  }

  const firstFragment = new Map<string, number>();
  fragments.forEach((f, k) => {
    for (const sha of f.blobs.keys()) if (!firstFragment.has(sha)) firstFragment.set(sha, k);
  });
  const limit = Math.min(fragments.length, options.limit ?? fragments.length);
  const privateKey = readPrivateKey(vob);
  const self = getReplica(vob, vob.self)!;
  const packetOid = newOid();
  const extra = {
    ...(restoring.length ? { restoreRequest: true } : {}),
    ...(Object.keys(acks).length ? { ackRestore: acks } : {}),
  };
  const facts = currentFacts(vob, now);
  let seq = Number(vob.meta('packet_seq') ?? '0');
  const reached: EpochRow = { ...requires };
  const written: string[] = [];
  let opCount = 0;
  for (let k = 0; k < limit; k++) {
    progress({ step: 'writing packets', done: k, total: limit, unit: 'packets' });
    const fragment = fragments[k]!;
    const ranges: Record<string, [number, number]> = {};
    for (const op of fragment.ops) {
      const r = ranges[op.origin];
      ranges[op.origin] = r ? [r[0], op.id] : [op.id, op.id];
    }
    const header: Omit<PacketHeader, 'bodySha256' | 'bodyLength' | 'opCount'> = {
      kind: 'update',
      family: vob.family,
      packet: packetOid,
      origin: vob.self,
      originName: self.name,
      targets: targets.map((t) => ({ oid: t.oid, name: t.name })),
      sequence: ++seq,
      fragment: { index: k + 1, count: fragments.length },
      requires: { ...reached },
      senderRow: actual,
      facts,
      ranges,
      createdAt: now,
      comment: options.comment ?? '',
      incarnation: Number(vob.meta('incarnation') ?? '0'),
      ...(Object.keys(extra).length ? { extra } : {}),
    };
    const path = toDir ? join(options.out, packetFileName('update', self.name, now, seq)) : options.out;
    // Content at the target once the fragments before this one are applied: what no op of this
    // export brings (its op is at or under `requires`, which the target must have to apply it), or
    // what an earlier fragment brings.
    const atTarget = (sha: string): boolean => (firstFragment.get(sha) ?? -1) < k;
    await writePacketStream(path, header, fragmentParts(vob, fragment, atTarget), privateKey);
    written.push(path);
    opCount += fragment.ops.length;
    for (const [origin, [, last]] of Object.entries(ranges)) reached[origin] = Math.max(reached[origin] ?? 0, last);
  }
  progress({ step: 'writing packets', done: limit, total: limit, unit: 'packets' });

  // One export to several siblings is one duration, recorded with each sibling's record.
  const durationMs = performance.now() - started;
  vob.transaction(() => {
    vob.setMeta('packet_seq', String(seq));
    for (const t of targets) {
      vob.deleteMeta(`ack_restore:${t.oid}`);
      vob.deleteMeta(`status_due:${t.oid}`);
      vob
        .q("INSERT INTO sync_record (kind, replica, at, row, requires, packet, duration_ms) VALUES ('export', ?, ?, ?, ?, ?, ?)")
        .run(t.oid, now, JSON.stringify(reached), JSON.stringify(requires), written.join(' '), durationMs);
      raiseEstimate(vob, t.oid, reached);
    }
  });
  if (limit < fragments.length) warnings.push(`-limit ${limit}: ${fragments.length - limit} fragment(s) left for the next export`);
  return { packets: written, targets: targetNames, opCount, upToDate: false, warnings };
}

function restrict(row: EpochRow, to: EpochRow): EpochRow {
  return Object.fromEntries(Object.keys(to).map((o) => [o, Math.min(row[o] ?? 0, to[o]!)]));
}
