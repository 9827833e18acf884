import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentSizes } from '../../src/vob/contentSizes.js';
import { createVob } from '../../src/vob/createVob.js';
import { tempDir } from '../helpers/cli.js';

describe('contentSizes', () => {
  it('gives the stored size of each blob asked for, small or stored as a file, and leaves out unknown ones', () => {
    const vob = createVob(join(tempDir('msite-sizes-'), 'v.vob'), { tag: 'v' });
    try {
      const small = vob.transaction(() => vob.pool.put(Buffer.from('small')));
      const big = vob.transaction(() => vob.pool.put(Buffer.alloc(200_000, 7)));
      const missing = 'ab'.repeat(32);
      expect(contentSizes(vob, [small, big, missing])).toEqual(
        new Map([
          [small, 5],
          [big, 200_000],
        ]),
      );
    } finally {
      vob.close();
    }
  });
});
