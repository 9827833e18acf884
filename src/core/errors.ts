/**
 * Every failure msite reports is an `MsiteError`: a stable `code` that scripts can match, structured
 * `data` for --json and logs, and whether retrying can help (`transient`), so shipping and the
 * scheduler retry only what can succeed later.
 *
 * The message is the "<what failed>: <why>" part of the CLI's one error line; `hint` is the optional
 * "(what to do)" tail.
 */
export type Persistence = 'transient' | 'permanent';

export interface MsiteErrorOptions {
  data?: Record<string, unknown>;
  hint?: string;
  persistence?: Persistence;
  cause?: unknown;
}

export class MsiteError extends Error {
  /** Stable machine-readable code; never reworded once released. */
  readonly code: string;
  readonly data: Record<string, unknown>;
  readonly hint: string | undefined;
  readonly persistence: Persistence;

  constructor(code: string, message: string, options: MsiteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.data = options.data ?? {};
    this.hint = options.hint;
    this.persistence = options.persistence ?? 'permanent';
  }

  get transient(): boolean {
    return this.persistence === 'transient';
  }

  /** Exit status for the CLI: 2 for usage errors, 1 for everything else. */
  get exitCode(): 1 | 2 {
    return 1;
  }

  /** The single line a user sees, without the `msite: error:` prefix. */
  toLine(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** A command line that does not parse: unknown option, missing argument, malformed selector. */
export class UsageError extends MsiteError {
  static readonly code = 'EUSAGE';
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(UsageError.code, message, options);
  }
  override get exitCode(): 1 | 2 {
    return 2;
  }
}

/** A named object (path, type, replica, VOB tag, version) does not exist. */
export class NotFoundError extends MsiteError {
  static readonly code = 'ENOTFOUND';
  constructor(what: string, name: string, options: MsiteErrorOptions = {}) {
    super(NotFoundError.code, `${what} not found: "${name}"`, {
      ...options,
      data: { what, name, ...options.data },
    });
  }
}

/** A name is already used by another object of the same kind. */
export class AlreadyExistsError extends MsiteError {
  static readonly code = 'EEXISTS';
  constructor(what: string, name: string, options: MsiteErrorOptions = {}) {
    super(AlreadyExistsError.code, `${what} already exists: "${name}"`, {
      ...options,
      data: { what, name, ...options.data },
    });
  }
}

/** The operation needs mastership this replica does not hold (MultiSite's wording). */
export class MastershipError extends MsiteError {
  static readonly code = 'EMASTERSHIP';
  constructor(data: { operation: string; replica: string; vob: string; object: string; master: string }) {
    super(
      MastershipError.code,
      `Unable to perform operation "${data.operation}" in replica "${data.replica}" of VOB "${data.vob}": ` +
        `Master replica of ${data.object} is "${data.master}"`,
      { data, hint: 'ask the master replica to do it, or to hand over mastership with chmaster' },
    );
  }
}

/** The operation is valid in general but not in the object's present state (not checked out, locked...). */
export class StateError extends MsiteError {
  static readonly code = 'ESTATE';
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(StateError.code, message, options);
  }
}

/** Input that is not what it claims to be: malformed value, bad config spec, bad file. */
export class InvalidInputError extends MsiteError {
  static readonly code = 'EINVALID';
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(InvalidInputError.code, message, options);
  }
}

/** A storage directory that is not a VOB, or a VOB whose schema this build cannot read. */
export class StorageError extends MsiteError {
  static readonly code = 'ESTORAGE';
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(StorageError.code, message, options);
  }
}

/** Something outside msite failed in a way that may pass (busy database, full disk, I/O). */
export class IoError extends MsiteError {
  static readonly code = 'EIO';
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(IoError.code, message, { persistence: 'transient', ...options });
  }
}

/** Wraps anything thrown that is not already an MsiteError, keeping the original as `cause`. */
export function toMsiteError(err: unknown): MsiteError {
  if (err instanceof MsiteError) return err;
  if (err instanceof Error) {
    const sysCode = (err as NodeJS.ErrnoException).code;
    if (sysCode === 'SQLITE_BUSY' || sysCode === 'EAGAIN' || sysCode === 'ENOSPC') {
      return new IoError(err.message, { cause: err, data: { sysCode } });
    }
    return new MsiteError('EINTERNAL', err.message, { cause: err, data: { sysCode } });
  }
  return new MsiteError('EINTERNAL', String(err));
}
