import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, ok, tempDir } from '../helpers/cli.js';

/** The file checked in: several times the child's heap limit, and twice its RSS ceiling. */
const FILE_MIB = 256;
const HEAP_LIMIT_MB = 64;
/** An idle `msite` has a peak RSS of about 75 MB (with a 64 MB heap limit); a copy of the file would add 256. */
const RSS_CEILING_KB = 150 * 1024;

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** checkin --from and cat copy content a chunk at a time, whatever its size: run as an administrator would, in a process of bounded memory. */
describe('content larger than memory', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const env = { MSITE_HOME: home, MSITE_VOB: '/vobs/big' };
  // Loaded into each child: writes its peak RSS (kB) where the test reads it.
  const rssFile = join(dir, 'rss');
  const probe = join(dir, 'peakRss.mjs');
  writeFileSync(
    probe,
    "import { writeFileSync } from 'node:fs';\n" +
      "process.on('exit', () => writeFileSync(process.env.PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );

  /** Runs the built msite with a small heap; its stdout goes to `out` when given. Returns its peak RSS in kB. */
  const bounded = (args: string[], out?: string): number => {
    const fd = out === undefined ? 'ignore' : openSync(out, 'w');
    try {
      const r = spawnSync(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: {
          ...process.env,
          ...env,
          PEAK_RSS_FILE: rssFile,
          NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MB} --import=${pathToFileURL(probe).href}`,
        },
        stdio: ['ignore', fd, 'pipe'],
      });
      expect(r.status, r.stderr.toString()).toBe(0);
    } finally {
      if (typeof fd === 'number') closeSync(fd);
    }
    return Number(readFileSync(rssFile, 'utf8'));
  };

  it(`checks in and cats ${FILE_MIB} MiB of random bytes with a ${HEAP_LIMIT_MB} MB heap and a peak RSS under ${RSS_CEILING_KB >> 10} MB`, async () => {
    // Random, so neither the pool nor the file system can make it small.
    const big = join(dir, 'big.bin');
    const hash = createHash('sha256');
    const fd = openSync(big, 'w');
    for (let i = 0; i < FILE_MIB; i++) {
      const block = randomBytes(1 << 20);
      hash.update(block);
      writeSync(fd, block);
    }
    closeSync(fd);
    const sha = hash.digest('hex');

    await ok(['mkvob', '--tag', '/vobs/big', join(dir, 'big.vob')], { home });
    await ok(['checkout', '.'], { env });
    const checkedIn = bounded(['mkelem', '--from', 'big.bin', 'big.bin']);
    await ok(['checkin', '.'], { env });
    const copy = join(dir, 'copy.bin');
    const catted = bounded(['cat', 'big.bin'], copy);

    expect(await sha256OfFile(copy)).toBe(sha);
    expect(checkedIn).toBeLessThan(RSS_CEILING_KB);
    expect(catted).toBeLessThan(RSS_CEILING_KB);
  }, 60_000);
});
