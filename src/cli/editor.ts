import { spawnSync } from 'node:child_process';
import { InvalidInputError, IoError } from '../core/errors.js';
import type { Io } from './context.js';

/** Runs the editor ($VISUAL, else $EDITOR, else vi) on `file` through the shell, so EDITOR may carry options ("code -w"). */
export function runEditor(io: Io, file: string): void {
  const editor = io.env['VISUAL'] ?? io.env['EDITOR'] ?? 'vi';
  const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'sh', file], { stdio: 'inherit', env: io.env, cwd: io.cwd });
  if (r.error) throw new IoError(`cannot start the editor "${editor}": ${r.error.message}`, { hint: 'set $EDITOR' });
  if (r.status !== 0) {
    throw new InvalidInputError(`the editor "${editor}" exited with status ${r.status ?? r.signal}: nothing was changed`);
  }
}
