import { createHash, randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Upload } from '@tus/utils';
import { describe, expect, it } from 'vitest';
import { HashingFileStore } from '../../src/site/hashingFileStore.js';
import { tempDir } from '../helpers/cli.js';

const root = tempDir('msite-hashing-store-');
const data = randomBytes(3 * 1024 * 1024 + 17);
const expected = createHash('sha256').update(data).digest('hex');

let n = 0;
async function newUpload(dir: string): Promise<string> {
  const id = `upload${++n}`;
  const upload = { id, size: data.length, offset: 0, metadata: {}, creation_date: new Date().toISOString() } as unknown as Upload;
  await new HashingFileStore({ directory: dir }).create(upload);
  return id;
}

/** The bytes [from, to) of the data as a stream of 64 KiB chunks, as a request body arrives. */
function body(from: number, to: number): Readable {
  const chunks: Buffer[] = [];
  for (let off = from; off < to; off += 65536) chunks.push(data.subarray(off, Math.min(to, off + 65536)));
  return Readable.from(chunks);
}

describe('HashingFileStore', () => {
  it('knows the SHA-256 of an upload written in several requests', async () => {
    const dir = join(root, 'parts');
    const store = new HashingFileStore({ directory: dir });
    const id = await newUpload(dir);
    let offset = 0;
    for (const end of [1_000_000, 2_500_000, data.length]) offset = await store.write(body(offset, end), id, offset);
    expect(offset).toBe(data.length);
    expect(await store.sha256(id, data.length)).toBe(expected);
  });

  it('hashes what is on disk once when a restarted receiver continues an upload', async () => {
    const dir = join(root, 'restart');
    const id = await newUpload(dir);
    const before = new HashingFileStore({ directory: dir });
    const held = await before.write(body(0, 1_234_567), id, 0);
    // A new process: no running hash for the upload.
    const after = new HashingFileStore({ directory: dir });
    expect(await after.write(body(held, data.length), id, held)).toBe(data.length);
    expect(await after.sha256(id, data.length)).toBe(expected);
  });

  it('drops a running hash whose write failed partway and rehashes from the bytes on disk', async () => {
    const dir = join(root, 'failed');
    const store = new HashingFileStore({ directory: dir });
    const id = await newUpload(dir);
    const broken = new Readable({
      read() {
        this.push(data.subarray(0, 65536));
        this.push(data.subarray(65536, 100_000));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(store.write(broken, id, 0)).rejects.toBeDefined();
    const held = statSync(join(dir, id)).size;
    expect(await store.write(body(held, data.length), id, held)).toBe(data.length);
    expect(await store.sha256(id, data.length)).toBe(expected);
  });

  it('reads the file when the upload was not written through it', async () => {
    const dir = join(root, 'unseen');
    const id = await newUpload(dir);
    writeFileSync(join(dir, id), data);
    expect(await new HashingFileStore({ directory: dir }).sha256(id, data.length)).toBe(expected);
  });
});
