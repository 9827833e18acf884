import { InvalidInputError } from '../../core/errors.js';
import type { ConfigSpec } from '../configSpec.js';
import { applyLocal } from '../ops/applyOp.js';
import { replicaName, requireReplica } from '../queries.js';
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
      if (obj.kind === 'version')
        throw new InvalidInputError(`cannot change mastership of ${obj.description}`, { hint: 'name its branch: PATH@@/main/BRANCH' });
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

/**
 * `chmaster --all --obsolete-replica OLD MASTER`, run at MASTER: takes over everything OLD masters
 * (replica and type objects, elements, branches with explicit mastership; branches with default
 * mastership follow their types), one op per object. For a replica that is gone or retired: if OLD
 * still works, changes it makes to these objects will be refused everywhere.
 */
export function chmasterAll(vob: Vob, obsoleteName: string, masterName: string): string[] {
  return vob.transaction(() => {
    const old = requireReplica(vob, obsoleteName.replace(/^replica:/, '').replace(/@.*$/, ''));
    const master = requireReplica(vob, masterName.replace(/^replica:/, '').replace(/@.*$/, ''));
    if (master.oid !== vob.self) {
      throw new InvalidInputError(`run chmaster --all at the new master replica "${master.name}"`, {
        hint: `this is replica "${replicaName(vob, vob.self)}"`,
      });
    }
    if (old.oid === master.oid) throw new InvalidInputError('the obsolete replica and the new master are the same replica');
    const objects = [
      ...(vob.q('SELECT oid FROM replica WHERE master = ?').pluck().all(old.oid) as string[]),
      ...(vob.q('SELECT oid FROM type WHERE master = ?').pluck().all(old.oid) as string[]),
      ...(vob.q('SELECT oid FROM element WHERE master = ?').pluck().all(old.oid) as string[]),
      ...(vob.q('SELECT oid FROM branch WHERE master = ?').pluck().all(old.oid) as string[]),
    ];
    for (const object of objects) {
      applyLocal(vob, 'chmaster', { object: object, master: master.oid, obsoleteReplica: old.oid });
    }
    return objects;
  });
}
