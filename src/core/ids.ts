import { v7 as uuidv7 } from 'uuid';

declare const brand: unique symbol;
/** A nominal type: a `T` that only the named constructor functions produce. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A globally unique object id (UUID). Names are local to a replica; OIDs never differ. */
export type Oid = Brand<string, 'Oid'>;
/** The OID of a replica object; the origin of every op it makes. */
export type ReplicaOid = Brand<string, 'ReplicaOid'>;
/** The OID a VOB family shares across all its replicas. */
export type FamilyOid = Brand<string, 'FamilyOid'>;
/** Position of an op in its origin replica's oplog: 1, 2, 3... with no gaps. */
export type OplogId = Brand<number, 'OplogId'>;

/** A canonical lowercase UUID: the form of every OID. */
export const OID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A new OID: a time-ordered UUID (version 7). Objects made together sit together in the database's
 * OID-keyed tables, which keeps inserts cheap and pages full; 74 random bits keep OIDs from two
 * replicas apart.
 */
export function newOid(): Oid {
  return uuidv7() as Oid;
}

export function isOid(value: string): boolean {
  return OID_PATTERN.test(value);
}
