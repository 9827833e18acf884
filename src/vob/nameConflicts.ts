import type { OpContext } from './ops/defineOp.js';
import { replicaName } from './queries.js';
import type { TypeKind } from './rows.js';

/**
 * How a family settles two objects that want one name. `rename` (MultiSite's way): whoever arrives
 * second is renamed here, so names may differ between replicas until administrators rename.
 * `converge`: the object created first (ties: lower creator OID) has the name at every replica, the
 * others `<creator>_<name>`, and a name freed by a rename or removal goes to the next in line, so
 * every replica ends with the same names whatever order ops arrive in.
 */
export const NAME_POLICIES = ['rename', 'converge'] as const;
export type NamePolicy = (typeof NAME_POLICIES)[number];

type NamedKind = TypeKind | 'replica';

interface Named {
  oid: string;
  name: string;
  desired: string;
  creator: string;
  created_at: number;
}

/**
 * A name no real object can have (names cannot hold NUL): an object waits under it while the
 * names it competes for are settled.
 */
export function placeholderName(oid: string): string {
  return `\u0000${oid}`;
}

function table(kind: NamedKind): { from: string; where: string; args: unknown[] } {
  return kind === 'replica' ? { from: 'replica', where: '1 = 1', args: [] } : { from: 'type', where: 'kind = ?', args: [kind] };
}

function holder(ctx: OpContext, kind: NamedKind, name: string): Named | undefined {
  const t = table(kind);
  return ctx.vob.q(`SELECT oid, name, desired, creator, created_at FROM ${t.from} WHERE ${t.where} AND name = ?`).get(...t.args, name) as
    Named | undefined;
}

function setName(ctx: OpContext, kind: NamedKind, oid: string, name: string): void {
  ctx.vob.q(`UPDATE ${table(kind).from} SET name = ? WHERE oid = ?`).run(name, oid);
}

/** `<creator>_<name>`, then `_2`, `_3`... until free (an object keeps a generated name it already has). */
function generatedName(ctx: OpContext, kind: NamedKind, o: Named): string {
  const base = `${replicaName(ctx.vob, o.creator)}_${o.desired}`;
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}_${n}`;
    const h = holder(ctx, kind, candidate);
    if (!h || h.oid === o.oid) return candidate;
  }
}

/** Sets `o`'s generated name; warns and records a conflict unless `o.name` (its name before) was that already. */
function giveGeneratedName(ctx: OpContext, kind: NamedKind, o: Named): void {
  const local = generatedName(ctx, kind, o);
  setName(ctx, kind, o.oid, local);
  if (o.name === local) return;
  ctx.vob
    .q('INSERT INTO conflict (kind, oid, original_name, local_name, creator, at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(kind, o.oid, o.desired, local, o.creator, ctx.vob.clock.now());
  ctx.warn?.(
    `To avoid name conflict, generated name "${local}" for ${kind} "${o.desired}" created at replica "${replicaName(ctx.vob, o.creator)}" (${kind} OID ${o.oid})`,
  );
}

/**
 * Gives local names to the objects that want each of `names` (their desired name), after an op
 * created, renamed or removed one of them. Objects waiting under a placeholder get the name if it
 * is free, else a generated one (with a warning and a conflict record). Under `converge`, every
 * object wanting a name is settled again: the first created has it, the rest generated names.
 */
export function settleNames(ctx: OpContext, kind: NamedKind, names: readonly string[]): void {
  const converge = (ctx.vob.meta('name_policy') ?? 'rename') === 'converge';
  const t = table(kind);
  for (const wanted of new Set(names)) {
    const wanting = ctx.vob
      .q(`SELECT oid, name, desired, creator, created_at FROM ${t.from} WHERE ${t.where} AND desired = ? ORDER BY created_at, creator`)
      .all(...t.args, wanted) as Named[];
    if (converge) {
      for (const o of wanting) setName(ctx, kind, o.oid, placeholderName(o.oid));
      const [first, ...rest] = wanting;
      if (first && !holder(ctx, kind, wanted)) setName(ctx, kind, first.oid, wanted);
      else if (first) giveGeneratedName(ctx, kind, first);
      // Losers get their generated names back, without a new warning when they had them already.
      for (const o of rest) giveGeneratedName(ctx, kind, o);
      continue;
    }
    for (const o of wanting.filter((w) => w.name === placeholderName(w.oid))) {
      if (!holder(ctx, kind, wanted)) setName(ctx, kind, o.oid, wanted);
      else giveGeneratedName(ctx, kind, o);
    }
  }
}
