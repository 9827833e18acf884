import { AlreadyExistsError, InvalidInputError, NotFoundError, StateError } from '../../core/errors.js';
import { describeType, requireUnlocked } from '../mastership.js';
import { getElement, getType } from '../queries.js';
import type { Vob } from '../vob.js';

/**
 * The checks every op that makes an element shares (mkelem, and importelem of a history import):
 * the element is new, its element type exists, is unlocked and is for this kind of element, and the
 * VOB has its `main` branch type. Returns that branch type's oid, for the element's first branch.
 */
export function newElementBranchType(vob: Vob, d: { element: string; eltype: string; kind: 'file' | 'directory' }): string {
  if (getElement(vob, d.element)) throw new AlreadyExistsError('element', d.element);
  const eltype = getType(vob, d.eltype);
  if (!eltype || eltype.kind !== 'eltype') throw new NotFoundError('eltype', d.eltype);
  requireUnlocked(describeType(eltype), eltype.lock);
  if (eltype.elkind && eltype.elkind !== d.kind) {
    throw new InvalidInputError(`element type "${eltype.name}" is for ${eltype.elkind} elements, not ${d.kind} elements`);
  }
  const mainType = vob.meta('main_brtype');
  if (!mainType || !getType(vob, mainType)) throw new StateError('the VOB has no "main" branch type');
  return mainType;
}
