import { typeByName } from '../vob/queries.js';
import type { TypeKind } from '../vob/rows.js';
import type { Vob } from '../vob/vob.js';

const RESERVED = new Set(['LATEST', 'CHECKEDOUT', 'BACKSTOP']);

/**
 * A type name for a git ref or branch name: characters a type name may not hold become `_`, a name
 * that does not start with a letter or `_` gets `_` in front (`1.0` is `_1.0`), and a name already
 * taken (in the VOB, or in `taken`) gets `_2`, `_3`, … after it.
 */
export function validTypeName(vob: Vob, kind: TypeKind, raw: string, taken: Set<string>): string {
  let base = raw.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
  if (RESERVED.has(base)) base = `${base}_`;
  base = base.slice(0, 240);
  let name = base;
  for (let n = 2; taken.has(`${kind}:${name}`) || typeByName(vob, kind, name); n++) name = `${base}_${n}`;
  taken.add(`${kind}:${name}`);
  return name;
}
