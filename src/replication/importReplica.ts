import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fsyncDir, tempFileFor } from '../core/atomicFile.js';
import { BackgroundSync } from '../core/backgroundSync.js';
import { InvalidInputError, StorageError, writeFailure, writingTo } from '../core/errors.js';
import { readPacketHeader, readPacketStream } from '../packet/packetFile.js';
import { getReplica } from '../vob/queries.js';
import { DB_FILE, POOL_DIR, Vob } from '../vob/vob.js';
import { assertVobTag } from '../vob/names.js';
import { KEY_FILE, writePrivateKey } from './replicaKey.js';

/**
 * `mkreplica -import`: makes the new replica in `dir` from its creation packet. The packet is
 * verified (checksum, and the signature against the sender key it carries, which must match the
 * sender's replica object inside). The new replica starts with the sender's actual row.
 */
export async function importReplica(dir: string, packetPath: string, options: { tag: string }): Promise<Vob> {
  assertVobTag(options.tag);
  const header = readPacketHeader(packetPath);
  if (header.kind !== 'creation')
    throw new InvalidInputError(`${packetPath} is an update packet, not a replica-creation packet`, {
      hint: 'import it with syncreplica --import',
    });
  const target = header.targets[0]!;
  const senderKey = typeof header.extra?.senderPublicKey === 'string' ? header.extra.senderPublicKey : undefined;
  if (!senderKey) throw new InvalidInputError(`creation packet ${packetPath} does not name its signer's key`);
  const abs = resolve(dir);
  if (existsSync(abs) && (!statSync(abs).isDirectory() || readdirSync(abs).length > 0)) {
    throw new StorageError(`cannot create replica at ${abs}: the path exists and is not an empty directory`, {
      hint: 'choose a new storage directory',
    });
  }
  writingTo('create directory', abs, () => mkdirSync(join(abs, POOL_DIR), { recursive: true }));
  try {
    // The VOB is written as it is read, into the new directory, which goes whole if anything fails;
    // the database goes in under its name (and the VOB is opened) only once the body's checksum and
    // signature hold.
    const databaseTmp = tempFileFor(join(abs, DB_FILE));
    let database: { fd: number; sync: BackgroundSync } | undefined;
    let databaseSize = 0;
    let databaseWritten = 0;
    // Written without a sync each; all are synced together once the body is read (before the
    // database is named): one by one, the 46 of the commander.js VOB took 50 ms, together 10.
    const written: string[] = [join(abs, POOL_DIR)];
    const dirs = new Set<string>();
    let replicaKey: string | undefined;
    try {
      const databasePart = async (size: number, offset: number, _length: number, bytes: AsyncIterable<Buffer>): Promise<void> => {
        if (!database) {
          const fd = openNew(databaseTmp);
          database = { fd, sync: new BackgroundSync(fd) };
          databaseSize = size;
          written.push(databaseTmp);
        }
        databaseWritten += await writeAt(database.fd, offset, bytes, databaseTmp, database.sync);
      };
      await readPacketStream(packetPath, (origin) => (origin === header.origin ? senderKey : undefined), {
        ops() {},
        small() {},
        delta() {},
        async blob() {},
        async stored() {},
        database: (size, bytes) => databasePart(size, 0, size, bytes),
        databasePart,
        async poolFile(name, _length, bytes) {
          // Format 2 carries the key as a file; only pool files (named by SHA-256) are written: no name
          // from a packet becomes a path otherwise.
          if (name === KEY_FILE) {
            const parts: Buffer[] = [];
            for await (const part of bytes) parts.push(part);
            replicaKey = Buffer.concat(parts).toString('utf8');
          } else if (/^[0-9a-f]{64}$/.test(name)) {
            const sub = join(abs, POOL_DIR, name.slice(0, 2));
            if (!dirs.has(sub)) {
              writingTo('create directory', sub, () => mkdirSync(sub, { recursive: true }));
              dirs.add(sub);
              written.push(sub);
            }
            const path = join(sub, name);
            const fd = openNew(path);
            try {
              await writeAt(fd, 0, bytes, path);
            } finally {
              closeSync(fd);
            }
            written.push(path);
          }
        },
        replicaKey(pem) {
          replicaKey = pem.toString('utf8');
        },
      });
    } finally {
      if (database) {
        try {
          await database.sync.settle();
        } finally {
          closeSync(database.fd);
        }
      }
    }
    if (!database) throw new InvalidInputError(`creation packet ${packetPath} holds no VOB`);
    // The reader sees that format 5's parts cover the database; what a packet says its size is, it must be.
    if (databaseWritten !== databaseSize) throw new InvalidInputError(`creation packet ${packetPath} holds a database cut short`);
    if (replicaKey === undefined) throw new InvalidInputError(`creation packet ${packetPath} lacks the new replica's key`);
    await syncAll(written);
    writingTo('write', join(abs, DB_FILE), () => renameSync(databaseTmp, join(abs, DB_FILE)));
    fsyncDir(abs);
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

/** A new file, for writing. */
function openNew(path: string): number {
  try {
    return openSync(path, 'wx', 0o644);
  } catch (err) {
    throw writeFailure(err, 'write', path) ?? err;
  }
}

/**
 * Writes chunks into `fd` from `offset` on; returns how many bytes. Not synced. The writes are
 * synchronous: they copy into the page cache, where a trip to the thread pool for each cost more
 * than the copy (a creation packet of commander.js gives some 1,500 writes, many of a few pages;
 * under load each trip waited for a core).
 */
async function writeAt(fd: number, offset: number, bytes: AsyncIterable<Buffer>, path: string, sync?: BackgroundSync): Promise<number> {
  let at = offset;
  try {
    for await (const chunk of bytes) {
      for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done, chunk.length - done, at + done);
      at += chunk.length;
      sync?.wrote(chunk.length);
    }
  } catch (err) {
    throw writeFailure(err, 'write', path) ?? err;
  }
  return at - offset;
}

/** How many files and directories syncAll syncs at once (the thread pool has four threads). */
const SYNCS_AT_ONCE = 8;

/**
 * Syncs files and directories, several at once: the file system commits them together, where one
 * by one each sync waits for a commit of its own.
 */
async function syncAll(paths: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const path = paths[next++]!;
      try {
        const fh = await open(path, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      } catch (err) {
        throw writeFailure(err, 'write', path) ?? err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SYNCS_AT_ONCE, paths.length) }, worker));
}
