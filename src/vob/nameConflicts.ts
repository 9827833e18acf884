import type { ReplicaOid } from '../core/ids.js';
import type { OpContext } from './ops/defineOp.js';
import { replicaByName, replicaName, typeByName } from './queries.js';
import type { TypeKind } from './rows.js';

/**
 * How a family settles two objects that want one name. `rename` (MultiSite's way): whoever arrives
 * second is renamed here, so names may differ between replicas until administrators rename.
 * `converge`: the object created first (ties: lower creator OID) keeps the name at every replica, so
 * every replica ends with the same names.
 */
export const NAME_POLICIES = ['rename', 'converge'] as const;
export type NamePolicy = (typeof NAME_POLICIES)[number];

export interface NameClaim {
  kind: TypeKind | 'replica';
  oid: string;
  name: string;
  creator: ReplicaOid;
  createdAt: number;
}

interface Holder {
  oid: string;
  creator: string;
  created_at: number;
}

function holderOf(ctx: OpContext, kind: TypeKind | 'replica', name: string): Holder | undefined {
  return kind === 'replica' ? replicaByName(ctx.vob, name) : typeByName(ctx.vob, kind, name);
}

function taken(ctx: OpContext, kind: TypeKind | 'replica', name: string): boolean {
  return holderOf(ctx, kind, name) !== undefined;
}

/** `<creator>_<name>`, then `<creator>_<name>_2`, `_3`... until free. */
function generatedName(ctx: OpContext, kind: TypeKind | 'replica', name: string, creator: string): string {
  const base = `${replicaName(ctx.vob, creator)}_${name}`;
  if (!taken(ctx, kind, base)) return base;
  for (let n = 2; ; n++) if (!taken(ctx, kind, `${base}_${n}`)) return `${base}_${n}`;
}

function record(ctx: OpContext, kind: string, oid: string, originalName: string, localName: string, creator: string): void {
  ctx.vob
    .q('INSERT INTO conflict (kind, oid, original_name, local_name, creator, at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(kind, oid, originalName, localName, creator, ctx.vob.clock.now());
  ctx.warn?.(
    `To avoid name conflict, generated name "${localName}" for ${kind} "${originalName}" created at replica "${replicaName(ctx.vob, creator)}" (${kind} OID ${oid})`,
  );
}

/**
 * The name an imported object gets here when it wants `claim.name`. Free: that name. Taken by
 * another object: by the family's policy, either the incoming object gets a generated name, or
 * (converge, incoming is older) the local holder is renamed here and the incoming one takes the name.
 * Either way the renamed object is recorded as a conflict and a warning is given. Local renames
 * made here are not ops: every replica makes the same choice on its own.
 */
export function claimName(ctx: OpContext, claim: NameClaim): string {
  const holder = holderOf(ctx, claim.kind, claim.name);
  if (!holder || holder.oid === claim.oid) return claim.name;
  const policy = (ctx.vob.meta('name_policy') ?? 'rename') as NamePolicy;
  const incomingWins =
    policy === 'converge' &&
    (claim.createdAt < holder.created_at || (claim.createdAt === holder.created_at && claim.creator < holder.creator));
  if (!incomingWins) {
    const local = generatedName(ctx, claim.kind, claim.name, claim.creator);
    record(ctx, claim.kind, claim.oid, claim.name, local, claim.creator);
    return local;
  }
  const local = generatedName(ctx, claim.kind, claim.name, holder.creator);
  ctx.vob.q(`UPDATE ${claim.kind === 'replica' ? 'replica' : 'type'} SET name = ? WHERE oid = ?`).run(local, holder.oid);
  record(ctx, claim.kind, holder.oid, claim.name, local, holder.creator);
  return claim.name;
}
