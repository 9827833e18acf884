import { InvalidInputError } from '../../core/errors.js';
import type { ConfigSpec } from '../configSpec.js';
import { applyLocal } from '../ops/applyOp.js';
import { requireReplica } from '../queries.js';
import { resolveObject } from '../selectors.js';
import type { Vob } from '../vob.js';

/**
 * Gives mastership of objects (types, replicas, elements `p@@`, branches `p@@/main/dev`) to another
 * replica; run at the current master. The other replicas learn of it when they import this op.
 */
export function chmaster(vob: Vob, masterName: string, selectors: readonly string[], options: { config?: ConfigSpec } = {}): void {
  vob.transaction(() => {
    const master = requireReplica(vob, masterName.replace(/^replica:/, '').replace(/@.*$/, ''));
    for (const s of selectors) {
      const obj = resolveObject(vob, s, options.config);
      if (obj.kind === 'version') throw new InvalidInputError(`cannot change mastership of ${obj.description}`, { hint: 'name its branch: PATH@@/main/BRANCH' });
      applyLocal(vob, 'chmaster', { object: obj.oid, master: master.oid });
    }
  });
}

/** Returns branches to default mastership: each follows its branch type's master again. */
export function chmasterDefault(vob: Vob, selectors: readonly string[], options: { config?: ConfigSpec } = {}): void {
  vob.transaction(() => {
    for (const s of selectors) {
      const obj = resolveObject(vob, s, options.config);
      if (obj.kind !== 'branch') throw new InvalidInputError(`--default takes branches (PATH@@/main/BRANCH), not ${obj.description}`);
      applyLocal(vob, 'chmaster', { object: obj.oid, master: null });
    }
  });
}
