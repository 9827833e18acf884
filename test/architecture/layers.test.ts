import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
/** The layers of design.md, bottom first: a module may import only its own layer and those below. */
const LAYERS = ['core', 'vob', 'packet', 'replication', 'view', 'history', 'shipping', 'schedule', 'site', 'cli', 'web'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('layers', () => {
  it('every import points down (or within its layer)', () => {
    const upward: string[] = [];
    for (const file of files(SRC)) {
      const layer = relative(SRC, file).split('/')[0]!;
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = relative(SRC, normalize(join(dirname(file), m[1]!))).split('/')[0]!;
        if (LAYERS.indexOf(target) > LAYERS.indexOf(layer)) upward.push(`${relative(SRC, file)} imports ${m[1]}`);
      }
    }
    expect(upward).toEqual([]);
    expect(readdirSync(SRC).filter((d) => statSync(join(SRC, d)).isDirectory() && !LAYERS.includes(d))).toEqual([]);
  });
});
