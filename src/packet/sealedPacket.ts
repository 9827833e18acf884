import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncDir } from '../core/atomicFile.js';
import { InvalidInputError, writingTo } from '../core/errors.js';
import { PacketError } from './packetError.js';

/**
 * A sealed packet is a packet file encrypted with age (age-encryption.org, X25519 recipients) for the
 * sites it goes to: whoever holds the file on the way (a relay's bays, a lost disk) sees ciphertext
 * only. It keeps its packet's name, so bays and imports treat it as a packet; its first line is age's.
 * age's payload is a STREAM of 64 KiB chunks, each authenticated, read and written here as streams,
 * so memory stays flat whatever the packet's size.
 */

/** The first line of every age file, binary (not armored). */
/**
 * age-encryption takes ~100 ms to load; most commands (and every receipt handler for a packet that
 * came directly) never seal or open one, so it is loaded when first needed.
 */
function loadAge(): Promise<typeof import('age-encryption')> {
  return import('age-encryption');
}

export const AGE_HEADER = 'age-encryption.org/v1';
const HEADER_BYTES = Buffer.from(`${AGE_HEADER}\n`);

/** An age recipient as PEER lines and `site show` write it (X25519 `age1…`, or hybrid `age1pq1…`). */
const RECIPIENT = /^age1[0-9a-z]+$/;

export function isAgeRecipient(text: string): boolean {
  return RECIPIENT.test(text);
}

/** Whether the file at `path` is sealed (starts with age's header line). */
export function isSealedPacket(path: string): boolean {
  // Only a regular file is opened: opening a FIFO named like a packet would wait for a writer.
  let fd: number;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, 'r');
  } catch {
    // Unreadable or gone: not ours to judge here; reading it as a packet says why.
    return false;
  }
  try {
    const buf = Buffer.alloc(HEADER_BYTES.length);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return n === buf.length && buf.equals(HEADER_BYTES);
  } finally {
    closeSync(fd);
  }
}

let counter = 0;
const tempBeside = (path: string): string => join(dirname(path), `.${basename(path)}~msite-tmp~${process.pid}~${hostname()}~${++counter}`);

/** Streams `source` through `transform` into `to` crash-safely: a temp file beside it, fsync, rename. */
async function streamTo(
  from: string,
  to: string,
  transform: (input: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>,
  mode: number,
): Promise<void> {
  const tmp = tempBeside(to);
  try {
    const input = Readable.toWeb(createReadStream(from, { highWaterMark: 1024 * 1024 })) as ReadableStream<Uint8Array>;
    const output = await transform(input);
    await pipeline(Readable.fromWeb(output), createWriteStream(tmp, { mode }));
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    writingTo('write', to, () => renameSync(tmp, to));
    fsyncDir(dirname(to));
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Encrypts the packet file `from` into `to` (which may be `from`: it is then replaced) for every one of
 * `recipients`: one file any of them can open.
 *
 * @throws InvalidInputError for a recipient that is not an age recipient (nothing is written).
 */
export async function sealPacket(from: string, to: string, recipients: readonly string[]): Promise<void> {
  if (recipients.length === 0) throw new InvalidInputError('a sealed packet needs at least one recipient');
  const bad = recipients.find((r) => !isAgeRecipient(r));
  if (bad !== undefined)
    throw new InvalidInputError(`"${bad}" is not an age recipient (age1…)`, {
      hint: "give the recipient the site's msite site show prints",
    });
  const { Encrypter } = await loadAge();
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  await streamTo(from, to, (input) => e.encrypt(input), 0o644);
}

/**
 * Decrypts the sealed packet `from` into `to` with `identities` (`AGE-SECRET-KEY-1…`). Every chunk is
 * authenticated as it is read; `to` appears only once the whole file has been (temp file, rename).
 *
 * @throws PacketError `sealed-for-another-site` when none of the identities opens it; `sealed-damaged`
 * when it was changed or cut short (nothing is written either way).
 */
export async function openSealedPacket(from: string, to: string, identities: readonly string[]): Promise<void> {
  const { Decrypter } = await loadAge();
  const d = new Decrypter();
  for (const i of identities) d.addIdentity(i);
  try {
    await streamTo(from, to, (input) => d.decrypt(input), 0o600);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/no identity matched/.test(message)) {
      throw new PacketError(
        'sealed-for-another-site',
        from,
        `packet ${from} is encrypted for another site: this site's key does not open it`,
        {
          hint: 'it was sent to the wrong site; ask its sender to ship it to its destination',
        },
      );
    }
    if (err instanceof PacketError || (err as { code?: unknown }).code === 'ENOENT' || (err as { code?: unknown }).code === 'EACCES')
      throw err;
    throw new PacketError('sealed-damaged', from, `encrypted packet ${from} was changed or cut short on its way (${message}): refused`, {
      hint: 'ask its sender to resend it',
    });
  }
}
