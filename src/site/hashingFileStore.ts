import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { hashFileInto, sha256File } from '../shipping/sha256File.js';

interface RunningHash {
  hash: Hash;
  /** Bytes of the upload fed into `hash`: those on disk when no write is under way. */
  offset: number;
}

/**
 * tus's file store that hashes an upload's bytes as they are written, so a whole upload's SHA-256 is
 * known when its last byte lands instead of costing a second read of the file (about 1 s a GiB here,
 * measured by bench/shipping.ts, on the main thread where TLS is decrypted too).
 *
 * node:crypto cannot persist a hash's state, so it lives in memory only: an upload this process did
 * not see from its start (the daemon restarted between two PATCH requests), or one whose last write
 * failed partway, is hashed from the bytes on disk once, when its next write starts; from there on
 * the new bytes are added as they arrive. The hash and the file agree because it follows the very
 * bytes the write stream was handed, and a write that did not finish drops it.
 */
export class HashingFileStore extends FileStore {
  private readonly hashes = new Map<string, RunningHash>();

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    let running = this.hashes.get(id);
    // Taken out while the write runs: it is put back only if the write ends with the file as hashed.
    this.hashes.delete(id);
    if (running?.offset !== offset) {
      running = { hash: createHash('sha256'), offset: 0 };
      await hashFileInto(running.hash, this.pathOf(id), 0, offset);
      running.offset = offset;
    }
    const state = running;
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        state.hash.update(chunk);
        state.offset += chunk.length;
        callback(null, chunk);
      },
    });
    readable.once('error', (err) => hashing.destroy(err));
    const end = await super.write(readable.pipe(hashing), id, offset);
    if (end === state.offset) this.hashes.set(id, state);
    this.flushInBackground(id);
    return end;
  }

  /**
   * Starts writing the upload's dirty pages to disk while the next request's bytes arrive, so the
   * fsync that makes the whole packet durable (landPacket.ts) waits only for the last request's: a
   * GiB sits dirty in the page cache otherwise (far under the kernel's writeback thresholds), and its
   * fsync took about 0.5 s after the last byte here. Not awaited and its failure ignored: durability
   * is that final fsync's job; this only moves the work earlier.
   */
  private flushInBackground(id: string): void {
    void (async () => {
      const file = await open(this.pathOf(id), 'r');
      try {
        await file.datasync();
      } finally {
        await file.close();
      }
    })().catch(() => undefined);
  }

  /** The SHA-256 (lowercase hex) of the upload `id` of `size` bytes: from its running hash, else read from disk. */
  async sha256(id: string, size: number): Promise<string> {
    const running = this.hashes.get(id);
    this.hashes.delete(id);
    if (running?.offset === size) return running.hash.digest('hex');
    return sha256File(this.pathOf(id));
  }

  /** The upload's data file; an id that would leave the directory names none. */
  private pathOf(id: string): string {
    const path = join(this.directory, id);
    const rel = relative(this.directory, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || id.includes('\0')) throw new Error(`bad upload id "${id}"`);
    return path;
  }

  override async remove(id: string): Promise<void> {
    this.hashes.delete(id);
    await super.remove(id);
  }
}
