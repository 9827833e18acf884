import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How to start this msite: the Node executable, and the script before the command's own arguments. */
export interface CommandLine {
  command: string;
  args: readonly string[];
}

let cached: CommandLine | undefined;

/**
 * `process.execPath bin/msite.js`, for the predefined tasks (`msite sync_export_list …`). The script is
 * found by walking up from this module, which sits at a different depth in src/ (tests) and dist/src/
 * (the built CLI); starting it through `process.execPath` runs the same Node whatever PATH says.
 */
export function msiteInvocation(): CommandLine {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const bin = join(dir, 'bin', 'msite.js');
    if (existsSync(bin) && existsSync(join(dir, 'package.json'))) {
      cached = { command: process.execPath, args: [bin] };
      return cached;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find bin/msite.js above the msite modules');
    dir = up;
  }
}
