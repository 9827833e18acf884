import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.js';
import { writingTo } from '../core/errors.js';
import { msiteInvocation, type CommandLine } from '../schedule/msiteInvocation.js';

/** Where `msite site init` writes the site's receipt handler. */
export function receiptHandlerPath(homeDir: string): string {
  return join(homeDir, 'bin', 'sync_receive_handler');
}

function shellQuoted(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The handler script: MultiSite's receiver runs it as `HANDLER -o ORIGIN -d PACKET -a ORDER -s CLASS`,
 * and it runs `msite sync_receive` for this home with those arguments. It names the Node executable
 * and msite script that wrote it, so it works whatever PATH the daemon that starts it has.
 */
export function receiptHandlerScript(homeDir: string, msite: CommandLine = msiteInvocation()): string {
  return [
    '#!/bin/sh',
    '# Written by "msite site init" (and rewritten by it when msite moves). Name it in shipping.conf as',
    '#   RECEIPT-HANDLER -default <this file>',
    '# and each packet received is imported as it arrives: the receiver runs it as',
    '#   sync_receive_handler -o ORIGIN -d PACKET -a ORDER -s CLASS',
    `MSITE_HOME=${shellQuoted(homeDir)}`,
    'export MSITE_HOME',
    `exec ${[msite.command, ...msite.args].map(shellQuoted).join(' ')} sync_receive --home ${shellQuoted(homeDir)} "$@"`,
    '',
  ].join('\n');
}

/** Writes (or brings up to date) the site's receipt handler, executable; returns its path. */
export function writeReceiptHandler(homeDir: string): string {
  const path = receiptHandlerPath(homeDir);
  const script = receiptHandlerScript(homeDir);
  if (existsSync(path) && readFileSync(path, 'utf8') === script) return path;
  writingTo('create directory', join(homeDir, 'bin'), () => mkdirSync(join(homeDir, 'bin'), { recursive: true }));
  writeFileAtomic(path, script, { mode: 0o755 });
  return path;
}
