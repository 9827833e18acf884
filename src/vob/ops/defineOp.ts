import type { z } from 'zod';
import type { ReplicaOid } from '../../core/ids.js';
import type { Vob } from '../vob.js';

/** What an op's apply function knows besides its data: where and when the change was made. */
export interface OpContext {
  readonly vob: Vob;
  /** The replica that made the change; every mastership check is against it. */
  readonly origin: ReplicaOid;
  readonly at: number;
  /** True when the op came from another replica in a packet, false when made here. */
  readonly imported: boolean;
  /** Receives warnings an import must show (automatic renames); unset for local ops. */
  readonly warn?: (message: string) => void;
}

/** What applyRun knows of the run besides each op's data: what OpContext says, but for each op. */
export interface RunContext {
  readonly vob: Vob;
  readonly imported: boolean;
}

/** One op of a run: its data, where and when it was made. */
export interface RunItem<D> {
  readonly origin: ReplicaOid;
  readonly at: number;
  readonly data: D;
}

/**
 * One op kind: the schema its data must match and the function that validates it against the VOB
 * and applies it. The apply function throws (an MsiteError) to refuse; it runs inside the
 * transaction that also appends the oplog entry, so a refusal leaves nothing behind.
 */
export interface OpDefinition<K extends string = string, S extends z.ZodType = z.ZodType> {
  readonly kind: K;
  readonly schema: S;
  /**
   * The SHA-256 of the pool content the op refers to, if any: an update packet carries those bytes
   * beside the op, so the importer has them before the op applies.
   */
  readonly content?: (data: z.infer<S>) => string | null | undefined;
  /**
   * Its first field is the OID of what its content belongs to (mkversion: the branch), so an export
   * can keep those blobs side by side for the compressor, reading that field alone.
   */
  readonly contentGroupFirst?: true;
  apply(ctx: OpContext, data: z.infer<S>): void;
  /**
   * Optional, for kinds that come by the thousand (a bulk import's versions): applies consecutive
   * ops of this kind at once, with exactly the outcome of applying each in turn through `apply`.
   * It throws (an MsiteError) when any of them would be refused; the caller then takes the run
   * back and applies the ops one by one, so each refusal is met, worded and recorded on its own.
   */
  applyRun?(ctx: RunContext, items: readonly RunItem<z.infer<S>>[]): void;
}

export function defineOp<K extends string, S extends z.ZodType>(def: OpDefinition<K, S>): OpDefinition<K, S> {
  return def;
}
