import { randomBytes } from 'node:crypto';
import { applyDelta, createDelta } from 'fossil-delta';
import { describe, expect, it } from 'vitest';
import { applyBinaryDelta, binaryDelta, binaryDeltaTargetSize } from '../../src/core/binaryDelta.js';
import { InvalidInputError } from '../../src/core/errors.js';

/** `base` with `count` regions of `length` bytes replaced by new random bytes, and a few bytes inserted. */
function edited(base: Buffer, count: number, length: number): Buffer {
  const out = Buffer.from(base);
  for (let i = 0; i < count; i++) randomBytes(length).copy(out, Math.floor(((out.length - length) * (i + 0.5)) / count));
  return Buffer.concat([out.subarray(0, 1000), Buffer.from('inserted'), out.subarray(1000)]);
}

describe('binary deltas (Fossil format)', () => {
  it('make a version from the one before, in few bytes, and speak the fossil-delta package’s format both ways', () => {
    const base = randomBytes(1 << 20);
    const target = edited(base, 3, 4096);
    const delta = binaryDelta(base, target)!;
    expect(delta.length).toBeLessThan(3 * 4096 + 200);
    expect(binaryDeltaTargetSize(delta)).toBe(target.length);
    expect(applyBinaryDelta(base, delta).equals(target)).toBe(true);
    expect(Buffer.from(applyDelta(base, delta)).equals(target)).toBe(true);
    const theirs = Buffer.from(createDelta(base.subarray(0, 100_000), target.subarray(0, 120_000)));
    expect(applyBinaryDelta(base.subarray(0, 100_000), theirs).equals(target.subarray(0, 120_000))).toBe(true);
    // Tiny and empty inputs.
    for (const [a, b] of [
      ['', 'x'],
      ['abc', ''],
      ['short', 'shorter still'],
    ] as const) {
      const d = binaryDelta(Buffer.from(a), Buffer.from(b))!;
      expect(applyBinaryDelta(Buffer.from(a), d).toString()).toBe(b);
    }
  });

  it('give up on unrelated content, or past a limit, without scanning it all', () => {
    const base = randomBytes(4 << 20);
    const started = performance.now();
    expect(binaryDelta(base, randomBytes(4 << 20))).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
    const target = edited(base, 8, 64 * 1024);
    expect(binaryDelta(base, target, 64 * 1024)).toBeUndefined();
    expect(binaryDelta(base, target, 1 << 20)).toBeDefined();
  });

  it('refuse a damaged delta', () => {
    const base = randomBytes(100_000);
    const delta = binaryDelta(base, edited(base, 1, 100))!;
    const copy = Buffer.from(delta);
    copy[copy.length - 20] = copy[copy.length - 20]! ^ 0x01;
    expect(() => applyBinaryDelta(base, copy)).toThrow(InvalidInputError);
    expect(() => applyBinaryDelta(base, delta.subarray(0, delta.length - 5))).toThrow(InvalidInputError);
    expect(() => applyBinaryDelta(base.subarray(0, 50_000), delta)).toThrow(/a binary delta does not apply/);
  });
});
