import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IoError, InvalidInputError } from '../../src/core/errors.js';
import { PacketError } from '../../src/packet/packetError.js';
import {
  MAX_HEADER_LENGTH,
  readPacket,
  readPacketHeader,
  readPacketHeaderInfo,
  verifyPacket,
  writePacket,
} from '../../src/packet/packetFile.js';
import { PACKET_FORMAT, type PacketHeader } from '../../src/packet/packetTypes.js';
import {
  BOSTON,
  blob,
  blobMap,
  body,
  bostonKeys,
  craft,
  header,
  keyFor,
  layout,
  LONDON,
  otherKeys,
  packetError,
  partsOf,
  plain,
  readOps,
  reasonOf,
  sha256,
  tempDir,
} from './fixtures.js';

const dir = tempDir();
let n = 0;
const next = (): string => join(dir, `p${++n}`);

describe('writePacket and readPacket', () => {
  it('round-trip the header and the body exactly', () => {
    const path = next();
    const input = header({ extra: { restore: { since: 12, replicas: ['x'] } } });
    const b = body();
    const written = writePacket(path, input, b, bostonKeys.privateKeyPem);
    const file = readFileSync(path);
    const { bodyOffset } = layout(file);

    expect(written).toEqual({ ...input, opCount: 6, bodyLength: file.length - bodyOffset, bodySha256: sha256(file.subarray(bodyOffset)) });
    expect(readPacketHeader(path)).toEqual(written);

    const read = readPacket(path, keyFor);
    expect(read.header).toEqual(written);
    expect(readOps(read.body.ops)).toEqual(plain(b.ops));
    expect(read.body.creation).toBeUndefined();
    // Each SHA once (the duplicate blob is stored once), every SHA the hash of its bytes.
    expect(read.body.blobs).toHaveLength(3);
    expect(blobMap(read.body.blobs)).toEqual(blobMap(b.blobs));
    for (const x of read.body.blobs) expect(x.sha).toBe(sha256(x.bytes));
  });

  it('keeps strings that look like ids exactly as they were, as strings', () => {
    const path = next();
    const b = body();
    writePacket(path, header(), b, bostonKeys.privateKeyPem);
    const data = readPacket(path, keyFor).body.ops.find((o) => o.kind === 'strings')!.data as Record<string, string>;
    const sent = b.ops.find((o) => o.kind === 'strings')!.data as Record<string, string>;
    expect(Object.keys(data)).toEqual(Object.keys(sent));
    for (const [k, v] of Object.entries(sent)) {
      expect(typeof data[k], k).toBe('string');
      expect(data[k] === v, k).toBe(true);
    }
  });

  it('round-trips a creation packet with its database and files', () => {
    const path = next();
    const database = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
    const files = [
      { sha: 'ab'.repeat(32), bytes: new Uint8Array([1, 2, 3]) },
      { sha: 'not-a-hash-name', bytes: new Uint8Array(0) },
      { sha: '12'.repeat(32), bytes: new Uint8Array(70_000).fill(9) },
    ];
    const input = header({
      kind: 'creation',
      requires: {},
      ranges: {},
      fragment: { index: 1, count: 1 },
      extra: { senderPublicKey: bostonKeys.publicKey },
    });
    const written = writePacket(path, input, { ops: [], blobs: [], creation: { database, files } }, bostonKeys.privateKeyPem);
    expect(written.opCount).toBe(0);
    const read = readPacket(path, keyFor);
    expect(read.header.kind).toBe('creation');
    expect(read.header.extra).toEqual({ senderPublicKey: bostonKeys.publicKey });
    expect(read.body.ops).toEqual([]);
    expect(read.body.blobs).toEqual([]);
    expect(plain(read.body.creation)).toEqual(plain({ database, files }));
  });

  it('writes magic, format version and header where the layout says, and leaves no temp file', () => {
    const sub = join(dir, 'layout');
    mkdirSync(sub);
    const path = join(sub, 'sync_boston_hub_2026-11-22T095226Z_1_1');
    const written = writePacket(path, header(), body(), bostonKeys.privateKeyPem);
    const file = readFileSync(path);
    expect(file.subarray(0, 8).toString('latin1')).toBe('MSITEPKT');
    expect([file.readUInt16BE(8), file.readUInt16BE(10)]).toEqual([PACKET_FORMAT.major, PACKET_FORMAT.minor]);
    const { headerEnd, bodyOffset } = layout(file);
    expect(JSON.parse(file.subarray(16, headerEnd).toString('utf8'))).toEqual(written);
    expect(file.readUInt16BE(headerEnd)).toBe(64);
    expect(file.length).toBe(bodyOffset + written.bodyLength);
    expect(readdirSync(sub)).toEqual(['sync_boston_hub_2026-11-22T095226Z_1_1']);
    expect(readPacketHeaderInfo(path)).toEqual({ header: written, format: { major: 2, minor: 0 }, bodyOffset, fileLength: file.length });
  });

  it('takes a similarity group per blob as a hint only: grouped blobs come back without it', () => {
    const path = next();
    const enc = new TextEncoder();
    const blobs = [
      { ...blob(enc.encode('b v1\n')), group: 'element-b' },
      { ...blob(enc.encode('a v1\n')), group: 'element-a' },
      blob(enc.encode('loose\n')),
      { ...blob(enc.encode('b v2\n')), group: 'element-b' },
    ];
    writePacket(path, header({ ranges: {} }), { ops: [], blobs }, bostonKeys.privateKeyPem);
    const read = readPacket(path, keyFor).body.blobs;
    // Grouped first, by group, each group in the given order; then the rest by content.
    expect(read.map((b) => new TextDecoder().decode(b.bytes))).toEqual(['a v1\n', 'b v1\n', 'b v2\n', 'loose\n']);
    expect(read.map((b) => Object.keys(b))).toEqual([
      ['sha', 'bytes'],
      ['sha', 'bytes'],
      ['sha', 'bytes'],
      ['sha', 'bytes'],
    ]);
  });

  it('verifyPacket checks everything but does not need a decodable body', () => {
    const path = next();
    const written = writePacket(path, header(), body(), bostonKeys.privateKeyPem);
    expect(verifyPacket(path, keyFor)).toEqual(written);
  });

  it('compresses similar content: 2,000 versions of 20 files, in any order, take a small fraction of their size', () => {
    const versions = [];
    for (let i = 0; i < 2000; i++) {
      const file = i % 20;
      const text =
        `// file ${file}\n` + Array.from({ length: 12 }, (_, l) => `  line ${l} of file ${file}: rev ${l === i % 12 ? i : 0}\n`).join('');
      versions.push(blob(new TextEncoder().encode(text)));
    }
    const rawBytes = versions.reduce((s, b) => s + b.bytes.length, 0);
    expect(rawBytes).toBeGreaterThan(500_000);
    const sizes = [versions, [...versions].reverse()].map((blobs) => {
      const path = next();
      const written = writePacket(path, header({ ranges: {} }), { ops: [], blobs }, bostonKeys.privateKeyPem);
      expect(blobMap(readPacket(path, keyFor).body.blobs)).toEqual(blobMap(blobs));
      return written.bodyLength;
    });
    // Stored sorted, so the order they came in does not matter; ~10 bytes a version.
    expect(sizes[0]).toBe(sizes[1]);
    expect(sizes[0]).toBeLessThan(rawBytes / 20);
  });
});

describe('writePacket refuses what it cannot write faithfully, and writes nothing', () => {
  const refuse = (make: (path: string) => unknown, message: RegExp): void => {
    const path = next();
    let err: unknown;
    try {
      make(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(message);
    expect(existsSync(path)).toBe(false);
  };
  const w = (h: Parameters<typeof writePacket>[1], b: Parameters<typeof writePacket>[2]) => (path: string) =>
    writePacket(path, h, b, bostonKeys.privateKeyPem);

  it('a header that does not match the schema', () => {
    refuse(w(header({ fragment: { index: 4, count: 3 } }), body()), /header field fragment: fragment index is beyond the fragment count/);
    refuse(w(header({ sequence: -1 }), body()), /header field sequence/);
    refuse(w(header({ ranges: { [BOSTON]: [5, 4] } }), { ops: [], blobs: [] }), /header field ranges\..*range ends before it starts/);
    refuse(w(header({ extra: { n: 10n } }), body()), /cannot be written as JSON/);
  });

  it('ops outside the header ranges', () => {
    refuse(w(header({ ranges: { [BOSTON]: [41, 44] } }), body()), new RegExp(`op 4 from ${LONDON} has no range in the header`));
    refuse(w(header({ ranges: { [BOSTON]: [41, 43], [LONDON]: [4, 5] } }), body()), /op 44 from .* is outside its header range 41-43/);
  });

  it('bad ops and blobs', () => {
    const b = body();
    refuse(
      w(header(), { ...b, ops: b.ops.map((o, i) => (i === 1 ? { ...o, id: 0 } : o)) }),
      /op 1 has id 0: oplog ids are positive integers/,
    );
    refuse(w(header(), { ...b, ops: b.ops.map((o, i) => (i === 2 ? { ...o, at: 1.5 } : o)) }), /op 2 \(id 42\) has time 1.5/);
    refuse(
      w(header(), { ...b, blobs: [{ sha: 'ab'.repeat(32), bytes: new Uint8Array([1]) }] }),
      /blob 0 is named abab.* but its content's SHA-256 is 4bf5122f/,
    );
  });

  it('and a directory that does not exist is an IoError', () => {
    expect(() => writePacket(join(dir, 'missing', 'p'), header(), body(), bostonKeys.privateKeyPem)).toThrow(IoError);
  });
});

describe('readPacketHeader', () => {
  it('does not read the body: a packet with its body cut off still gives its header', () => {
    const path = next();
    const written = writePacket(path, header(), body(), bostonKeys.privateKeyPem);
    const { bodyOffset } = layout(readFileSync(path));
    truncateSync(path, bodyOffset + 10);
    expect(readPacketHeader(path)).toEqual(written);
    expect(reasonOf(() => readPacket(path, keyFor))).toBe('truncated');
  });

  it('does not read the body: a 5 GiB (sparse) packet, too large to read whole, gives its header', () => {
    const path = next();
    const written = writePacket(path, header(), body(), bostonKeys.privateKeyPem);
    truncateSync(path, 5 * 1024 ** 3);
    expect(statSync(path).size).toBe(5 * 1024 ** 3);
    expect(readPacketHeader(path)).toEqual(written);
    // readPacket checks the length before it reads a body, so it refuses this without reading 5 GiB.
    expect(packetError(() => readPacket(path, keyFor)).message).toMatch(
      new RegExp(`^packet ${path} has \\d+ unexpected bytes after its body$`),
    );
    truncateSync(path, 0);
  });

  it('reads a header longer than its first read', () => {
    const path = next();
    const comment = 'x'.repeat(200_000);
    const written = writePacket(path, header({ comment }), body(), bostonKeys.privateKeyPem);
    expect(readPacketHeader(path).comment).toBe(comment);
    expect(readPacket(path, keyFor).header).toEqual(written);
  });

  it('says when a file is missing', () => {
    const err = (() => {
      try {
        readPacketHeader(join(dir, 'nope'));
      } catch (e) {
        return e as IoError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(IoError);
    expect(err!.message).toBe(`cannot read packet ${join(dir, 'nope')}: no such file or directory`);
    expect(err!.data).toMatchObject({ path: join(dir, 'nope'), sysCode: 'ENOENT' });
  });
});

describe('refusals', () => {
  /** A small packet: every byte of it is flipped in turn. */
  function smallPacket(): { path: string; file: Buffer; headerEnd: number; bodyOffset: number; written: PacketHeader } {
    const path = next();
    const content = new TextEncoder().encode('hello\n');
    const written = writePacket(
      path,
      header({ ranges: { [BOSTON]: [1, 2] } }),
      {
        ops: [
          { origin: BOSTON, id: 1, kind: 'mkelem', data: { path: 'src/a.c', element: '11111111-2222-4333-8444-555555555555' }, at: 5 },
          { origin: BOSTON, id: 2, kind: 'checkin', data: { content: sha256(content) }, at: 6 },
        ],
        blobs: [blob(content)],
      },
      bostonKeys.privateKeyPem,
    );
    const file = readFileSync(path);
    return { path, file, ...layout(file), written };
  }

  it('every single flipped byte, anywhere, is refused with the reason for where it is', () => {
    const { path, file, headerEnd, bodyOffset } = smallPacket();
    const expected = (pos: number): string[] => {
      if (pos < 8) return ['not-a-packet'];
      if (pos < 10) return ['format-version', 'signature']; // 2 -> 3 is a readable major, but the signature covers it
      if (pos < 12) return ['signature']; // minor: a newer minor is readable, but the signature covers it
      if (pos < 16) return ['malformed', 'truncated']; // header length
      if (pos < headerEnd) return ['malformed', 'signature', 'unknown-signer'];
      if (pos < bodyOffset) return ['signature'];
      return ['checksum'];
    };
    const seen = new Map<string, number>();
    const wrong: string[] = [];
    const flipped = next();
    for (let pos = 0; pos < file.length; pos++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const copy = Buffer.from(file);
        copy[pos] = copy[pos]! ^ mask;
        writeFileSync(flipped, copy);
        const err = packetError(() => readPacket(flipped, keyFor));
        const ok = expected(pos).includes(err.reason) && err.data.reason === err.reason && err.data.path === flipped;
        if (!ok) wrong.push(`byte ${pos} ^ ${mask}: ${err.reason}: ${err.message}`);
        seen.set(err.reason, (seen.get(err.reason) ?? 0) + 1);
      }
    }
    expect(wrong).toEqual([]);
    // Sanity of the loop itself: the original still reads, and every kind of damage was met.
    expect(readPacket(path, keyFor).body.ops).toHaveLength(2);
    expect(seen.get('checksum')).toBe(3 * (file.length - bodyOffset));
    expect(seen.get('not-a-packet')).toBe(24);
    expect(seen.get('format-version')).toBe(5); // major 2 ^ 1 is 3, which is read (and refused by the signature)
    expect(seen.get('signature')).toBeGreaterThanOrEqual(3 * (bodyOffset - headerEnd) + 6);
    expect(seen.get('malformed')).toBeGreaterThan(0);
  });

  it('truncation at every kind of place', () => {
    const { path, file, headerEnd, bodyOffset } = smallPacket();
    const cut = next();
    const lengths = [
      0,
      1,
      7,
      8,
      11,
      12,
      15,
      16,
      17,
      headerEnd - 1,
      headerEnd,
      headerEnd + 1,
      headerEnd + 2,
      bodyOffset - 1,
      bodyOffset,
      bodyOffset + 1,
      file.length - 1,
    ];
    for (const length of lengths) {
      writeFileSync(cut, file.subarray(0, length));
      const err = packetError(() => readPacket(cut, keyFor));
      expect(err.reason, `cut at ${length}: ${err.message}`).toBe('truncated');
      expect(err.message).toMatch(new RegExp(`^packet ${cut} is truncated: it has ${length} bytes, its \\w+( prefix)? needs \\d+$`));
      if (length < headerEnd) expect(reasonOf(() => readPacketHeader(cut))).toBe('truncated');
      else expect(readPacketHeader(cut)).toEqual(readPacketHeader(path));
    }
  });

  it('bytes after the body', () => {
    const { file } = smallPacket();
    const longer = next();
    writeFileSync(longer, Buffer.concat([file, Buffer.from('junk')]));
    const err = packetError(() => readPacket(longer, keyFor));
    expect(err.reason).toBe('malformed');
    expect(err.message).toBe(`packet ${longer} has 4 unexpected bytes after its body`);
  });

  it('a file that is not a packet', () => {
    const path = next();
    writeFileSync(path, 'From: someone\nSubject: not a packet\n');
    for (const read of [() => readPacketHeader(path), () => readPacket(path, keyFor)]) {
      const err = packetError(read);
      expect(err.reason).toBe('not-a-packet');
      expect(err.code).toBe('PACKET');
      expect(err.message).toBe(`${path} is not a sync. packet: it does not start with "MSITEPKT"`);
    }
  });

  it('an unknown signer', () => {
    const { path } = smallPacket();
    const err = packetError(() => readPacket(path, () => undefined));
    expect(err.reason).toBe('unknown-signer');
    expect(err.message).toBe(`packet ${path} is signed by an unknown replica ${BOSTON} (boston_hub)`);
    expect(err.data).toMatchObject({ reason: 'unknown-signer', path, origin: BOSTON, originName: 'boston_hub' });
  });

  it('a signature by another key than the origin replica’s', () => {
    const { path } = smallPacket();
    const { header: h, body: b } = partsOf(path);
    const forged = next();
    craft(forged, { headerJson: JSON.stringify(h), body: b, privateKeyPem: otherKeys.privateKeyPem });
    const err = packetError(() => readPacket(forged, keyFor));
    expect(err.reason).toBe('signature');
    expect(err.message).toBe(
      `packet ${forged} has a bad signature: it was not signed by replica boston_hub (${BOSTON}), or its header was changed in transit`,
    );
    // The same packet checks out against the key that did sign it.
    expect(readPacket(forged, () => otherKeys.publicKey).body.ops).toHaveLength(2);
  });

  it('a public key on record that is not a key', () => {
    const { path } = smallPacket();
    const err = packetError(() => readPacket(path, () => 'bm90IGEga2V5'));
    expect(err.reason).toBe('signature');
    expect(err.message).toMatch(/cannot be verified: the public key recorded here for replica boston_hub .* is not an Ed25519 key/);
  });

  it('another major format is refused, newer or older; a newer minor is read', () => {
    const { path } = smallPacket();
    const { header: h, body: b } = partsOf(path);
    const major = next();
    craft(major, { headerJson: JSON.stringify(h), body: b, major: 6, minor: 0 });
    for (const read of [() => readPacketHeader(major), () => readPacket(major, keyFor)]) {
      const err = packetError(read);
      expect(err.reason).toBe('format-version');
      expect(err.message).toBe(`Cannot read packet ${major}: packet format 6.0 is newer than this msite reads (2.x to 5.x)`);
      expect(err.data).toMatchObject({ major: 6, minor: 0 });
    }
    const old = next();
    craft(old, { headerJson: JSON.stringify(h), body: b, major: 1, minor: 0 });
    const older = packetError(() => readPacket(old, keyFor));
    expect(older.toLine()).toBe(
      `Cannot read packet ${old}: packet format 1.0 is older than this msite reads (2.x to 5.x) (have the sender export it again)`,
    );
    const minor = next();
    craft(minor, { headerJson: JSON.stringify({ ...h, someFieldOf2_7: { x: 1 } }), body: b, major: 2, minor: 7 });
    expect(readPacketHeaderInfo(minor).format).toEqual({ major: 2, minor: 7 });
    expect(readPacket(minor, keyFor).header).toEqual(h);
  });

  it('a garbled header says it cannot read the header', () => {
    const path = next();
    craft(path, { headerJson: '{"kind": "update", oops', body: new Uint8Array(0) });
    const err = packetError(() => readPacketHeader(path));
    expect(err.reason).toBe('malformed');
    expect(err.message).toBe(`Cannot read header of packet ${path}: the header is not valid UTF-8 JSON`);

    const { path: good } = smallPacket();
    const { header: h, body: b } = partsOf(good);
    const bad = next();
    craft(bad, { headerJson: JSON.stringify({ ...h, fragment: { index: 0, count: 1 } }), body: b });
    expect(packetError(() => readPacketHeader(bad)).message).toBe(
      `Cannot read header of packet ${bad}: header field fragment.index: Too small: expected number to be >=1`,
    );
    const huge = next();
    const prefix = Buffer.alloc(16);
    prefix.write('MSITEPKT', 0, 'latin1');
    prefix.writeUInt16BE(PACKET_FORMAT.major, 8);
    prefix.writeUInt32BE(MAX_HEADER_LENGTH + 1, 12);
    writeFileSync(huge, prefix);
    expect(reasonOf(() => readPacketHeader(huge))).toBe('malformed');
  });

  it('a signed body that does not decode, or does not match its header', () => {
    const { path } = smallPacket();
    const { header: h, body: b } = partsOf(path);
    const garbage = new TextEncoder().encode('this is not brotli');
    const undecodable = next();
    craft(undecodable, { headerJson: JSON.stringify({ ...h, bodyLength: garbage.length, bodySha256: sha256(garbage) }), body: garbage });
    const err = packetError(() => readPacket(undecodable, keyFor));
    expect(err.reason).toBe('malformed');
    expect(err.message).toMatch(new RegExp(`^packet ${undecodable} has a body this msite cannot decode: it does not decompress`));
    expect(verifyPacket(undecodable, keyFor).bodyLength).toBe(garbage.length);

    const miscounted = next();
    craft(miscounted, { headerJson: JSON.stringify({ ...h, opCount: 3 }), body: b });
    expect(packetError(() => readPacket(miscounted, keyFor)).message).toBe(
      `packet ${miscounted} is inconsistent: its header says 3 ops, its body has 2`,
    );

    const outOfRange = next();
    craft(outOfRange, { headerJson: JSON.stringify({ ...h, ranges: { [BOSTON]: [2, 2] } }), body: b });
    expect(packetError(() => readPacket(outOfRange, keyFor)).message).toBe(
      `packet ${outOfRange} is inconsistent: op 1 from ${BOSTON} is outside its header range 2-2`,
    );
  });

  it('errors are PacketErrors with stable code, reason, path, and a hint saying what to do', () => {
    const { path, file, bodyOffset } = smallPacket();
    const damaged = next();
    const copy = Buffer.from(file);
    copy[bodyOffset + 1] = copy[bodyOffset + 1]! ^ 0x10;
    writeFileSync(damaged, copy);
    const err = packetError(() => readPacket(damaged, keyFor));
    expect(err).toBeInstanceOf(PacketError);
    expect(err.code).toBe('PACKET');
    expect(err.persistence).toBe('permanent');
    expect(err.toLine()).toBe(
      `packet ${damaged} is damaged: body checksum mismatch (it was changed or truncated in transit; ask the sender to resend it)`,
    );
    expect(err.data).toMatchObject({ reason: 'checksum', path: damaged });
    expect(readPacket(path, keyFor).header.opCount).toBe(2);
  });
});
