import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeControlChars, hasControlChar } from '../../src/core/controlChars.js';
import {
  AlreadyExistsError,
  IntegrityError,
  InternalError,
  InvalidInputError,
  IoError,
  isTransientSysCode,
  MastershipError,
  MsiteError,
  NotFoundError,
  PermissionError,
  StateError,
  StorageError,
  toMsiteError,
  UsageError,
  writeFailure,
  writingTo,
} from '../../src/core/errors.js';
import { PacketError } from '../../src/packet/packetError.js';
import { AmbiguousJobError } from '../../src/schedule/ambiguousJobError.js';
import { DefinitionError } from '../../src/schedule/definitionError.js';
import { JobFailedError } from '../../src/schedule/jobFailedError.js';
import { ScheduleAccessError } from '../../src/schedule/scheduleAccessError.js';
import { ShippingConfError } from '../../src/shipping/shippingConf.js';
import { DaemonError } from '../../src/site/daemonError.js';
import { MethodNotAllowedError } from '../../src/site/methodNotAllowedError.js';
import { tempDir } from '../helpers/cli.js';

function sysError(code: string, path?: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: something went wrong, open '${path ?? ''}'`);
  e.code = code;
  if (path !== undefined) e.path = path;
  return e;
}

describe('the error vocabulary', () => {
  const samples: [MsiteError, string, number][] = [
    [new UsageError('x'), 'USAGE', 400],
    [new NotFoundError('VOB tag', 'x'), 'NOT_FOUND', 404],
    [new AlreadyExistsError('VOB tag', 'x'), 'ALREADY_EXISTS', 409],
    [new MastershipError({ operation: 'o', replica: 'r', vob: 'v', object: 'b', master: 'm' }), 'MASTERSHIP', 403],
    [new StateError('x'), 'STATE', 409],
    [new InvalidInputError('x'), 'INVALID_INPUT', 400],
    [new StorageError('x'), 'STORAGE', 500],
    [new IntegrityError('x'), 'INTEGRITY', 422],
    [new IoError('x'), 'IO', 503],
    [new IoError('x', { persistence: 'permanent' }), 'IO', 500],
    [new PermissionError('write', '/x'), 'PERMISSION', 500],
    [new InternalError('x'), 'INTERNAL', 500],
    [new PacketError('truncated', '/p', 'x'), 'PACKET', 422],
    [new DefinitionError([{ line: 1, message: 'x' }]), 'SCHEDULE_DEFINITION', 400],
    [new ShippingConfError([{ line: 1, message: 'x' }], 'f'), 'SHIPPING_CONF', 400],
    [new AmbiguousJobError('j', [1, 2]), 'AMBIGUOUS_JOB', 400],
    [new ScheduleAccessError('u', 'full', 'read'), 'SCHEDULE_ACCESS', 403],
    [new JobFailedError(1, 'j', 3), 'JOB_FAILED', 500],
    [new MethodNotAllowedError('PUT', '/api', ['GET']), 'METHOD_NOT_ALLOWED', 405],
    [new DaemonError('NOT_FOUND', 404, 'x'), 'NOT_FOUND', 404],
  ];

  it.each(samples.map(([e, code, status]) => [e.constructor.name, e, code, status] as const))(
    '%s has its code and HTTP status',
    (_n, e, code, status) => {
      expect(e.code).toBe(code);
      expect(e.httpStatus).toBe(status);
    },
  );

  it('has no code that looks like a POSIX errno name', () => {
    for (const [e] of samples) expect(e.code).not.toMatch(/^E[A-Z]+$/);
  });

  it('decides transience from one table, SQLite extended codes included', () => {
    for (const c of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'EAGAIN', 'ENOSPC', 'ECONNRESET', 'ETIMEDOUT', 'EDQUOT'])
      expect(isTransientSysCode(c), c).toBe(true);
    for (const c of ['ENOENT', 'EACCES', 'SQLITE_CORRUPT', 'SQLITE_CONSTRAINT_PRIMARYKEY', undefined])
      expect(isTransientSysCode(c), c).toBe(false);
    expect(toMsiteError(sysError('SQLITE_LOCKED'))).toBeInstanceOf(IoError);
    expect(toMsiteError(sysError('ECONNRESET')).transient).toBe(true);
    expect(toMsiteError(sysError('ENOENT'))).toBeInstanceOf(InternalError);
    const notDir = toMsiteError(Object.assign(sysError('ENOTDIR', '/f/home'), { syscall: 'mkdir' }));
    expect(notDir).toBeInstanceOf(IoError);
    expect(notDir.toLine()).toBe('cannot mkdir /f/home: something went wrong');
  });

  it('turns a refusal to write into a PermissionError naming the path, whatever the errno', () => {
    for (const code of ['EACCES', 'EPERM', 'EROFS', 'SQLITE_READONLY', 'SQLITE_READONLY_DIRECTORY']) {
      const e = writeFailure(sysError(code, '/home/x/.vobs.json~msite-tmp~1~h~1'), 'write', '/home/x/vobs.json');
      expect(e, code).toBeInstanceOf(PermissionError);
      expect(e!.code).toBe('PERMISSION');
      expect(e!.message).toMatch(/^cannot write \/home\/x\/vobs\.json: /);
      expect(e!.data['path']).toBe('/home/x/vobs.json');
    }
    expect(writeFailure(sysError('EROFS', '/r'), 'write', '/r')!.message).toBe('cannot write /r: the file system is read-only');
    // Nothing but the path: EACCES met outside a wrapped write still names it.
    const e = toMsiteError(sysError('EACCES', '/srv/home'));
    expect(e).toBeInstanceOf(PermissionError);
    expect(e.toLine()).toContain('/srv/home');
  });

  it('names the path for other system failures of a write, transient or not by the table', () => {
    const full = writeFailure(sysError('ENOSPC', '/o/p'), 'write', '/o/p')!;
    expect(full).toBeInstanceOf(IoError);
    expect(full.transient).toBe(true);
    expect(full.message).toBe('cannot write /o/p: something went wrong');
    expect(writeFailure(sysError('ENOTDIR', '/f/x'), 'create directory', '/f/x')!.transient).toBe(false);
    expect(writeFailure(new InvalidInputError('x'), 'write', '/p')).toBeUndefined();
    expect(writeFailure(new Error('no code'), 'write', '/p')).toBeUndefined();
  });

  it('maps a real failing write (ENOTDIR, which fails for root too) through writingTo', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    const target = join(dir, 'file', 'home');
    let caught: unknown;
    try {
      writingTo('create directory', target, () => mkdirSync(target, { recursive: true }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(IoError);
    expect((caught as IoError).message).toBe(`cannot create directory ${target}: not a directory`);
  });
});

describe('control characters', () => {
  it('are found and escaped so text stays on one line', () => {
    expect(hasControlChar('a\nb')).toBe(true);
    expect(hasControlChar('a\u001bb')).toBe(true);
    expect(hasControlChar('a\u2028b')).toBe(true);
    expect(hasControlChar('abc é')).toBe(false);
    expect(escapeControlChars('a\nb\tc\rd\u001b[31m\u0000\u0085\u2028')).toBe('a\\nb\\tc\\rd\\x1b[31m\\x00\\x85\\u2028');
    expect(escapeControlChars('plain')).toBe('plain');
  });
});
