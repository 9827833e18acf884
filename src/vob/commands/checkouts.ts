import { InvalidInputError, StateError } from '../../core/errors.js';
import { newOid } from '../../core/ids.js';
import type { ConfigSpec } from '../configSpec.js';
import type { StagedBlob } from '../contentPool.js';
import { applyLocal } from '../ops/applyOp.js';
import type { VersionMode } from '../ops/schemas.js';
import { branchPath, checkoutsOfElement, getBranch, latestVersion, typeByName, versionId } from '../queries.js';
import { findBranch, resolvePath, type Resolved } from '../resolvePath.js';
import type { BranchRow } from '../rows.js';
import type { Vob } from '../vob.js';

export interface CheckoutOptions {
  /** Default true; an unreserved checkout does not stop others checking in first. */
  reserved?: boolean;
  /** Allow an unreserved checkout of a branch another replica masters (checkin still needs it). */
  nmaster?: boolean;
  comment?: string;
  config?: ConfigSpec;
}

/**
 * Checks out the branch a path leads to: the branch of the version the config spec selects (making
 * the rule's `-mkbranch` branch first when it has one), or the branch a version-extended name gives.
 * Only the latest version of a branch can be checked out.
 */
export function checkout(vob: Vob, path: string, options: CheckoutOptions = {}): { branch: string } {
  return vob.transaction(() => {
    const { branch } = branchToChange(vob, path, options);
    const reserved = options.reserved ?? true;
    applyLocal(vob, 'checkout', {
      checkout: newOid(),
      branch: branch.oid,
      reserved,
      nmaster: options.nmaster ?? false,
      comment: options.comment ?? '',
    });
    return { branch: branchPath(vob, branch) };
  });
}

/**
 * The branch a new version of `path` goes on, as checkout chooses it: the branch of the version the
 * config spec selects (made first when the rule has `-mkbranch`), or the branch a version-extended
 * name gives. Refuses an element checked out here, and a version that is not its branch's latest.
 */
export function branchToChange(
  vob: Vob,
  path: string,
  options: { config?: ConfigSpec; comment?: string } = {},
): { resolved: Resolved; branch: BranchRow } {
  const r = resolvePath(vob, path, options.config);
  if (r.checkout)
    throw new StateError(`"${r.path}" is already checked out at this replica`, { hint: 'check it in or uncheckout it first' });
  let branch: BranchRow | undefined = r.branch;
  if (r.extended === 'element') throw new InvalidInputError(`cannot check out "${path}": name a branch or version, or give a plain path`);
  if (!branch || (!r.version && r.extended !== 'branch')) {
    throw new StateError(`cannot check out "${r.path}": the config spec selects no version of it`);
  }
  if (r.rule?.nocheckout) {
    throw new StateError(
      `cannot check out "${r.path}": the rule that selects it, "${r.rule.text}" (${r.rule.source}, line ${r.rule.line}), has -nocheckout`,
      {
        hint: 'check out a version the config spec selects through another rule, or change the config spec',
      },
    );
  }
  if (r.rule?.mkbranch && r.version) {
    const brtype = typeByName(vob, 'brtype', r.rule.mkbranch);
    const existing = brtype && findBranch(vob, r.element.oid, { anywhere: true, names: [r.rule.mkbranch] });
    if (existing) {
      branch = existing;
    } else {
      mkbranchAt(vob, r.rule.mkbranch, r.version.oid, options.comment);
      branch = findBranch(vob, r.element.oid, { anywhere: true, names: [r.rule.mkbranch] })!;
    }
  } else if (r.version && r.version.number !== branch.last_number) {
    throw new StateError(`cannot check out "${r.path}@@${versionId(vob, r.version)}": it is not the latest version on its branch`, {
      hint: `check out ${r.path}@@${branchPath(vob, branch)}/LATEST, or branch from it`,
    });
  }
  return { resolved: r, branch };
}

function mkbranchAt(vob: Vob, brtypeName: string, from: string, comment?: string): void {
  const brtype = typeByName(vob, 'brtype', brtypeName);
  if (!brtype) throw new StateError(`brtype not found: "${brtypeName}" (named by -mkbranch in the config spec)`);
  applyLocal(vob, 'mkbranch', { branch: newOid(), brtype: brtype.oid, from: from, version: newOid(), comment: comment ?? '' });
}

function myCheckout(vob: Vob, path: string, config?: ConfigSpec) {
  const r = resolvePath(vob, path, config);
  const co = checkoutsOfElement(vob, r.element.oid, vob.self)[0];
  if (!co)
    throw new StateError(`"${r.path}" is not checked out at this replica`, { hint: `check it out first (msite checkout ${r.path})` });
  return { r, co, branch: getBranch(vob, co.branch)! };
}

export interface CheckinOptions {
  /**
   * New file contents, as bytes or as a blob staged in the pool (large content: see
   * ContentPool.stage); without it the new version keeps its predecessor's bytes.
   */
  content?: Uint8Array | StagedBlob;
  comment?: string;
  config?: ConfigSpec;
  /**
   * The new file version's mode (null: a plain file; `executable`; `symlink`, the content its
   * target); default the mode of the version checked out. A view's checkin gives the file's.
   */
  mode?: VersionMode;
}

/** Checks in this replica's checkout of the element at `path`; returns the new version's id (`/main/3`). */
export function checkin(vob: Vob, path: string, options: CheckinOptions = {}): { version: string; path: string } {
  return vob.transaction(() => {
    const { r, co, branch } = myCheckout(vob, path, options.config);
    let content: string | null = null;
    if (r.element.kind === 'file') {
      if (!options.content) content = latestVersion(vob, branch).content;
      // New bytes go in as a delta against the version checked out, when that pays (ContentPool.putAgainst).
      else {
        const base = latestVersion(vob, branch).content;
        content =
          options.content instanceof Uint8Array ? vob.pool.putAgainst(options.content, base) : vob.pool.commitStaged(options.content, base);
      }
    } else if (options.content) {
      throw new InvalidInputError(`"${r.path}" is a directory: it has no content to check in`);
    }
    const number = branch.last_number + 1;
    // The mode goes into the op only when it changes, so a checkin that keeps it is the op it always was.
    const changesMode = r.element.kind === 'file' && options.mode !== undefined && options.mode !== latestVersion(vob, branch).mode;
    applyLocal(vob, 'checkin', {
      checkout: co.oid,
      version: newOid(),
      number,
      content,
      comment: options.comment ?? co.comment,
      ...(changesMode ? { mode: options.mode } : {}),
    });
    return { version: `${branchPath(vob, branch)}/${number}`, path: r.path };
  });
}

/** Cancels this replica's checkout of the element at `path`. */
export function uncheckout(vob: Vob, path: string, options: { config?: ConfigSpec } = {}): void {
  vob.transaction(() => {
    const { co } = myCheckout(vob, path, options.config);
    applyLocal(vob, 'uncheckout', { checkout: co.oid });
  });
}

/** Creates a branch of type `brtype` at the version `path` selects. */
export function mkbranch(
  vob: Vob,
  brtypeName: string,
  path: string,
  options: { comment?: string; config?: ConfigSpec } = {},
): { branch: string } {
  return vob.transaction(() => {
    const r = resolvePath(vob, path, options.config);
    if (!r.version) throw new StateError(`cannot branch "${r.path}": no version of it is selected`);
    const brtype = typeByName(vob, 'brtype', brtypeName);
    if (!brtype) throw new StateError(`brtype not found: "${brtypeName}"`, { hint: 'create it with mkbrtype' });
    const branch = newOid();
    applyLocal(vob, 'mkbranch', { branch, brtype: brtype.oid, from: r.version.oid, version: newOid(), comment: options.comment ?? '' });
    return { branch: branchPath(vob, getBranch(vob, branch)!) };
  });
}
