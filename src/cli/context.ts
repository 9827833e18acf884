import { once } from 'node:events';
import { createReadStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isatty } from 'node:tty';
import { Option, type Command } from '@commander-js/extra-typings';
import { InvalidInputError } from '../core/errors.js';
import { SiteHome } from '../site/siteHome.js';
import { parseConfigSpec, type ConfigSpec } from '../vob/configSpec.js';
import { CHUNK_BYTES, type StagedBlob } from '../vob/contentPool.js';
import { vobFromSelectors } from '../vob/selectors.js';
import { Vob } from '../vob/vob.js';
import { closedAfter } from '../site/familyVob.js';

/** The options of `siteCommand` and `vobCommand`, and `--json`, as the helpers below read them. */
export interface CommonOptions {
  home?: string;
  vob?: string;
  json?: boolean;
  config?: string;
  debug?: boolean;
}

/**
 * Everything a command takes from the process it runs in: where it writes (results to `out`, warnings
 * and progress to `err`), the environment, the working directory, standard input and whether stdin and
 * stderr are terminals. Commands read none of these from `process`, so tests run them in-process.
 */
export interface Io {
  out(text: string | Uint8Array): void;
  /**
   * Resolves once what `out` was given has been passed on (stdout's buffer drained). A command
   * writing much (cat of a large version) awaits it between chunks, so its memory stays bounded
   * however slow the reader. Without it, `out` is taken to hold whatever it is given.
   */
  drained?(): Promise<void>;
  err(text: string): void;
  /** MSITE_HOME, MSITE_VOB, VISUAL, EDITOR, MSITE_LOG_LEVEL, and the environment of spawned programs. */
  readonly env: NodeJS.ProcessEnv;
  /** Relative paths on the command line are taken from here. */
  readonly cwd: string;
  /** Standard input: `schedule --set -` and prompts read it. */
  readonly stdin: NodeJS.ReadableStream;
  /** Whether a person may answer on standard input (confirmations, "Edit again?"). */
  readonly stdinIsTTY: boolean;
  /** Whether stderr is a terminal: progress lines are drawn only then. */
  readonly stderrIsTTY: boolean;
}

/** The running process's streams, environment and working directory, read when a command uses them. */
export const processIo: Io = {
  out: (t) => {
    process.stdout.write(t);
  },
  err: (t) => {
    process.stderr.write(t);
  },
  drained: async () => {
    if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
  },
  get env() {
    return process.env;
  },
  get cwd() {
    return process.cwd();
  },
  // Touching process.stdin opens a handle on fd 0, so only commands that read it do.
  get stdin() {
    return process.stdin;
  },
  get stdinIsTTY() {
    return isatty(0);
  },
  get stderrIsTTY() {
    return process.stderr.isTTY;
  },
};

/** A path named on the command line, made absolute against the command's working directory. */
export function inputPath(io: Io, path: string): string {
  return resolve(io.cwd, path);
}

/** The site home: `--home DIR`, else `$MSITE_HOME`, else `~/.msite`. */
export function siteHome(io: Io, opts: CommonOptions): SiteHome {
  return SiteHome.locate(opts.home, io.env, io.cwd);
}

/**
 * Opens the VOB a command names (`--vob`, an `@VOB` suffix on a selector, `$MSITE_VOB`, or the only
 * registered VOB), runs `fn`, and closes it whatever happens.
 */
export function withVob<T>(io: Io, opts: CommonOptions, fn: (vob: Vob) => T, selectors: readonly string[] = []): T {
  return openedVob(io, opts, fn, selectors, false);
}

/** withVob for a command that only reads: the VOB is opened read-only, so looking can never change it. */
export function readVob<T>(io: Io, opts: CommonOptions, fn: (vob: Vob) => T, selectors: readonly string[] = []): T {
  return openedVob(io, opts, fn, selectors, true);
}

/** Opens the VOB, runs `fn`, and closes the VOB when `fn` returns or, if it returns a promise, when that settles. */
function openedVob<T>(io: Io, opts: CommonOptions, fn: (vob: Vob) => T, selectors: readonly string[], readonly: boolean): T {
  const dir = siteHome(io, opts).resolveVob(opts.vob ?? vobFromSelectors(selectors) ?? io.env.MSITE_VOB, io.cwd);
  return closedAfter(Vob.open(dir, { readonly }), fn);
}

/** Reads a file named on the command line, with one clear error if it cannot be read. */
export function readInputFile(io: Io, file: string, what: string): Buffer {
  try {
    return readFileSync(inputPath(io, file));
  } catch (err) {
    throw unreadable(err, file, what);
  }
}

/**
 * Stages a file named on the command line in the VOB's pool (ContentPool.stage), read a chunk at a
 * time: a file of any size is copied and hashed in bounded memory. Same error as readInputFile if
 * it cannot be read. The caller commits the blob in its transaction, or discards it.
 */
export async function stageInputFile(io: Io, vob: Vob, file: string, what: string): Promise<StagedBlob> {
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of createReadStream(inputPath(io, file), { highWaterMark: CHUNK_BYTES })) yield chunk as Buffer;
    } catch (err) {
      throw unreadable(err, file, what);
    }
  }
  return vob.pool.stage(chunks());
}

function unreadable(err: unknown, file: string, what: string): InvalidInputError {
  const e = err as NodeJS.ErrnoException;
  return new InvalidInputError(
    `cannot read ${what} ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.message}`,
    {
      data: { file },
    },
  );
}

/** The config spec from `--config FILE`, or undefined for the default. */
export function configSpec(io: Io, opts: CommonOptions): ConfigSpec | undefined {
  if (!opts.config) return undefined;
  return parseConfigSpec(readInputFile(io, opts.config, 'config spec').toString('utf8'), opts.config);
}

/** Prints a result: JSON for --json, else the text form. */
export function emit(io: Io, opts: CommonOptions, json: unknown, text: () => string): void {
  if (opts.json) {
    io.out(JSON.stringify(json, null, 2) + '\n');
    return;
  }
  const t = text();
  if (t !== '') io.out(t.endsWith('\n') ? t : t + '\n');
}

/** Lines of aligned columns for text listings. */
export function columns(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** `--json`: print the result as one JSON document. */
export function jsonOption(): Option<'--json'> {
  return new Option('--json', 'print the result as JSON');
}

/** A subcommand of `msite` with the options every command takes: `--home DIR` and `--debug`. */
export function siteCommand<N extends string>(program: Command, name: N, description: string) {
  return program
    .command(name)
    .description(description)
    .option('--home <dir>', 'site home (default $MSITE_HOME, else ~/.msite)')
    .option('--debug', 'show stack traces on failure');
}

/** A subcommand that works on one VOB: `--vob TAG|DIR` (MultiSite's `-invob`). */
export function vobCommand<N extends string>(program: Command, name: N, description: string) {
  return siteCommand(program, name, description).option('--vob <vob>', 'VOB tag or storage directory');
}

/** A subcommand that resolves element paths in one VOB: `vobCommand` with `--config FILE`. */
export function pathCommand<N extends string>(program: Command, name: N, description: string) {
  return vobCommand(program, name, description).option(
    '--config <file>',
    'config spec selecting versions (default: CHECKEDOUT, then /main/LATEST)',
  );
}
