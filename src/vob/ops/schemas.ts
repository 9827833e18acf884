import { z } from 'zod';
import { isOid, type Oid, type ReplicaOid } from '../../core/ids.js';

/** An OID in op data; ops name objects by OID only, never by name. */
export const oid = z.string().refine(isOid, 'expected an OID').transform((s) => s as Oid);
export const replicaOid = z.string().refine(isOid, 'expected a replica OID').transform((s) => s as ReplicaOid);
export const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256');
