import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomicFile.js';
import { AlreadyExistsError, InvalidInputError, NotFoundError, StorageError, UsageError } from '../core/errors.js';

const REGISTRY_FILE = 'vobs.json';

const registrySchema = z.array(z.object({ tag: z.string().min(1), path: z.string().min(1) }));
export type VobRegistration = z.infer<typeof registrySchema>[number];

/**
 * A site home: the directory holding one site's VOB registry (tags to storage directories) and,
 * as later layers add them, its shipping.conf, bays, logs, schedule and keys.
 */
export class SiteHome {
  private constructor(readonly dir: string) {}

  /** The scheduler's store directory. */
  get scheduleDir(): string {
    return join(this.dir, 'schedule');
  }

  /** shipping.conf; it need not exist (every setting then has its default). */
  get shippingConfFile(): string {
    return join(this.dir, 'shipping.conf');
  }

  /** Logs: the daemon's, sync_logs, undelivered notifications. */
  get logDir(): string {
    return join(this.dir, 'log');
  }

  /** Where the running daemon says where it listens (see daemonFile.ts). */
  get daemonFile(): string {
    return join(this.dir, 'daemon.json');
  }

  /**
   * `home` (`--home DIR`), else `MSITE_HOME` of the caller's `env`, else `~/.msite`; a relative path is
   * taken from `cwd`. The directory is made when first written.
   */
  static locate(home: string | undefined, env: NodeJS.ProcessEnv, cwd: string): SiteHome {
    const dir = home ?? env.MSITE_HOME ?? join(homedir(), '.msite');
    return new SiteHome(resolve(cwd, dir));
  }

  /** Registered VOBs, in registration order. */
  registry(): VobRegistration[] {
    const file = join(this.dir, REGISTRY_FILE);
    if (!existsSync(file)) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new StorageError(`cannot read the VOB registry ${file}: ${(err as Error).message}`, { hint: 'repair or remove the file' });
    }
    const result = registrySchema.safeParse(parsed);
    if (!result.success) throw new StorageError(`the VOB registry ${file} is malformed`, { hint: 'repair or remove the file' });
    return result.data;
  }

  register(tag: string, path: string): void {
    if (!/^[^\s@]+$/.test(tag)) throw new InvalidInputError(`invalid VOB tag "${tag}": a tag has no spaces and no "@"`);
    const entries = this.registry();
    if (entries.some((e) => e.tag === tag)) throw new AlreadyExistsError('VOB tag', tag, { hint: 'choose another tag' });
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, REGISTRY_FILE), JSON.stringify([...entries, { tag, path: resolve(path) }], null, 2) + '\n');
  }

  unregister(tag: string): void {
    const entries = this.registry();
    if (!entries.some((e) => e.tag === tag)) throw new NotFoundError('VOB tag', tag);
    writeFileAtomic(
      join(this.dir, REGISTRY_FILE),
      JSON.stringify(
        entries.filter((e) => e.tag !== tag),
        null,
        2,
      ) + '\n',
    );
  }

  /**
   * The storage directory a `--vob` value names: a registered tag, else a directory path (relative to
   * `cwd`). With no value: the only registered VOB.
   */
  resolveVob(wanted: string | undefined, cwd: string): string {
    const entries = this.registry();
    if (wanted === undefined || wanted === '') {
      if (entries.length === 1) return entries[0]!.path;
      throw new UsageError(
        entries.length === 0 ? `no VOB given and none is registered in ${this.dir}` : 'no VOB given and several are registered',
        {
          hint: 'name one with --vob TAG|DIR or $MSITE_VOB',
        },
      );
    }
    const byTag = entries.find((e) => e.tag === wanted);
    if (byTag) return byTag.path;
    const path = resolve(cwd, wanted);
    if (isAbsolute(wanted) || wanted.startsWith('.') || existsSync(path)) return path;
    throw new NotFoundError('VOB tag', wanted, { hint: `see msite lsvob --home ${this.dir}` });
  }
}
