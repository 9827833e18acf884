import type { z } from 'zod';
import { EXT_UUID } from '../../core/packedStrings.js';
import { checkinOp } from './checkin.js';
import { checkoutOp } from './checkout.js';
import { chreplicaOp } from './chreplica.js';
import { chmasterOp } from './chmaster.js';
import { importelemOp } from './importelem.js';
import { lockOp, unlockOp } from './lock.js';
import { mkattrOp } from './mkattr.js';
import { mkbranchOp } from './mkbranch.js';
import { mkdirversionOp } from './mkdirversion.js';
import { mkelemOp } from './mkelem.js';
import { lnOp } from './ln.js';
import { mkhlinkOp } from './mkhlink.js';
import { mklabelOp, rmlabelOp } from './mklabel.js';
import { mkreplicaOp } from './mkreplica.js';
import { mkversionOp } from './mkversion.js';
import { mktypeOp } from './mktype.js';
import { renameOp } from './rename.js';
import { rmnameOp } from './rmname.js';
import { rmreplicaOp } from './rmreplica.js';
import { rmtypeOp } from './rmtype.js';
import { uncheckoutOp } from './uncheckout.js';

/** Every op kind, by name: the only ways a VOB changes. */
export const OPS = {
  mkreplica: mkreplicaOp,
  mktype: mktypeOp,
  rename: renameOp,
  rmtype: rmtypeOp,
  lock: lockOp,
  unlock: unlockOp,
  mkelem: mkelemOp,
  checkout: checkoutOp,
  uncheckout: uncheckoutOp,
  checkin: checkinOp,
  mkversion: mkversionOp,
  importelem: importelemOp,
  mkdirversion: mkdirversionOp,
  mkbranch: mkbranchOp,
  mklabel: mklabelOp,
  rmlabel: rmlabelOp,
  mkattr: mkattrOp,
  mkhlink: mkhlinkOp,
  chmaster: chmasterOp,
  chreplica: chreplicaOp,
  rmreplica: rmreplicaOp,
  rmname: rmnameOp,
  ln: lnOp,
} as const;

export type OpKind = keyof typeof OPS;
/** The data of an op of kind K, as its schema accepts it (defaults optional). */
export type OpInput<K extends OpKind> = z.input<(typeof OPS)[K]['schema']>;
export type OpData<K extends OpKind> = z.output<(typeof OPS)[K]['schema']>;
/** An op as a discriminated union on `kind`. */
export type Op = { [K in OpKind]: { kind: K; data: OpData<K> } }[OpKind];

export function isOpKind(value: string): value is OpKind {
  return Object.hasOwn(OPS, value);
}

/** Whether ops of `kind` can refer to pool content (checkin, mkversion): see OpDefinition.content. */
export function hasContent(kind: string): boolean {
  return isOpKind(kind) && (OPS[kind] as { content?: unknown }).content !== undefined;
}

/** The pool content an op refers to (a checkin's or mkversion's bytes), if any: see OpDefinition.content. */
export function contentOf(kind: string, data: unknown): string | undefined {
  if (!isOpKind(kind) || typeof data !== 'object' || data === null) return undefined;
  const def = OPS[kind] as { content?: (d: unknown) => string | null | undefined };
  const sha = def.content?.(data);
  return typeof sha === 'string' ? sha : undefined;
}

/**
 * What the content of stored op data belongs to, for kinds that say their first field names it
 * (OpDefinition.contentGroupFirst): that OID, read from the stored bytes without decoding the rest
 * (an array whose first element is a packed UUID). Undefined otherwise.
 */
export function storedContentGroup(kind: string, stored: Uint8Array): string | undefined {
  if (!isOpKind(kind) || !(OPS[kind] as { contentGroupFirst?: true }).contentGroupFirst) return undefined;
  const arrayHeader = stored[0]! >= 0x90 && stored[0]! <= 0x9f;
  // fixarray, then fixext16 (0xd8) of the packed-UUID type: 16 bytes of OID.
  if (!arrayHeader || stored.length < 19 || stored[1] !== 0xd8 || stored[2] !== EXT_UUID) return undefined;
  return Buffer.from(stored.buffer, stored.byteOffset + 3, 16).toString('hex');
}
