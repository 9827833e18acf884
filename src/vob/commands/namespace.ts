import { InvalidInputError, StateError } from '../../core/errors.js';
import type { ConfigSpec } from '../configSpec.js';
import { applyLocal } from '../ops/applyOp.js';
import { resolveParent, resolvePath } from '../resolvePath.js';
import type { Vob } from '../vob.js';

function checkedOutParent(vob: Vob, path: string, config: ConfigSpec | undefined, what: string) {
  const p = resolveParent(vob, path, config);
  if (!p.parent.checkout) {
    throw new StateError(`cannot ${what} "${p.path}": directory "${p.parent.path}" is not checked out`, {
      hint: `check it out first (msite checkout ${p.parent.path})`,
    });
  }
  return p;
}

/**
 * Removes the name `path` from its directory, which must be checked out: the element stays, listed
 * by the directory's older versions, and the name is gone from the version its checkin makes.
 */
export function rmname(vob: Vob, path: string, options: { config?: ConfigSpec } = {}): { path: string } {
  return vob.transaction(() => {
    resolvePath(vob, path, options.config);
    const { parent, name, path: clean } = checkedOutParent(vob, path, options.config, 'remove');
    applyLocal(vob, 'rmname', { checkout: parent.checkout!.oid, name });
    return { path: clean };
  });
}

/** Moves the element at `from` to the name `to`: both directories must be checked out (they may be one). */
export function mv(vob: Vob, from: string, to: string, options: { config?: ConfigSpec } = {}): { from: string; to: string } {
  return vob.transaction(() => {
    const source = resolvePath(vob, from, options.config);
    if (source.path === '.') throw new InvalidInputError('the VOB root cannot be moved');
    const target = checkedOutParent(vob, to, options.config, 'move to');
    if (target.path === source.path || target.path.startsWith(`${source.path}/`)) {
      throw new InvalidInputError(`cannot move "${source.path}" into itself ("${target.path}")`);
    }
    const { parent, name } = checkedOutParent(vob, from, options.config, 'move');
    applyLocal(vob, 'rmname', { checkout: parent.checkout!.oid, name });
    applyLocal(vob, 'ln', { checkout: target.parent.checkout!.oid, name: target.name, element: source.element.oid });
    return { from: source.path, to: target.path };
  });
}
