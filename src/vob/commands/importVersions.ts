import { InvalidInputError, MsiteError } from '../../core/errors.js';
import { newOid, type Oid } from '../../core/ids.js';
import type { ConfigSpec } from '../configSpec.js';
import { applyLocalMany } from '../ops/applyOp.js';
import { ContentPool, type PoolEntry } from '../contentPool.js';
import { recordMergeArrow } from '../mergeArrows.js';
import type { OpKind } from '../ops/registry.js';
import type { Vob } from '../vob.js';
import { branchToChange } from './checkouts.js';

/** One file version to add: the element's path (as checkout would resolve it), its bytes, its comment. */
export interface VersionToImport {
  path: string;
  content: Uint8Array;
  comment?: string;
}

export interface ImportVersionsOptions {
  config?: ConfigSpec;
  /**
   * Versions per transaction (default 10,000). Each transaction is one fsync'd commit that rewrites
   * every page the batch touched, so a larger batch loads faster (measured on 100k small versions:
   * 1,000 per batch spent 40% of the load committing, 10,000 spent 15%) and holds the write lock
   * longer; lower it when other writers must not wait seconds. 1 makes every version its own commit.
   */
  batch?: number;
}

export interface ImportVersionsResult {
  versions: number;
}

const DEFAULT_BATCH = 10_000;

/**
 * Adds existing history to file elements, version after version, as a bulk import tool does: each
 * item becomes the next version on the branch a checkout of its path would take, through one
 * `mkversion` op (mastership, locks and reserved checkouts are checked as for checkout + checkin).
 *
 * Items are committed `batch` at a time, in order; if one is refused, the batches before it stay
 * committed, the failing batch is rolled back whole, and the error's data says how many versions
 * went in, so the caller can resume from there.
 */
export function importVersions(vob: Vob, versions: Iterable<VersionToImport>, options: ImportVersionsOptions = {}): ImportVersionsResult {
  const batch = options.batch ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new InvalidInputError(`batch must be a positive integer, not ${batch}`);
  // Where each path's versions go, resolved once per path: resolving through the namespace costs
  // more than the version itself. Valid while nothing but this call changes the VOB, which the
  // oplog's last sequence number tells between batches (this call holds the write lock within one).
  const branches = new Map<string, { branch: Oid; next: number }>();
  const lastSeq = vob.q('SELECT coalesce(max(seq), 0) FROM oplog').pluck();
  let seenSeq: number | undefined;
  let done = 0;
  const apply = (items: VersionToImport[]): void => {
    vob.transaction(() => {
      const seq = lastSeq.get() as number;
      if (seq !== seenSeq) branches.clear();
      // The batch's contents go in first, in key order (see ContentPool.putManyWithHash).
      const contents = items.map((item) => ({ sha: ContentPool.hash(item.content), bytes: item.content }));
      vob.pool.putManyWithHash(contents);
      const ops = items.map((item, n) => {
        let target = branches.get(item.path);
        if (!target) {
          const { branch } = branchToChange(vob, item.path, { config: options.config, comment: item.comment });
          target = { branch: branch.oid, next: branch.last_number + 1 };
          branches.set(item.path, target);
        }
        const data = {
          branch: target.branch,
          version: newOid(),
          number: target.next++,
          content: contents[n]!.sha,
          comment: item.comment ?? '',
        };
        return { kind: 'mkversion' as const, data };
      });
      applyLocalMany(vob, ops);
      seenSeq = lastSeq.get() as number;
    });
    done += items.length;
  };
  let items: VersionToImport[] = [];
  try {
    for (const item of versions) {
      items.push(item);
      if (items.length === batch) {
        apply(items);
        items = [];
      }
    }
    if (items.length) apply(items);
  } catch (err) {
    if (err instanceof MsiteError) err.data.imported ??= done;
    throw err;
  }
  return { versions: done };
}

/** One step of imported history (a git commit): new content, the ops that refer to it, and merge arrows. */
export interface ImportStep {
  /** Bytes the ops name, each with its SHA-256 (and its raw deflate or a delta made beforehand: ContentPool.putManyWithHash). */
  contents: readonly PoolEntry[];
  /** Applied in order, after the step's contents are stored and the steps before it are applied. */
  ops: readonly { kind: OpKind; data: unknown }[];
  /** Merge arrows [from version, to version], recorded once the step's ops are applied. */
  mergeArrows?: readonly (readonly [Oid, Oid])[];
}

/**
 * Applies steps of imported history, whatever their ops (new elements, file and directory versions,
 * branches, labels, attributes), in ONE transaction: every step, or none. The caller chooses how
 * many steps go together: a step's bookkeeping (gitimport's commit attributes) commits with its
 * versions, so an import killed midway leaves whole steps behind and resumes after them. Contents
 * go in first, in key order (ContentPool.putManyWithHash); ops through applyLocalMany, runs of one
 * kind at once, as importVersions does.
 */
export function importSteps(vob: Vob, steps: readonly ImportStep[]): { ops: number } {
  let ops = 0;
  vob.transaction(() => {
    vob.pool.putManyWithHash(steps.flatMap((s) => s.contents));
    for (const step of steps) {
      ops += applyLocalMany(vob, step.ops).length;
      for (const [from, to] of step.mergeArrows ?? []) recordMergeArrow(vob, from, to);
    }
  });
  return { ops };
}
