/**
 * The big-files bench's history: binary files of 1–20 MiB, half random bytes (nothing compresses
 * them), half text-like lines (deflate shrinks them about five times), a tenth of them rebuilt five more times
 * (each new version replaces a few regions of the last, as a rebuilt artifact does). Deterministic:
 * the plan and every byte follow from the seed, so every run stores the same files.
 *
 * The versions are written to files once, before anything is timed, a MiB at a time: the bench
 * never holds a file in memory, so its own RSS stays small whatever the scale.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, copyFileSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from './history.js';

const MIB = 1024 * 1024;
const MIN_FILE = 1 * MIB;
const MAX_FILE = 20 * MIB;
/** Files per directory, as a build output tree spreads them. */
const DIRS = 10;
/** A rebuilt file's versions; the others have one. */
const MANY_VERSIONS = 6;
/** The history: 200 files, when no byte budget is given. */
export const DEFAULT_FILES = 200;

export type ContentKind = 'random' | 'text';

export interface BigStep {
  file: number;
  /** 1 for the file's first version (mkelem / its first commit). */
  version: number;
  bytes: number;
}

export interface BigHistory {
  dirs: string[];
  /** Element path of every file: `d03/f0042.bin` (random) or `d04/f0043.txt` (text). */
  paths: string[];
  kinds: ContentKind[];
  steps: BigStep[];
  contentBytes: number;
}

const kindOf = (file: number): ContentKind => (file % 2 === 0 ? 'random' : 'text');
// A tenth of the files, half of them random and half text, is rebuilt.
const versionsOf = (file: number): number => (file % 20 === 3 || file % 20 === 8 ? MANY_VERSIONS : 1);

/**
 * The plan: files created in order, and after each creation, half the time, a new version of an
 * earlier many-version file that has versions left. With `budgetMib`, the longest prefix of an
 * unbounded plan whose content fits in it; without, 200 files and all their versions.
 */
export function planBigHistory(seed: number, budgetMib: number | undefined): BigHistory {
  const rng = createRng(seed);
  const budget = budgetMib === undefined ? Infinity : budgetMib * MIB;
  const fileCount = budgetMib === undefined ? DEFAULT_FILES : Number.MAX_SAFE_INTEGER;
  const steps: BigStep[] = [];
  const sizes: number[] = [];
  const next: number[] = []; // the next version of each file
  const pending: number[] = []; // many-version files with versions left
  let contentBytes = 0;
  const add = (file: number): boolean => {
    const bytes = sizes[file]!;
    if (contentBytes + bytes > budget) return false;
    steps.push({ file, version: next[file]!, bytes });
    contentBytes += bytes;
    next[file]!++;
    return true;
  };
  for (let file = 0; file < fileCount; file++) {
    sizes.push(MIN_FILE + Math.floor(rng() * (MAX_FILE - MIN_FILE)));
    next.push(1);
    if (!add(file)) break;
    if (versionsOf(file) > 1) pending.push(file);
    if (pending.length > 0 && rng() < 0.5) {
      const i = Math.floor(rng() * pending.length);
      const f = pending[i]!;
      if (!add(f)) break;
      if (next[f]! > versionsOf(f)) pending.splice(i, 1);
    }
  }
  // Without a budget, the last rebuilds come after the last file, round-robin.
  while (budgetMib === undefined && pending.length > 0) {
    const f = pending.shift()!;
    add(f);
    if (next[f]! <= versionsOf(f)) pending.push(f);
  }
  const files = new Set(steps.map((s) => s.file)).size;
  const dirCount = Math.min(DIRS, files);
  const dirs = Array.from({ length: dirCount }, (_, d) => `d${String(d + 1).padStart(2, '0')}`);
  const paths = Array.from(
    { length: files },
    (_, f) => `${dirs[f % dirCount]!}/f${String(f + 1).padStart(4, '0')}.${kindOf(f) === 'random' ? 'bin' : 'txt'}`,
  );
  return { dirs, paths, kinds: paths.map((_, f) => kindOf(f)), steps, contentBytes };
}

/** Where `writeVersion` puts a version's bytes. */
export const versionFile = (dir: string, step: BigStep): string => join(dir, `f${step.file + 1}.v${step.version}`);

// Words for the text-like files' lines: each file draws from a pool of lines of its own, larger than
// deflate's 32 KiB window, so the text compresses about as well as logs or source do, not as a
// repeated block would; and git finds deltas between the versions of a file, not between files.
const WORDS = ['alpha', 'beta', 'count', 'total', 'index', 'value', 'result', 'buffer', 'offset', 'length', 'name', 'path'];
const VERBS = ['compute', 'update', 'check', 'lookup', 'append', 'resolve', 'parse', 'format'];
const POOL_LINES = 4096;

/** Writes each version's bytes: random or text for a first version; a patched copy of the last for a rebuild. */
export class BigContentWriter {
  private pool: { file: number; lines: Buffer[] } | undefined;

  constructor(
    private readonly seed: number,
    private readonly history: BigHistory,
    private readonly dir: string,
  ) {}

  private linesOf(file: number): Buffer[] {
    if (this.pool?.file !== file) {
      const rng = createRng(this.seed ^ 0x7e47 ^ Math.imul(file + 1, 0x27d4eb2f));
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
      const lines = Array.from({ length: POOL_LINES }, () =>
        Buffer.from(`  ${pick(WORDS)}${Math.floor(rng() * 100)} = ${pick(VERBS)}(${pick(WORDS)}, ${Math.floor(rng() * 10000)});\n`),
      );
      this.pool = { file, lines };
    }
    return this.pool.lines;
  }

  /** Writes `step`'s version to versionFile (the previous version's file must exist for a rebuild). */
  write(step: BigStep): string {
    const path = versionFile(this.dir, step);
    const kind = this.history.kinds[step.file]!;
    const rng = createRng(this.seed ^ Math.imul(step.file + 1, 0x9e3779b1) ^ Math.imul(step.version, 0x85ebca6b));
    if (step.version === 1) {
      this.fill(path, 0, step.bytes, kind, step.file, rng, 'w');
      return path;
    }
    copyFileSync(versionFile(this.dir, { ...step, version: step.version - 1 }), path);
    const patches = 1 + Math.floor(rng() * 4);
    for (let p = 0; p < patches; p++) {
      const length = Math.min(step.bytes, 64 * 1024 + Math.floor(rng() * MIB));
      const offset = Math.floor(rng() * (step.bytes - length));
      this.fill(path, offset, length, kind, step.file, rng, 'r+');
    }
    return path;
  }

  private fill(path: string, offset: number, length: number, kind: ContentKind, file: number, rng: () => number, flags: string): void {
    // Random bytes from AES-CTR keyed by the rng: deterministic, and as fast as the disk.
    const key = Buffer.alloc(16);
    const iv = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) {
      key[i] = Math.floor(rng() * 256);
      iv[i] = Math.floor(rng() * 256);
    }
    const cipher = createCipheriv('aes-128-ctr', key, iv);
    const zeros = Buffer.alloc(MIB);
    const text = Buffer.alloc(MIB + 256);
    const fd = openSync(path, flags);
    try {
      for (let done = 0; done < length;) {
        const n = Math.min(MIB, length - done);
        let chunk: Buffer;
        if (kind === 'random') {
          chunk = cipher.update(zeros.subarray(0, n));
        } else {
          let at = 0;
          const lines = this.linesOf(file);
          while (at < n) at += lines[Math.floor(rng() * POOL_LINES)]!.copy(text, at);
          chunk = text.subarray(0, n);
        }
        writeSync(fd, chunk, 0, n, offset + done);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** SHA-256 of a file, read a MiB at a time: what a store must give back for it. */
export function fileDigest(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(MIB);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, MIB, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
