import { InvalidInputError } from '../../core/errors.js';
import { newOid, type Oid } from '../../core/ids.js';
import type { ConfigSpec } from '../configSpec.js';
import type { StagedBlob } from '../contentPool.js';
import { applyLocal } from '../ops/applyOp.js';
import type { VersionMode } from '../ops/schemas.js';
import { getElement, requireType } from '../queries.js';
import { resolveParent, resolvePath, selectVersion } from '../resolvePath.js';
import type { ElementKind } from '../rows.js';
import type { Vob } from '../vob.js';
import { checkin, checkout } from './checkouts.js';

export interface MkElemOptions {
  kind?: ElementKind;
  /** Element type name; defaults to `file` or `directory` by kind. */
  eltype?: string;
  /** Bytes (or a staged blob) for version /main/1; without it the element has only its empty version 0. */
  content?: Uint8Array | StagedBlob;
  /** With content: how /main/1 is loaded (null, the default: a plain file; `executable`; `symlink`, the content its target). */
  mode?: VersionMode;
  comment?: string;
  /** Check the parent directory out and back in around the creation (otherwise it must be checked out). */
  auto?: boolean;
  /** Make this replica master of the new main branch (MultiSite's `-master`). */
  master?: boolean;
  config?: ConfigSpec;
}

/**
 * Creates a file or directory element in a checked-out directory, as one transaction: the element
 * with /main/0 and, given content, /main/1 (or version 1 of the branch a `-mkbranch` rule of the
 * config spec names, made at /main/0), whose OID it returns. With `auto`, the parent is checked out
 * first and checked in after, so the new name is visible at once.
 */
export function mkelem(vob: Vob, path: string, options: MkElemOptions = {}): { element: Oid; path: string; version?: Oid } {
  const kind = options.kind ?? 'file';
  if (kind === 'directory' && options.content) throw new InvalidInputError('a directory element has no content (--from)');
  return vob.transaction(() => {
    let { parent, name, path: clean } = resolveParent(vob, path, options.config);
    const autoCheckout = options.auto && !parent.checkout;
    if (autoCheckout) {
      checkout(vob, parent.path, { comment: `add ${name}`, config: options.config });
      ({ parent, name, path: clean } = resolveParent(vob, path, options.config));
    }
    if (!parent.checkout) {
      throw new InvalidInputError(`cannot create "${clean}": directory "${parent.path}" is not checked out`, {
        hint: `check it out first (msite checkout ${parent.path}) or use --auto`,
      });
    }
    const eltype = requireType(vob, 'eltype', options.eltype ?? (kind === 'directory' ? 'directory' : 'file'));
    const element = newOid();
    applyLocal(vob, 'mkelem', {
      element,
      kind,
      eltype: eltype.oid,
      branch: newOid(),
      version: newOid(),
      parentCheckout: parent.checkout.oid,
      name,
      masterBranch: options.master ?? false,
      comment: options.comment ?? '',
    });
    let version: Oid | undefined;
    if (options.content) {
      // The rule that selects the new /main/0 may say -mkbranch (`element * /main/0 -mkbranch dev`,
      // or a mkbranch block): as a checkout through it would, the first version goes on that branch.
      const rule = options.config ? selectVersion(vob, getElement(vob, element)!, clean, options.config)?.rule : undefined;
      checkout(vob, rule?.mkbranch ? clean : `${clean}@@/main`, { comment: options.comment, config: options.config, reserved: true });
      const made = checkin(vob, clean, { content: options.content, mode: options.mode, comment: options.comment, config: options.config });
      version = resolvePath(vob, `${clean}@@${made.version}`).version!.oid;
    }
    if (autoCheckout) checkin(vob, parent.path, { comment: `added ${name}`, config: options.config });
    return { element, path: clean, ...(version ? { version } : {}) };
  });
}
