import { NotFoundError } from '../core/errors.js';
import type { Oid, ReplicaOid } from '../core/ids.js';
import type { BranchRow, CheckoutRow, ElementRow, ReplicaRow, TypeKind, TypeRow, VersionRow } from './rows.js';
import type { Vob } from './vob.js';

/** Read-only lookups shared by the op functions and the commands. Nothing here writes. */

export function getReplica(vob: Vob, oid: string): ReplicaRow | undefined {
  return vob.q('SELECT * FROM replica WHERE oid = ?').get(oid) as ReplicaRow | undefined;
}

export function replicaByName(vob: Vob, name: string): ReplicaRow | undefined {
  return vob.q('SELECT * FROM replica WHERE name = ?').get(name) as ReplicaRow | undefined;
}

export function requireReplica(vob: Vob, name: string): ReplicaRow {
  const row = replicaByName(vob, name);
  if (!row) throw new NotFoundError('replica', name);
  return row;
}

/** A replica's local name, or its OID when this replica has not heard of it. */
export function replicaName(vob: Vob, oid: string): string {
  return getReplica(vob, oid)?.name ?? oid;
}

export function getType(vob: Vob, oid: string): TypeRow | undefined {
  return vob.q('SELECT * FROM type WHERE oid = ?').get(oid) as TypeRow | undefined;
}

export function typeByName(vob: Vob, kind: TypeKind, name: string): TypeRow | undefined {
  return vob.q('SELECT * FROM type WHERE kind = ? AND name = ?').get(kind, name) as TypeRow | undefined;
}

export function requireType(vob: Vob, kind: TypeKind, name: string): TypeRow {
  const row = typeByName(vob, kind, name);
  if (!row) throw new NotFoundError(kind, name, { hint: `create it with mk${kind}, or see lstype --kind ${kind}` });
  return row;
}

export function getElement(vob: Vob, oid: string): ElementRow | undefined {
  return vob.q('SELECT * FROM element WHERE oid = ?').get(oid) as ElementRow | undefined;
}

export function getBranch(vob: Vob, oid: string): BranchRow | undefined {
  return vob.q('SELECT * FROM branch WHERE oid = ?').get(oid) as BranchRow | undefined;
}

export function getVersion(vob: Vob, oid: string): VersionRow | undefined {
  return vob.q('SELECT * FROM version WHERE oid = ?').get(oid) as VersionRow | undefined;
}

export function versionByNumber(vob: Vob, branch: Oid, number: number): VersionRow | undefined {
  return vob.q('SELECT * FROM version WHERE branch = ? AND number = ?').get(branch, number) as VersionRow | undefined;
}

export function latestVersion(vob: Vob, branch: BranchRow): VersionRow {
  return versionByNumber(vob, branch.oid, branch.last_number)!;
}

export function branchesOf(vob: Vob, element: Oid): BranchRow[] {
  return vob.q('SELECT * FROM branch WHERE element = ? ORDER BY created_at, oid').all(element) as BranchRow[];
}

/** The element's `main` branch: the one without a parent version. */
export function mainBranch(vob: Vob, element: Oid): BranchRow {
  return vob.q('SELECT * FROM branch WHERE element = ? AND parent_version IS NULL').get(element) as BranchRow;
}

/** `/main/dev`: the chain of branch type names from the element's main branch down to `branch`. */
export function branchPath(vob: Vob, branch: BranchRow): string {
  const names: string[] = [];
  let b: BranchRow | undefined = branch;
  while (b) {
    names.unshift(getType(vob, b.brtype)?.name ?? b.brtype);
    b = b.parent_version ? getBranch(vob, getVersion(vob, b.parent_version)!.branch) : undefined;
  }
  return '/' + names.join('/');
}

/** `/main/dev/3` for a version. */
export function versionId(vob: Vob, version: VersionRow): string {
  return `${branchPath(vob, getBranch(vob, version.branch)!)}/${version.number}`;
}

/** Entries of a directory version, name to element OID, in name order. */
export function dirEntries(vob: Vob, version: Oid): Map<string, Oid> {
  const rows = vob.q('SELECT name, element FROM dirent WHERE version = ? ORDER BY name').all(version) as {
    name: string;
    element: Oid;
  }[];
  return new Map(rows.map((r) => [r.name, r.element]));
}

/** The root directory element of the VOB. */
export function rootElement(vob: Vob): Oid {
  return vob.meta('root') as Oid;
}

/**
 * A readable path for an element, for messages and history: the name it has in the newest directory
 * version that lists it, recursively up to the root. Best effort, since the namespace is versioned.
 */
export function elementPath(vob: Vob, element: Oid): string {
  const parts: string[] = [];
  let current = element;
  const root = rootElement(vob);
  for (let depth = 0; current !== root && depth < 256; depth++) {
    const row = vob
      .q(
        `SELECT d.name, b.element AS parent FROM dirent d JOIN version v ON v.oid = d.version
         JOIN branch b ON b.oid = v.branch WHERE d.element = ? ORDER BY v.created_at DESC LIMIT 1`,
      )
      .get(current) as { name: string; parent: Oid } | undefined;
    if (!row) return parts.length ? `?/${parts.join('/')}` : `oid:${element}`;
    parts.unshift(row.name);
    current = row.parent;
  }
  return parts.length ? parts.join('/') : '.';
}

export function getCheckout(vob: Vob, oid: string): CheckoutRow | undefined {
  return vob.q('SELECT * FROM checkout WHERE oid = ?').get(oid) as CheckoutRow | undefined;
}

/** This replica's checkouts of any branch of `element`. */
export function checkoutsOfElement(vob: Vob, element: Oid, replica: ReplicaOid): CheckoutRow[] {
  return vob
    .q('SELECT c.* FROM checkout c JOIN branch b ON b.oid = c.branch WHERE b.element = ? AND c.replica = ?')
    .all(element, replica) as CheckoutRow[];
}

export function labelsOfVersion(vob: Vob, version: Oid): string[] {
  return vob
    .q('SELECT t.name FROM label l JOIN type t ON t.oid = l.lbtype WHERE l.version = ? ORDER BY t.name')
    .pluck()
    .all(version) as string[];
}

/** A branch's master: its own, or (default mastership) its branch type's. */
export function branchMaster(vob: Vob, branch: BranchRow): ReplicaOid {
  return branch.master ?? getType(vob, branch.brtype)!.master;
}
