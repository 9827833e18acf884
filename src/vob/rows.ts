import type { Oid, ReplicaOid } from '../core/ids.js';

/** The kinds of type object; each kind has its own namespace of names. */
export const TYPE_KINDS = ['brtype', 'lbtype', 'attype', 'hltype', 'eltype'] as const;
export type TypeKind = (typeof TYPE_KINDS)[number];

export function isTypeKind(value: string): value is TypeKind {
  return (TYPE_KINDS as readonly string[]).includes(value);
}

/** Value types an attribute type may constrain its values to. */
export const VALUE_TYPES = ['string', 'integer', 'real', 'time'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export type ElementKind = 'file' | 'directory';
/** `locked` refuses changes; `obsolete` also hides the object from ordinary listings. */
export type LockState = 'locked' | 'obsolete' | null;

export interface ReplicaRow {
  oid: ReplicaOid;
  /** The name here; `desired` is the name its master gave it (they differ after a name clash). */
  name: string;
  desired: string;
  host: string;
  master: ReplicaOid;
  creator: ReplicaOid;
  public_key: string | null;
  comment: string;
  lock: LockState;
  created_at: number;
  /** Set when rmreplica removed the replica; its object stays so epoch rows keep a name. */
  removed: 0 | 1;
}

export interface TypeRow {
  oid: Oid;
  kind: TypeKind;
  /** The name here; `desired` is the name its master gave it (they differ after a name clash). */
  name: string;
  desired: string;
  master: ReplicaOid;
  creator: ReplicaOid;
  shared: 0 | 1;
  vtype: ValueType | null;
  pbranch: 0 | 1;
  elkind: ElementKind | null;
  comment: string;
  lock: LockState;
  created_at: number;
}

export interface ElementRow {
  oid: Oid;
  kind: ElementKind;
  eltype: Oid;
  master: ReplicaOid;
  comment: string;
  created_at: number;
}

export interface BranchRow {
  oid: Oid;
  element: Oid;
  brtype: Oid;
  parent_version: Oid | null;
  /** null: the branch follows its branch type's master (default mastership). */
  master: ReplicaOid | null;
  last_number: number;
  created_at: number;
}

export interface VersionRow {
  oid: Oid;
  branch: Oid;
  number: number;
  /** SHA-256 of a file version's bytes; null for directory versions. */
  content: string | null;
  creator: ReplicaOid;
  comment: string;
  created_at: number;
  /** How a file version is loaded: null (a plain file), `executable`, or `symlink` (content is the target). */
  mode: 'executable' | 'symlink' | null;
  /** The author an imported history names, when not this replica's user. */
  author: string | null;
}

export interface CheckoutRow {
  oid: Oid;
  branch: Oid;
  replica: ReplicaOid;
  reserved: 0 | 1;
  nmaster: 0 | 1;
  /** A checked-out directory's working entries, JSON `{name: elementOid}`. */
  entries: string | null;
  comment: string;
  created_at: number;
}
