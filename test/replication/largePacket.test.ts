import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, cpSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Vob } from '../../src/vob/vob.js';
import { BIN, tempDir } from '../helpers/cli.js';
import { family, site, typeNames, type Site } from '../helpers/sites.js';

const HEAP_LIMIT_MB = 64;
/** An idle msite has a peak RSS of about 75 MB with a 64 MB heap; a packet held whole would add its size. */
const RSS_CEILING_KB = 160 * 1024;

/** Writes `mib` MiB of random bytes (or compressible text) to `file`. */
function makeFile(file: string, mib: number, random: boolean): void {
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      const block = random
        ? randomBytes(1 << 20)
        : Buffer.from(
            Array.from({ length: 1 << 14 }, (_, n) => `line ${i}.${n % 97} of a text file\n`)
              .join('')
              .slice(0, 1 << 20),
          );
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A family of two replicas; the origin holds `random` random files of `mib` MiB each (stored
 * uncompressed in the packet) and two text files of `textMib` (compressed). Returns the sites and the
 * files' element names.
 */
async function bigFamily(
  root: string,
  random: number,
  mib: number,
  textMib: number,
): Promise<{ boston: Site; sanfran: Site; names: string[] }> {
  const [boston, sanfran] = await family(root, ['boston_hub', 'sanfran_hub']);
  const names: string[] = [];
  await boston!.run('checkout', '--vob', '/vobs/dev', '.');
  for (let k = 0; k < random + 2; k++) {
    const name = k < random ? `blob${k}.bin` : `text${k}.txt`;
    const file = join(root, name);
    makeFile(file, k < random ? mib : textMib, k < random);
    await boston!.run('mkelem', '--vob', '/vobs/dev', '--from', file, name);
    rmSync(file);
    names.push(name);
  }
  await boston!.run('checkin', '--vob', '/vobs/dev', '.');
  return { boston: boston!, sanfran: sanfran!, names };
}

/** What must be the same at two replicas: every op, every blob (verified as it is read), version trees and types. */
async function replicaState(s: Site, names: readonly string[]): Promise<unknown> {
  const vob = Vob.open(join(s.home, '..', `${s.name}.vob`), { readonly: true });
  const blobs: string[] = [];
  let ops: unknown[];
  try {
    ops = vob.q('SELECT origin, id, kind, at FROM oplog ORDER BY origin, id').all();
    const shas = (vob.q('SELECT sha FROM content ORDER BY sha').pluck().all() as Buffer[]).map((b) => b.toString('hex'));
    for (const sha of shas) {
      const hash = createHash('sha256');
      for await (const chunk of vob.pool.chunks(sha)) hash.update(chunk);
      blobs.push(`${sha}=${hash.digest('hex')}`);
    }
  } finally {
    vob.close();
  }
  const trees: unknown[] = [];
  for (const n of names) trees.push(await s.json('lsvtree', '--vob', '/vobs/dev', n));
  return { ops, blobs, trees, types: await typeNames(s, 'lbtype') };
}

/** Environment of a bounded child: a small heap, and a probe writing its peak RSS (kB) to `rssFile` on exit. */
function boundedEnv(dir: string, home: string, rssFile: string): NodeJS.ProcessEnv {
  const probe = join(dir, 'peakRss.mjs');
  writeFileSync(
    probe,
    "import { writeFileSync } from 'node:fs';\n" +
      "process.on('exit', () => writeFileSync(process.env.PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MSITE_HOME: home,
    MSITE_VOB: '/vobs/dev',
    PEAK_RSS_FILE: rssFile,
    NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MB} --import=${pathToFileURL(probe).href}`,
  };
  return env;
}

/** Runs the built msite in a bounded child; returns its peak RSS in kB and its JSON output. */
function bounded(dir: string, home: string, args: string[]): { rssKb: number; out: unknown; seconds: number } {
  const rssFile = join(dir, 'rss');
  const started = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args, '--json'], { cwd: dir, env: boundedEnv(dir, home, rssFile) });
  expect(r.status, r.stderr.toString()).toBe(0);
  return {
    rssKb: Number(readFileSync(rssFile, 'utf8')),
    out: JSON.parse(r.stdout.toString()),
    seconds: (performance.now() - started) / 1000,
  };
}

describe('packets larger than memory', () => {
  it(`exports and imports a packet of 240 MiB of random files and 128 MiB of text in children with a ${HEAP_LIMIT_MB} MB heap and a peak RSS under ${RSS_CEILING_KB >> 10} MB`, async () => {
    const root = tempDir();
    const { boston, sanfran, names } = await bigFamily(root, 5, 48, 64);
    const exported = bounded(root, boston.home, ['syncreplica', '--export', '--out', boston.outbox, 'sanfran_hub']);
    const packets = (exported.out as { packets: string[] }).packets;
    expect(packets).toHaveLength(1);
    const size = statSync(packets[0]!).size;
    expect(size).toBeGreaterThan(240 * 1024 * 1024);
    const imported = bounded(root, sanfran.home, ['syncreplica', '--import', ...packets]);
    expect(imported.out).toMatchObject([{ result: 'applied' }]);

    expect(exported.rssKb, 'export peak RSS (kB)').toBeLessThan(RSS_CEILING_KB);
    expect(imported.rssKb, 'import peak RSS (kB)').toBeLessThan(RSS_CEILING_KB);
    expect(await replicaState(sanfran, names)).toEqual(await replicaState(boston, names));
    // Re-import reads the header only.
    const again = bounded(root, sanfran.home, ['syncreplica', '--import', ...packets]);
    expect(again.out).toMatchObject([{ result: 'already-applied' }]);

    // A new replica of the same VOB: its creation packet streams the same way.
    const creationDir = join(root, 'creation');
    mkdirSync(creationDir);
    const made = bounded(root, boston.home, ['mkreplica', '--export', '--out', creationDir, 'bangalore-host:bangalore']);
    const [creation] = (made.out as { packets: string[] }).packets;
    expect(statSync(creation!).size).toBeGreaterThan(240 * 1024 * 1024);
    const bangalore = join(root, 'bangalore');
    const joined = bounded(root, bangalore, ['mkreplica', '--import', '--tag', '/vobs/dev', join(root, 'bangalore.vob'), creation!]);
    expect(made.rssKb, 'mkreplica export peak RSS (kB)').toBeLessThan(RSS_CEILING_KB);
    expect(joined.rssKb, 'mkreplica import peak RSS (kB)').toBeLessThan(RSS_CEILING_KB);
    expect(await replicaState(site(root, 'bangalore'), names)).toEqual(await replicaState(boston, names));
  }, 120_000);

  it('an import SIGKILLed at a random moment, 10 times, completes when run again, and the replica ends identical to the origin', async () => {
    const root = tempDir();
    const { boston, sanfran, names } = await bigFamily(root, 4, 16, 2);
    const [packet] = await boston.exportTo('sanfran_hub');
    const vobDir = join(root, 'sanfran_hub.vob');
    const pristine = join(root, 'pristine.vob');
    cpSync(vobDir, pristine, { recursive: true });
    const origin = await replicaState(boston, names);
    const env = boundedEnv(root, sanfran.home, join(root, 'rss'));

    // How long a whole import takes, to kill within it.
    const whole = bounded(root, sanfran.home, ['syncreplica', '--import', packet!]).seconds * 1000;
    let killedMidway = 0;
    for (let trial = 0; trial < 10; trial++) {
      rmSync(vobDir, { recursive: true, force: true });
      cpSync(pristine, vobDir, { recursive: true });
      const child = spawn(process.execPath, [BIN, 'syncreplica', '--import', packet!], { cwd: root, env, stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const delay = whole * (0.1 + 0.8 * Math.random());
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const code = await exited;
      clearTimeout(timer);
      if (code === null) killedMidway++;
      const retry = bounded(root, sanfran.home, ['syncreplica', '--import', packet!]);
      expect(['applied', 'already-applied']).toContain((retry.out as { result: string }[])[0]!.result);
      expect(await replicaState(sanfran, names), `trial ${trial}, killed after ${Math.round(delay)} ms`).toEqual(origin);
    }
    expect(killedMidway).toBeGreaterThan(5);
  }, 120_000);
});
