import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MsiteError, StateError } from '../core/errors.js';
import { isSealedPacket, openSealedPacket } from '../packet/sealedPacket.js';

/** This site's age identities (`AGE-SECRET-KEY-1…`), asked for only when a sealed packet is met. */
export type PacketKeys = () => readonly string[];

/**
 * Sealed packets (sealedPacket.ts) opened for an import or lspacket: each is decrypted, chunk by
 * chunk, into a private temp directory before anything reads it, so its signature and checksum are
 * verified on the plain packet as for any other. Import and lspacket name the sealed file; the opened
 * copy is only what they read. A sealed packet that does not open (another site's, or changed on its
 * way) is refused with why, and touches nothing. `close` removes the opened copies.
 */
export class OpenedPackets {
  private constructor(
    private readonly plain: ReadonlyMap<string, string>,
    private readonly refusals: ReadonlyMap<string, MsiteError>,
    private readonly dir: string | undefined,
  ) {}

  /** No packet sealed: every file is read as it is. */
  static readonly none = new OpenedPackets(new Map(), new Map(), undefined);

  /**
   * Opens the sealed files among `files` with `keys` into a temp directory under `tmpRoot` (default
   * the system's), one at a time.
   */
  static async open(files: readonly string[], keys: PacketKeys, tmpRoot: string = tmpdir()): Promise<OpenedPackets> {
    const sealed = files.filter(isSealedPacket);
    if (sealed.length === 0) return OpenedPackets.none;
    const plain = new Map<string, string>();
    const refusals = new Map<string, MsiteError>();
    const identities = keys();
    const dir = mkdtempSync(join(tmpRoot, 'msite-opened-'));
    try {
      for (const [i, file] of sealed.entries()) {
        if (identities.length === 0) {
          refusals.set(
            file,
            new StateError(`packet ${file} is encrypted, and this site has no age key to open it`, { hint: 'msite site init makes one' }),
          );
          continue;
        }
        // The opened copy keeps the packet's name: import records it.
        const to = join(dir, String(i), basename(file));
        mkdirSync(join(dir, String(i)));
        try {
          await openSealedPacket(file, to, identities);
          plain.set(file, to);
        } catch (err) {
          if (!(err instanceof MsiteError) || err.transient) throw err;
          refusals.set(file, err);
        }
      }
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return new OpenedPackets(plain, refusals, dir);
  }

  /** The file to read for `file`: its opened copy when it is sealed, else itself. */
  readable(file: string): string {
    return this.plain.get(file) ?? file;
  }

  /** Why the sealed `file` could not be opened; undefined when it was, or is not sealed. */
  refusal(file: string): string | undefined {
    return this.refusals.get(file)?.message;
  }

  /** The error the sealed `file` was refused with, to throw where one packet is all there is. */
  refusalError(file: string): MsiteError | undefined {
    return this.refusals.get(file);
  }

  /** Removes the opened copies. */
  close(): void {
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
