import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../core/atomicFile.js';
import { StorageError } from '../core/errors.js';
import { parseShippingConf, type Peer } from './shippingConf.js';

const PEER_LINE = /^\s*peer\s+("?)([^\s"]+)\1(\s|$)/i;

/**
 * Adds or replaces `peer.host`'s PEER line in the shipping.conf `file` (made when missing): the line is
 * replaced where it stands, or appended; every other line and comment stays byte for byte. The result
 * is checked whole before it is written, atomically, so a bad key, URL or an already broken file
 * changes nothing.
 *
 * @returns whether a line was replaced (else added).
 * @throws ShippingConfError naming the line at fault.
 */
export function setPeerLine(file: string, peer: Omit<Peer, 'line'>): boolean {
  let text = '';
  let mode: number | undefined;
  if (existsSync(file)) {
    try {
      text = readFileSync(file, 'utf8');
      mode = statSync(file).mode & 0o7777;
    } catch (cause) {
      throw new StorageError(`cannot read ${file}: ${(cause as Error).message}`, { cause });
    }
  }
  const quote = (w: string): string => (/[\s#"]/.test(w) ? `"${w}"` : w);
  const line = ['PEER', peer.host, peer.url, peer.publicKey, ...(peer.recipient !== undefined ? [peer.recipient] : [])]
    .map(quote)
    .join(' ');
  // Split keeping each line's own ending, so what is not replaced is written back as it was.
  const lines: string[] = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const at = lines.findIndex((l) => PEER_LINE.exec(l)?.[2] === peer.host);
  if (at >= 0) {
    lines[at] = `${line}${/\r?\n$/.exec(lines[at]!)?.[0] ?? ''}`;
  } else {
    if (lines.length > 0 && !lines[lines.length - 1]!.endsWith('\n')) lines[lines.length - 1] += '\n';
    lines.push(`${line}\n`);
  }
  const next = lines.join('');
  parseShippingConf(next, { file });
  writeFileAtomic(file, next, mode === undefined ? {} : { mode });
  return at >= 0;
}
