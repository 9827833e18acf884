import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { removeStaleTempFiles, writeFileAtomic } from '../core/atomicFile.js';
import { InvalidInputError, StorageError, writingTo } from '../core/errors.js';
import { newOid, type ReplicaOid } from '../core/ids.js';
import { readPacket, readPacketHeader, packetFileName, writePacket } from '../packet/packetFile.js';
import { generateReplicaKeys } from '../packet/replicaKeys.js';
import { applyLocal } from '../vob/ops/applyOp.js';
import { getReplica, replicaByName } from '../vob/queries.js';
import { DB_FILE, POOL_DIR, Vob } from '../vob/vob.js';
import { assertObjectName, assertVobTag } from '../vob/names.js';
import { actualRow, raiseEstimate } from './epochs.js';
import { currentFacts } from './facts.js';
import { KEY_FILE, readPrivateKey, writePrivateKey } from './replicaKey.js';

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

function poolFiles(vob: Vob): { sha: string; bytes: Uint8Array }[] {
  const root = join(vob.dir, POOL_DIR);
  const out: { sha: string; bytes: Uint8Array }[] = [];
  if (!existsSync(root)) return out;
  for (const sub of readdirSync(root)) {
    const dir = join(root, sub);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir)) if (/^[0-9a-f]{64}$/.test(name)) out.push({ sha: name, bytes: readFileSync(join(dir, name)) });
  }
  return out;
}

/**
 * `mkreplica -export`: creates the replica objects (one op each) and writes, for each, a creation
 * packet holding the whole VOB (database and content pool), the family's replica objects with their
 * public keys, the epoch state, and the new replica's signing key. Returns the packet paths.
 *
 * The new replica's private key travels inside its creation packet's signed body: whoever holds that
 * packet holds the whole VOB anyway, so ship it as you would a backup.
 */
export function exportReplica(vob: Vob, specs: readonly NewReplicaSpec[], options: { out: string; comment?: string }): string[] {
  if (specs.length === 0) throw new InvalidInputError('name at least one HOST:REPLICA');
  const started = performance.now();
  const toDir = existsSync(options.out) && statSync(options.out).isDirectory();
  removeStaleTempFiles(toDir ? options.out : dirname(options.out));
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
  vob.db.pragma('wal_checkpoint(FULL)');
  const database = vob.db.serialize();
  const files = poolFiles(vob);
  const self = getReplica(vob, vob.self)!;
  const actual = actualRow(vob);
  const now = vob.clock.now();
  const paths: string[] = [];
  let seq = Number(vob.meta('packet_seq') ?? '0');
  for (const c of created) {
    const path = toDir ? join(options.out, packetFileName('creation', self.name, now, ++seq)) : options.out;
    writePacket(
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
      // The new replica's key rides in the signed, compressed body as one more file of the VOB.
      { ops: [], blobs: [], creation: { database, files: [...files, { sha: KEY_FILE, bytes: Buffer.from(c.keys.privateKeyPem) }] } },
      privateKey,
    );
    paths.push(path);
  }
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

/**
 * `mkreplica -import`: makes the new replica in `dir` from its creation packet. The packet is
 * verified (checksum, and the signature against the sender key it carries, which must match the
 * sender's replica object inside). The new replica starts with the sender's actual row.
 */
export function importReplica(dir: string, packetPath: string, options: { tag: string }): Vob {
  assertVobTag(options.tag);
  const header = readPacketHeader(packetPath);
  if (header.kind !== 'creation')
    throw new InvalidInputError(`${packetPath} is an update packet, not a replica-creation packet`, {
      hint: 'import it with syncreplica --import',
    });
  const target = header.targets[0]!;
  const senderKey = typeof header.extra?.senderPublicKey === 'string' ? header.extra.senderPublicKey : undefined;
  if (!senderKey) throw new InvalidInputError(`creation packet ${packetPath} does not name its signer's key`);
  const { body } = readPacket(packetPath, (origin) => (origin === header.origin ? senderKey : undefined));
  if (!body.creation) throw new InvalidInputError(`creation packet ${packetPath} holds no VOB`);
  const keyFile = body.creation.files.find((f) => f.sha === KEY_FILE);
  if (!keyFile) throw new InvalidInputError(`creation packet ${packetPath} lacks the new replica's key`);
  const replicaKey = Buffer.from(keyFile.bytes).toString('utf8');
  const abs = resolve(dir);
  if (existsSync(abs) && (!statSync(abs).isDirectory() || readdirSync(abs).length > 0)) {
    throw new StorageError(`cannot create replica at ${abs}: the path exists and is not an empty directory`, {
      hint: 'choose a new storage directory',
    });
  }
  writingTo('create directory', abs, () => mkdirSync(join(abs, POOL_DIR), { recursive: true }));
  try {
    writeFileAtomic(join(abs, DB_FILE), body.creation.database);
    // Only pool files (named by SHA-256) are written: no name from a packet becomes a path otherwise.
    for (const f of body.creation.files.filter((file) => /^[0-9a-f]{64}$/.test(file.sha))) {
      writingTo('create directory', abs, () => mkdirSync(join(abs, POOL_DIR, f.sha.slice(0, 2)), { recursive: true }));
      writeFileAtomic(join(abs, POOL_DIR, f.sha.slice(0, 2), f.sha), f.bytes);
    }
    writePrivateKey(abs, replicaKey);
    const vob = Vob.open(abs);
    try {
      if (vob.family !== header.family) throw new StorageError('the creation packet holds a VOB of another family than its header says');
      if (getReplica(vob, header.origin)?.public_key !== senderKey)
        throw new StorageError('the creation packet was not signed by the replica that made it');
      if (!getReplica(vob, target.oid)) throw new StorageError(`the creation packet holds no replica object for ${target.name}`);
      vob.transaction(() => {
        vob.setMeta('self', target.oid);
        vob.setMeta('tag', options.tag);
        vob.setMeta('packet_seq', '0');
        vob.setMeta('incarnation', String(vob.clock.now()));
        vob
          .q('INSERT OR REPLACE INTO epoch (replica, origin, id) SELECT ?, origin, id FROM epoch WHERE replica = ?')
          .run(target.oid, header.origin);
        vob.q('DELETE FROM sync_record').run();
        vob.q('DELETE FROM conflict').run();
        vob.q('DELETE FROM fact WHERE replica = ?').run(target.oid);
      });
    } catch (err) {
      vob.close();
      throw err;
    }
    return vob;
  } catch (err) {
    rmSync(abs, { recursive: true, force: true });
    throw err;
  }
}
