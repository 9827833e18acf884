import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Feeds the bytes of `path` (from `start`, up to but not including `end`) into `hash`, streaming. */
export async function hashFileInto(hash: Hash, path: string, start = 0, end?: number): Promise<void> {
  if (end !== undefined && end <= start) return;
  const stream = createReadStream(path, { start, ...(end !== undefined ? { end: end - 1 } : {}), highWaterMark: 1 << 20 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

/** The SHA-256 of a file in lowercase hex, read in 1 MiB chunks so memory stays flat whatever its size. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashFileInto(hash, path);
  return hash.digest('hex');
}
