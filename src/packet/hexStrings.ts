import { addExtension } from 'msgpackr';

/**
 * Lossless packing of the random identifiers ops are full of: a canonical lowercase UUID string
 * (36 characters) travels as its 16 bytes, a lowercase hex string of 32 or more digits (a SHA-256
 * is 64) as its bytes, and both come back as the identical string. Random hex compresses poorly as
 * text (brotli spends over 4 bits a digit in mixed data); as bytes it costs exactly 4 with nothing to
 * model, so an update packet of checkins is about a fifth smaller and compresses about twice as fast.
 *
 * Registered as msgpackr extensions 0x10 and 0x11. msgpackr's extension table is process-wide;
 * nothing else packs these classes, so other msgpack data in msite never contains these types.
 */
export class PackedUuid {
  constructor(readonly text: string) {}
}

export class PackedHex {
  constructor(readonly text: string) {}
}

export const EXT_UUID = 0x10;
export const EXT_HEX = 0x11;
/** Longest hex string packed as bytes (msgpack ext16 holds up to 65535 bytes); longer stays text. */
const MAX_HEX_DIGITS = 2 * 0xffff;

/** 0-15 for '0'-'9' and 'a'-'f', -1 for anything else (upper case too: it would not round-trip). */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) NIBBLE[97 + i] = 10 + i;

function isHexDigit(c: number): boolean {
  return c < 128 && NIBBLE[c]! >= 0;
}

/** `s` marked for packing as bytes when it is a canonical UUID or long even-length lowercase hex; else `s`. */
export function packedString(s: string): string | PackedUuid | PackedHex {
  const n = s.length;
  if (n < 32) return s;
  if (n === 36 && s.charCodeAt(8) === 45 && s.charCodeAt(13) === 45 && s.charCodeAt(18) === 45 && s.charCodeAt(23) === 45) {
    for (let i = 0; i < 36; i++) {
      if (i === 8 || i === 13 || i === 18 || i === 23) continue;
      if (!isHexDigit(s.charCodeAt(i))) return s;
    }
    return new PackedUuid(s);
  }
  if (n % 2 !== 0 || n > MAX_HEX_DIGITS) return s;
  for (let i = 0; i < n; i++) if (!isHexDigit(s.charCodeAt(i))) return s;
  return new PackedHex(s);
}

function hexToBytes(s: string): Buffer {
  const out = Buffer.allocUnsafe(s.length === 36 ? 16 : s.length / 2);
  let o = 0;
  for (let i = 0; i < s.length; ) {
    if (s.charCodeAt(i) === 45) {
      i++;
      continue;
    }
    out[o++] = (NIBBLE[s.charCodeAt(i)]! << 4) | NIBBLE[s.charCodeAt(i + 1)]!;
    i += 2;
  }
  return out;
}

function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

addExtension({
  Class: PackedUuid,
  type: EXT_UUID,
  pack: (value: PackedUuid) => hexToBytes(value.text),
  unpack(bytes: Uint8Array): string {
    if (bytes.length !== 16) throw new Error(`a packed UUID has 16 bytes, not ${bytes.length}`);
    const h = bytesToHex(bytes);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  },
});

addExtension({
  Class: PackedHex,
  type: EXT_HEX,
  pack: (value: PackedHex) => hexToBytes(value.text),
  unpack(bytes: Uint8Array): string {
    if (bytes.length < 16) throw new Error(`a packed hex string has at least 16 bytes, not ${bytes.length}`);
    return bytesToHex(bytes);
  },
});
