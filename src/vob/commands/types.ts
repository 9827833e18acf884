import { InvalidInputError } from '../../core/errors.js';
import { newOid } from '../../core/ids.js';
import { applyLocal } from '../ops/applyOp.js';
import { replicaName, requireReplica, typeByName } from '../queries.js';
import type { TypeKind, TypeRow, ValueType } from '../rows.js';
import { parseKindSelector, resolveTypeSelector } from '../selectors.js';
import type { Vob } from '../vob.js';

export interface MkTypeOptions {
  shared?: boolean;
  comment?: string;
  /** attype only: the value type attributes must have (default string). */
  vtype?: ValueType;
  /** brtype only: one branch of this type per parent branch rather than per element. */
  pbranch?: boolean;
}

/** Creates type objects, all or none: one op each, in one transaction. */
export function mktype(vob: Vob, kind: TypeKind, names: readonly string[], options: MkTypeOptions = {}): TypeRow[] {
  if (kind === 'eltype') throw new InvalidInputError('element types are predefined: file, text_file, directory');
  if (options.vtype && kind !== 'attype') throw new InvalidInputError('--vtype applies to attribute types only');
  if (options.pbranch && kind !== 'brtype') throw new InvalidInputError('--pbranch applies to branch types only');
  return vob.transaction(() =>
    names.map((name) => {
      const type = newOid();
      applyLocal(vob, 'mktype', {
        type,
        kind,
        name,
        shared: options.shared ?? false,
        comment: options.comment ?? '',
        vtype: kind === 'attype' ? (options.vtype ?? 'string') : null,
        pbranch: options.pbranch ?? false,
      });
      return typeByName(vob, kind, name)!;
    }),
  );
}

export interface TypeListing {
  oid: string;
  kind: TypeKind;
  name: string;
  master: string;
  shared: boolean;
  locked: 'locked' | 'obsolete' | null;
  comment: string;
}

/** Types of one kind, by name; obsolete ones only when asked for. */
export function lstype(vob: Vob, kind: TypeKind, options: { obsolete?: boolean } = {}): TypeListing[] {
  const rows = vob.q('SELECT * FROM type WHERE kind = ? ORDER BY name').all(kind) as TypeRow[];
  return rows
    .filter((t) => options.obsolete || t.lock !== 'obsolete')
    .map((t) => ({
      oid: t.oid,
      kind: t.kind,
      name: t.name,
      master: replicaName(vob, t.master),
      shared: t.shared === 1,
      locked: t.lock,
      comment: t.comment,
    }));
}

/** Renames a type (`lbtype:OLD`) or replica (`replica:OLD`) at its master. */
export function rename(vob: Vob, selector: string, newName: string): void {
  const parsed = parseKindSelector(selector);
  if (parsed?.kind === 'replica') {
    applyLocal(vob, 'rename', { object: requireReplica(vob, parsed.name).oid, name: newName });
    return;
  }
  applyLocal(vob, 'rename', { object: resolveTypeSelector(vob, selector).oid, name: newName });
}

export function rmtype(vob: Vob, selectors: readonly string[], options: { rmall?: boolean } = {}): void {
  vob.transaction(() => {
    for (const s of selectors) applyLocal(vob, 'rmtype', { type: resolveTypeSelector(vob, s).oid, rmall: options.rmall ?? false });
  });
}

function lockTarget(vob: Vob, selector: string): string {
  const parsed = parseKindSelector(selector);
  if (parsed?.kind === 'replica') return requireReplica(vob, parsed.name).oid;
  return resolveTypeSelector(vob, selector).oid;
}

export function lock(vob: Vob, selectors: readonly string[], options: { obsolete?: boolean } = {}): void {
  vob.transaction(() => {
    for (const s of selectors) applyLocal(vob, 'lock', { object: lockTarget(vob, s), obsolete: options.obsolete ?? false });
  });
}

export function unlock(vob: Vob, selectors: readonly string[]): void {
  vob.transaction(() => {
    for (const s of selectors) applyLocal(vob, 'unlock', { object: lockTarget(vob, s) });
  });
}
