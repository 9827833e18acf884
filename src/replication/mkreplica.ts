import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { removeStaleTempFiles } from '../core/atomicFile.js';
import { InvalidInputError, StorageError } from '../core/errors.js';
import { newOid, type ReplicaOid } from '../core/ids.js';
import { packetFileName, writePacketStream } from '../packet/packetFile.js';
import { CHUNK_BYTES, type BodyPart } from '../packet/packetStream.js';
import { generateReplicaKeys } from '../packet/replicaKeys.js';
import { applyLocal } from '../vob/ops/applyOp.js';
import { getReplica, replicaByName } from '../vob/queries.js';
import { POOL_DIR, type Vob } from '../vob/vob.js';
import { assertObjectName } from '../vob/names.js';
import { databaseImage } from './databaseImage.js';
import { actualRow, raiseEstimate } from './epochs.js';
import { currentFacts } from './facts.js';
import { readPrivateKey } from './replicaKey.js';

export interface NewReplicaSpec {
  host: string;
  name: string;
}

/** Parses MultiSite's `HOST:REPLICA` target. */
export function parseReplicaSpec(text: string): NewReplicaSpec {
  const m = /^([^:\s]+):([^:\s]+)$/.exec(text);
  if (!m) throw new InvalidInputError(`bad replica "${text}"`, { hint: 'use HOST:REPLICA, e.g. bangalore-host:bangalore' });
  assertObjectName(m[2]!, 'replica');
  return { host: m[1]!, name: m[2]! };
}

/** The files of a VOB's pool (blobs stored out of the database), by name, with their sizes: read when they are written. */
function poolFiles(vob: Vob): { name: string; path: string; size: number }[] {
  const root = join(vob.dir, POOL_DIR);
  const out: { name: string; path: string; size: number }[] = [];
  if (!existsSync(root)) return out;
  for (const sub of readdirSync(root)) {
    const dir = join(root, sub);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir))
      if (/^[0-9a-f]{64}$/.test(name)) out.push({ name, path: join(dir, name), size: statSync(join(dir, name)).size });
  }
  return out;
}

export { importReplica } from './importReplica.js';

/**
 * A file read a chunk at a time, checked to be `size` bytes (a pool file does not change once
 * written). The reads are synchronous, into one buffer the body's writer has written out before it
 * asks for the next chunk: a read stream cost some trips to the thread pool per file.
 */
function* fileChunks(path: string, size: number): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK_BYTES, size)));
    let read = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, read);
      if (n === 0) break;
      read += n;
      if (read > size) break;
      yield buffer.subarray(0, n);
    }
    if (read !== size) throw new StorageError(`${path} changed while it was read into a creation packet`);
  } finally {
    closeSync(fd);
  }
}

/**
 * `mkreplica -export`: creates the replica objects (one op each) and writes, for each, a creation
 * packet holding the whole VOB (database and content pool), the family's replica objects with their
 * public keys, the epoch state, and the new replica's signing key. Returns the packet paths.
 *
 * The new replica's private key travels inside its creation packet's signed body: whoever holds that
 * packet holds the whole VOB anyway, so ship it as you would a backup.
 */
export async function exportReplica(
  vob: Vob,
  specs: readonly NewReplicaSpec[],
  options: { out: string; comment?: string },
): Promise<string[]> {
  if (specs.length === 0) throw new InvalidInputError('name at least one HOST:REPLICA');
  const started = performance.now();
  const toDir = existsSync(options.out) && statSync(options.out).isDirectory();
  const outDir = toDir ? options.out : dirname(options.out);
  removeStaleTempFiles(outDir);
  if (!toDir && specs.length > 1) throw new InvalidInputError('several replicas need --out DIR: each gets its own creation packet');
  for (const s of specs) if (replicaByName(vob, s.name)) throw new InvalidInputError(`Replica ${s.name} already exists`);
  const privateKey = readPrivateKey(vob);
  const created = vob.transaction(() =>
    specs.map((s) => {
      const keys = generateReplicaKeys();
      const replica = newOid() as unknown as ReplicaOid;
      applyLocal(vob, 'mkreplica', { replica, name: s.name, host: s.host, publicKey: keys.publicKey, comment: options.comment ?? '' });
      return { replica, spec: s, keys };
    }),
  );
  // The database file as of now, read into each packet a chunk at a time: the VOB is never whole in
  // memory, whatever its size.
  const paths: string[] = [];
  const now = vob.clock.now();
  let seq = Number(vob.meta('packet_seq') ?? '0');
  const database = databaseImage(vob, outDir);
  try {
    const files = poolFiles(vob);
    const self = getReplica(vob, vob.self)!;
    const actual = actualRow(vob);
    for (const c of created) {
      const path = toDir ? join(options.out, packetFileName('creation', self.name, now, ++seq)) : options.out;
      const parts: BodyPart[] = [
        { databaseFile: database },
        ...files.map((f) => ({ poolFile: { name: f.name, storedLength: f.size, chunks: () => fileChunks(f.path, f.size) } })),
        // The new replica's key rides in the signed body.
        { replicaKey: Buffer.from(c.keys.privateKeyPem) },
      ];
      await writePacketStream(
        path,
        {
          kind: 'creation',
          family: vob.family,
          packet: newOid(),
          origin: vob.self,
          originName: self.name,
          targets: [{ oid: c.replica, name: c.spec.name }],
          sequence: seq,
          fragment: { index: 1, count: 1 },
          requires: {},
          senderRow: actual,
          facts: currentFacts(vob, now),
          ranges: {},
          createdAt: now,
          comment: options.comment ?? '',
          incarnation: Number(vob.meta('incarnation') ?? '0'),
          extra: { senderPublicKey: self.public_key },
        },
        parts,
        privateKey,
      );
      paths.push(path);
    }
  } finally {
    database.close();
  }
  const actual = actualRow(vob);
  const durationMs = performance.now() - started;
  vob.transaction(() => {
    vob.setMeta('packet_seq', String(seq));
    for (const c of created) {
      vob
        .q("INSERT INTO sync_record (kind, replica, at, row, requires, packet, duration_ms) VALUES ('export', ?, ?, ?, '{}', ?, ?)")
        .run(c.replica, now, JSON.stringify(actual), paths.join(' '), durationMs);
      raiseEstimate(vob, c.replica, actual);
      // What the new replica will have, as a fact that travels to the siblings: they need not resend it.
      vob.q('INSERT OR REPLACE INTO fact (replica, row, at) VALUES (?, ?, ?)').run(c.replica, JSON.stringify(actual), now);
    }
  });
  return paths;
}
