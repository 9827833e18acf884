import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { worthDeflating } from '../../src/core/compressibility.js';

describe('worthDeflating', () => {
  it('says yes to text and no to random or already-compressed bytes', () => {
    const text = Buffer.from(Array.from({ length: 5000 }, (_, i) => `export const value${i} = compute(${i}, 'x');\n`).join(''));
    expect(worthDeflating(text)).toBe(true);
    expect(worthDeflating(Buffer.from(randomBytes(100_000).toString('hex')))).toBe(true);
    expect(worthDeflating(randomBytes(200_000))).toBe(false);
    expect(worthDeflating(gzipSync(randomBytes(200_000).toString('hex')))).toBe(false);
    expect(worthDeflating(new Uint8Array())).toBe(false);
  });
});
