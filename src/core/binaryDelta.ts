import { InvalidInputError } from './errors.js';

/**
 * Binary deltas in Fossil's format (https://fossil-scm.org/home/doc/trunk/www/delta_format.wiki):
 * a target as copies of a source's byte ranges and literal bytes, ending with a checksum. A port of
 * Fossil's delta.c, as the fossil-delta package is, written over Buffers instead of that package's
 * arrays of numbers: it builds its output a number per byte (8 bytes of heap per byte of output, so
 * 160 MB for a 20 MiB version) and applies a delta to 20 MiB in about a second, where copying
 * ranges takes milliseconds. The format is the same: each applies the other's deltas (the tests
 * hold it).
 */

/** The rolling hash's window: matches shorter than this are not looked for. */
const NHASH = 16;

const DIGITS = Buffer.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~', 'latin1');
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < DIGITS.length; i++) VALUE[DIGITS[i]!] = i;

function digitCount(v: number): number {
  let i = 1;
  for (let x = 64; v >= x; i++, x *= 64);
  return i;
}

/** Fossil's 32-bit checksum of `a`: the sum of its big-endian 32-bit words, the last padded with zeros. */
function checksum(a: Uint8Array): number {
  let sum0 = 0;
  let sum1 = 0;
  let sum2 = 0;
  let sum3 = 0;
  let z = 0;
  let n = a.length;
  while (n >= 4) {
    sum0 = (sum0 + a[z]!) | 0;
    sum1 = (sum1 + a[z + 1]!) | 0;
    sum2 = (sum2 + a[z + 2]!) | 0;
    sum3 = (sum3 + a[z + 3]!) | 0;
    z += 4;
    n -= 4;
  }
  sum3 = (((((sum3 + (sum2 << 8)) | 0) + (sum1 << 16)) | 0) + (sum0 << 24)) | 0;
  if (n === 3) sum3 = (sum3 + (a[z + 2]! << 8)) | 0;
  if (n >= 2) sum3 = (sum3 + (a[z + 1]! << 16)) | 0;
  if (n >= 1) sum3 = (sum3 + (a[z]! << 24)) | 0;
  return sum3 >>> 0;
}

/** Output of the encoder: commands in a buffer of their own, literals as views of the target. */
class DeltaWriter {
  private parts: Uint8Array[] = [];
  private head = Buffer.allocUnsafe(64 * 1024);
  private at = 0;
  length = 0;

  private room(n: number): void {
    if (this.at + n <= this.head.length) return;
    this.parts.push(this.head.subarray(0, this.at));
    this.head = Buffer.allocUnsafe(Math.max(64 * 1024, n));
    this.at = 0;
  }

  int(v: number): void {
    this.room(12);
    const n = digitCount(v);
    for (let i = n - 1; i >= 0; i--, v = Math.floor(v / 64)) this.head[this.at + i] = DIGITS[v % 64]!;
    this.at += n;
    this.length += n;
  }

  char(c: string): void {
    this.room(1);
    this.head[this.at++] = c.charCodeAt(0);
    this.length++;
  }

  literal(bytes: Uint8Array): void {
    this.parts.push(this.head.subarray(0, this.at));
    this.parts.push(bytes);
    this.head = this.head.subarray(this.at);
    this.at = 0;
    this.length += bytes.length;
  }

  done(): Buffer {
    this.parts.push(this.head.subarray(0, this.at));
    return Buffer.concat(this.parts, this.length);
  }
}

/**
 * A delta that makes `target` from `source`, or undefined as soon as it would be longer than
 * `limit` bytes (default: no limit): a caller that only wants a delta smaller than another form
 * stops paying for it there. Memory: the delta, and 8 bytes per 16 of `source` for its hash table.
 */
export function binaryDelta(source: Uint8Array, target: Uint8Array, limit = Infinity): Buffer | undefined {
  const out = new DeltaWriter();
  const lenOut = target.length;
  const lenSrc = source.length;
  out.int(lenOut);
  out.char('\n');
  const literal = (from: number, to: number): boolean => {
    out.int(to - from);
    out.char(':');
    out.literal(target.subarray(from, to));
    return out.length <= limit;
  };
  if (lenSrc <= NHASH) {
    if (!literal(0, lenOut)) return undefined;
    out.int(checksum(target));
    out.char(';');
    return out.length <= limit ? out.done() : undefined;
  }
  // Every NHASH-byte block of the source, by the hash of its bytes; blocks of one hash chained.
  // Beside each block's link, its whole hash: a candidate whose hash differs is passed over without
  // reading the source at it (on big content each such read is a cache miss).
  const nHash = Math.ceil(lenSrc / NHASH);
  const collide = new Int32Array(2 * nHash).fill(-1);
  const landmark = new Int32Array(nHash).fill(-1);
  for (let i = 0; i < lenSrc - NHASH; i += NHASH) {
    const h = windowHash(source, i);
    const hv = spread(h) % nHash;
    collide[(2 * i) / NHASH] = landmark[hv]!;
    collide[(2 * i) / NHASH + 1] = h | 0;
    landmark[hv] = i / NHASH;
  }
  if (!sharesBlocks(source, target, landmark, collide, nHash)) return undefined;
  let base = 0;
  while (base + NHASH < lenOut) {
    // The rolling hash of target[base + i, base + i + NHASH), as in Fossil's hash_init/hash_next.
    let a = 0;
    let b = 0;
    const window = new Uint8Array(NHASH);
    for (let k = 0; k < NHASH; k++) {
      const x = target[base + k]!;
      a = (a + x) & 0xffff;
      b = (b + (NHASH - k) * x) & 0xffff;
      window[k] = x;
    }
    let slot = 0;
    let i = 0;
    let bestCnt = 0;
    let bestOfst = 0;
    let bestLitsz = 0;
    for (;;) {
      let limitTries = 250;
      const h = ((a & 0xffff) | ((b & 0xffff) << 16)) >>> 0;
      let iBlock = landmark[spread(h) % nHash]!;
      for (; iBlock >= 0 && limitTries-- > 0; iBlock = collide[2 * iBlock]!) {
        if (collide[2 * iBlock + 1] !== (h | 0)) continue;
        const iSrc = iBlock * NHASH;
        let j = 0;
        for (let x = iSrc, y = base + i; x < lenSrc && y < lenOut && source[x] === target[y]; j++, x++, y++);
        j--;
        let k = 1;
        for (; k < iSrc && k <= i; k++) if (source[iSrc - k] !== target[base + i - k]) break;
        k--;
        const ofst = iSrc - k;
        const cnt = j + k + 1;
        const litsz = i - k;
        const sz = digitCount(litsz) + digitCount(cnt) + digitCount(ofst) + 3;
        if (cnt >= sz && cnt > bestCnt) {
          bestCnt = cnt;
          bestOfst = ofst;
          bestLitsz = litsz;
        }
      }
      if (bestCnt > 0) {
        if (bestLitsz > 0) {
          if (!literal(base, base + bestLitsz)) return undefined;
          base += bestLitsz;
        }
        base += bestCnt;
        out.int(bestCnt);
        out.char('@');
        out.int(bestOfst);
        out.char(',');
        if (out.length > limit) return undefined;
        break;
      }
      // The literal this would end with alone passes the limit.
      if (out.length + i > limit) return undefined;
      if (base + i + NHASH >= lenOut) {
        if (!literal(base, lenOut)) return undefined;
        base = lenOut;
        break;
      }
      const c = target[base + i + NHASH]!;
      const old = window[slot]!;
      window[slot] = c;
      slot = (slot + 1) & (NHASH - 1);
      a = (a - old + c) & 0xffff;
      b = (b - NHASH * old + a) & 0xffff;
      i++;
    }
  }
  if (base < lenOut && !literal(base, lenOut)) return undefined;
  out.int(checksum(target));
  out.char(';');
  return out.length <= limit ? out.done() : undefined;
}

/**
 * The window hash mixed before it picks a bucket. Fossil takes the hash modulo the table size as it
 * is, but its low half is a plain sum of 16 bytes, which takes a few hundred values: on content
 * without matches (random bytes) every look-up walked a chain of hundreds of blocks, 1 s per MiB.
 * Mixed, a look-up finds one block or none. The delta's format does not depend on it.
 */
function spread(h: number): number {
  return Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
}

/** Target positions sampled by sharesBlocks, and how many of them must find a source block. */
const SAMPLES = 64;
const SAMPLES_SHARED = 8;

/**
 * Whether `target` seems to share content with the source whose blocks are in `landmark`: at
 * SAMPLES places spread over it, some window among the NHASH starting there (one of which lines up
 * with a source block, if the content there is the source's) is a block of the source. Two
 * versions of one file share most blocks; unrelated content shares none, and is refused in
 * microseconds instead of scanned a byte at a time for nothing.
 */
function sharesBlocks(source: Uint8Array, target: Uint8Array, landmark: Int32Array, collide: Int32Array, nHash: number): boolean {
  const span = target.length - 2 * NHASH;
  if (span < SAMPLES * NHASH) return true; // small: the scan costs little
  let shared = 0;
  for (let s = 0; s < SAMPLES; s++) {
    const start = Math.floor((span * s) / SAMPLES);
    search: for (let p = start; p < start + NHASH; p++) {
      const h = windowHash(target, p);
      for (let iBlock = landmark[spread(h) % nHash]!; iBlock >= 0; iBlock = collide[2 * iBlock]!) {
        // The hash is weak (half of it a sum of the bytes): the bytes themselves must match.
        if (collide[2 * iBlock + 1] === (h | 0) && equalAt(source, iBlock * NHASH, target, p)) {
          shared++;
          break search;
        }
      }
    }
    if (shared >= SAMPLES_SHARED) return true;
  }
  return false;
}

function equalAt(a: Uint8Array, i: number, b: Uint8Array, j: number): boolean {
  for (let k = 0; k < NHASH; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

function windowHash(z: Uint8Array, pos: number): number {
  let a = 0;
  let b = 0;
  for (let i = 0; i < NHASH; i++) {
    const x = z[pos + i]!;
    a = (a + x) & 0xffff;
    b = (b + (NHASH - i) * x) & 0xffff;
  }
  return ((a & 0xffff) | ((b & 0xffff) << 16)) >>> 0;
}

/** The size of the target a delta makes, from its first line. Throws InvalidInputError for a delta that has none. */
export function binaryDeltaTargetSize(delta: Uint8Array): number {
  const r = new DeltaReader(delta);
  const size = r.int();
  if (r.byte() !== 0x0a) throw bad('its size is not ended by a newline');
  return size;
}

/**
 * The target `delta` makes from `source`, into one buffer of the target's size. Throws
 * InvalidInputError for a delta that does not apply: a copy outside the source, a size or checksum
 * that does not match. `checksum: false` skips Fossil's checksum (a pass over the target: 30 ms per
 * 20 MiB), for a caller that checks the target's SHA-256 anyway.
 */
export function applyBinaryDelta(source: Uint8Array, delta: Uint8Array, options: { checksum?: boolean } = {}): Buffer {
  const r = new DeltaReader(delta);
  const limit = r.int();
  if (r.byte() !== 0x0a) throw bad('its size is not ended by a newline');
  const out = Buffer.allocUnsafe(limit);
  let total = 0;
  while (r.more()) {
    const cnt = r.int();
    const op = r.byte();
    if (op === 0x40 /* @ */) {
      const ofst = r.int();
      if (r.more() && r.byte() !== 0x2c /* , */) throw bad('a copy is not ended by a comma');
      if (total + cnt > limit) throw bad('a copy goes past the size it gives');
      if (ofst + cnt > source.length) throw bad('a copy goes past the end of its source');
      out.set(source.subarray(ofst, ofst + cnt), total);
      total += cnt;
    } else if (op === 0x3a /* : */) {
      if (total + cnt > limit) throw bad('an insert goes past the size it gives');
      out.set(r.take(cnt), total);
      total += cnt;
    } else if (op === 0x3b /* ; */) {
      if (total !== limit) throw bad(`it makes ${total} bytes, not the ${limit} it gives`);
      if (options.checksum !== false && cnt !== checksum(out)) throw bad('its checksum does not match what it makes');
      return out;
    } else throw bad('it has an unknown command');
  }
  throw bad('it is cut short');
}

class DeltaReader {
  private pos = 0;
  constructor(private readonly a: Uint8Array) {}

  more(): boolean {
    return this.pos < this.a.length;
  }

  byte(): number {
    if (this.pos >= this.a.length) throw bad('it is cut short');
    return this.a[this.pos++]!;
  }

  int(): number {
    let v = 0;
    let digits = 0;
    for (; this.pos < this.a.length; this.pos++, digits++) {
      const c = VALUE[this.a[this.pos]! & 0x7f]!;
      if (c < 0) break;
      v = v * 64 + c;
    }
    if (digits === 0 || !Number.isSafeInteger(v)) throw bad('it has a number out of place or out of range');
    return v;
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.a.length) throw bad('an insert is cut short');
    const out = this.a.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function bad(why: string): InvalidInputError {
  return new InvalidInputError(`a binary delta does not apply: ${why}`);
}
