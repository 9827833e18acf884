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

  /** The HTTP status the daemon answers this kind of failure with; each subclass states its own. */
  static readonly httpStatus: number = 500;

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

  /** The HTTP status for this failure: its class's `httpStatus`. */
  get httpStatus(): number {
    return (this.constructor as typeof MsiteError).httpStatus;
  }

  /**
   * Exit status for the CLI: 2 for usage errors, 1 for everything else, except where MultiSite's
   * command makes it a count (sync_export_list exits with the number of failed exports).
   */
  get exitCode(): number {
    return 1;
  }

  /** The single line a user sees, without the `msite: error:` prefix. */
  toLine(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** A command line that does not parse: unknown option, missing argument, malformed selector. */
export class UsageError extends MsiteError {
  static readonly code = 'USAGE';
  static override readonly httpStatus: number = 400;
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(UsageError.code, message, options);
  }
  override get exitCode(): 1 | 2 {
    return 2;
  }
}

/** A named object (path, type, replica, VOB tag, version) does not exist. */
export class NotFoundError extends MsiteError {
  static readonly code = 'NOT_FOUND';
  static override readonly httpStatus: number = 404;
  constructor(what: string, name: string, options: MsiteErrorOptions = {}) {
    super(NotFoundError.code, `${what} not found: "${name}"`, {
      ...options,
      data: { what, name, ...options.data },
    });
  }
}

/** A name is already used by another object of the same kind. */
export class AlreadyExistsError extends MsiteError {
  static readonly code = 'ALREADY_EXISTS';
  static override readonly httpStatus: number = 409;
  constructor(what: string, name: string, options: MsiteErrorOptions = {}) {
    super(AlreadyExistsError.code, `${what} already exists: "${name}"`, {
      ...options,
      data: { what, name, ...options.data },
    });
  }
}

/** The operation needs mastership this replica does not hold (MultiSite's wording). */
export class MastershipError extends MsiteError {
  static readonly code = 'MASTERSHIP';
  static override readonly httpStatus: number = 403;
  /** `hint` replaces the general remedy where the caller knows a better one (a view names reqmaster). */
  constructor(data: { operation: string; replica: string; vob: string; object: string; master: string }, options: { hint?: string } = {}) {
    super(
      MastershipError.code,
      `Unable to perform operation "${data.operation}" in replica "${data.replica}" of VOB "${data.vob}": ` +
        `Master replica of ${data.object} is "${data.master}"`,
      { data, hint: options.hint ?? 'ask the master replica to do it, or to hand over mastership with chmaster' },
    );
  }
}

/** The operation is valid in general but not in the object's present state (not checked out, locked...). */
export class StateError extends MsiteError {
  static readonly code = 'STATE';
  static override readonly httpStatus: number = 409;
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(StateError.code, message, options);
  }
}

/** Input that is not what it claims to be: malformed value, bad config spec, bad file. */
export class InvalidInputError extends MsiteError {
  static readonly code = 'INVALID_INPUT';
  static override readonly httpStatus: number = 400;
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(InvalidInputError.code, message, options);
  }
}

/** A storage directory that is not a VOB, or a VOB whose schema this build cannot read. */
export class StorageError extends MsiteError {
  static readonly code = 'STORAGE';
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(StorageError.code, message, options);
  }
}

/**
 * Bytes that do not hash to the SHA-256 they were given under: content copied or received damaged.
 * Nothing of them is kept; sending or reading them again may succeed.
 */
export class IntegrityError extends MsiteError {
  static readonly code = 'INTEGRITY';
  static override readonly httpStatus: number = 422;
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(IntegrityError.code, message, options);
  }
}

/** Something outside msite failed in a way that may pass (busy database, full disk, I/O). */
export class IoError extends MsiteError {
  static readonly code = 'IO';
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(IoError.code, message, { persistence: 'transient', ...options });
  }
  /** 503 while retrying can help, else 500. */
  override get httpStatus(): number {
    return this.transient ? 503 : 500;
  }
}

/**
 * msite may not write (or create) a file or directory it needs: permissions, a read-only file
 * system, an immutable file. `data.path` names it, so the administrator knows what to fix.
 */
export class PermissionError extends MsiteError {
  static readonly code = 'PERMISSION';
  constructor(action: string, path: string, options: MsiteErrorOptions & { sysCode?: string } = {}) {
    const why = options.sysCode === 'EROFS' ? 'the file system is read-only' : 'permission denied';
    super(PermissionError.code, `cannot ${action} ${path}: ${why}`, {
      hint: 'check its owner and permissions, and that its file system is mounted read-write',
      ...options,
      data: { path, sysCode: options.sysCode, ...options.data },
    });
  }
}

/** A fault in msite itself, or a system failure no other class describes; the original is the `cause`. */
export class InternalError extends MsiteError {
  static readonly code = 'INTERNAL';
  constructor(message: string, options: MsiteErrorOptions = {}) {
    super(InternalError.code, message, options);
  }
}

/**
 * System error codes (errno names, SQLite result codes) after which the same operation may succeed
 * later: a busy or locked database, a full disk or quota, too many open files, a network hiccup.
 * The one place that decides it; everything that retries asks `isTransientSysCode`.
 */
const TRANSIENT_SYS_CODES: ReadonlySet<string> = new Set([
  'EAGAIN',
  'EWOULDBLOCK',
  'EBUSY',
  'EINTR',
  'EIO',
  'EMFILE',
  'ENFILE',
  'ENOSPC',
  'EDQUOT',
  'ENOMEM',
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
]);

/** Whether a system error code names a failure that may pass; SQLite extended codes count as their primary. */
export function isTransientSysCode(sysCode: string | undefined): boolean {
  if (sysCode === undefined) return false;
  if (TRANSIENT_SYS_CODES.has(sysCode)) return true;
  const primary = /^(SQLITE_[A-Z]+)_/.exec(sysCode)?.[1];
  return primary !== undefined && TRANSIENT_SYS_CODES.has(primary);
}

/** System error codes that mean "you may not write there". */
const PERMISSION_SYS_CODES: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS', 'SQLITE_READONLY']);

/** Whether a system error code says the path may not be written (see `PermissionError`). */
export function isPermissionSysCode(sysCode: string | undefined): boolean {
  return sysCode !== undefined && (PERMISSION_SYS_CODES.has(sysCode) || sysCode.startsWith('SQLITE_READONLY'));
}

/**
 * Runs a file-system write (`action` on `path`: "write", "create directory"...) so that a system
 * failure names the path: a refusal to write becomes a `PermissionError`, any other system error an
 * `IoError` (transient or not by the table above). Anything else passes through unchanged.
 */
export function writingTo<T>(action: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw writeFailure(err, action, path) ?? err;
  }
}

/** The `PermissionError` or `IoError` naming `path` for a system error met doing `action` on it; undefined for other errors. */
export function writeFailure(err: unknown, action: string, path: string): MsiteError | undefined {
  if (err instanceof MsiteError || !(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException;
  const sysCode = e.code;
  if (typeof sysCode !== 'string' || !/^(E[A-Z0-9]+|SQLITE_[A-Z_]+)$/.test(sysCode)) return undefined;
  const data = { path, sysCode, ...(e.path !== undefined && e.path !== path ? { sysPath: e.path } : {}) };
  if (isPermissionSysCode(sysCode)) return new PermissionError(action, path, { cause: err, sysCode, data });
  // Node words it "ENOTDIR: not a directory, mkdir '/x/y'": keep the reason, the path is named already.
  const why = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message)?.[1] ?? e.message;
  return new IoError(`cannot ${action} ${path}: ${why}`, {
    cause: err,
    data,
    persistence: isTransientSysCode(sysCode) ? 'transient' : 'permanent',
  });
}

/** Wraps anything thrown that is not already an MsiteError, keeping the original as `cause`. */
export function toMsiteError(err: unknown): MsiteError {
  if (err instanceof MsiteError) return err;
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException;
    const sysCode = e.code;
    // A system call that failed on a path is the environment's doing, not a fault in msite: name the path.
    if (e.path !== undefined) {
      const named = writeFailure(err, e.syscall ?? 'access', e.path);
      if (named) return named;
    }
    if (isTransientSysCode(sysCode)) return new IoError(err.message, { cause: err, data: { sysCode } });
    return new InternalError(err.message, { cause: err, data: { sysCode } });
  }
  return new InternalError(String(err));
}
