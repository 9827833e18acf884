import { NotFoundError } from '../core/errors.js';
import { applyLocalMany } from '../vob/ops/applyOp.js';
import { masteredObject } from '../vob/mastership.js';
import { getBranch, getReplica, getType, replicaName } from '../vob/queries.js';
import type { Vob } from '../vob/vob.js';
import { MastershipRequestDeniedError } from './mastershipRequestDeniedError.js';
import { ANY_REPLICA, reqmasterPolicy } from './reqmasterPolicy.js';

/** What the master did for a request: the objects now in transit to the requester. */
export interface MastershipGrant {
  requester: string;
  objects: string[];
}

/**
 * At the master replica, a sibling's request for mastership of branch types and branches (by OID):
 * every precondition is checked for every object first (requests enabled here, the requester in the
 * ACL, neither the object nor a branch's type denied or locked, this replica its master), then mastership
 * moves by chmaster ops in one transaction. `peerHost`, when given, is the authenticated host the
 * request came from: it must be the requester replica's host. With `checkOnly` nothing changes.
 *
 * @throws MastershipRequestDeniedError, and nothing changes, when any precondition fails; the
 *   chmaster op's own errors (a reserved checkout) likewise.
 */
export function grantMastership(
  vob: Vob,
  requester: string,
  objects: readonly string[],
  options: { peerHost?: string; checkOnly?: boolean } = {},
): MastershipGrant {
  return vob.transaction(() => {
    const here = replicaName(vob, vob.self);
    const where = `replica "${here}" of VOB "${vob.tag}"`;
    const from = getReplica(vob, requester);
    if (!from) throw new NotFoundError('replica', requester, { hint: 'the master has not yet imported the requesting replica' });
    if (options.peerHost !== undefined && from.host !== options.peerHost) {
      throw new MastershipRequestDeniedError(
        `the request came from host "${options.peerHost}", and replica "${from.name}" is at host "${from.host}"`,
      );
    }
    const policy = reqmasterPolicy(vob);
    if (!policy.enabled)
      throw new MastershipRequestDeniedError(`requests for mastership are disabled in ${where}`, {
        hint: `an administrator at ${here} can run reqmaster --enable`,
      });
    if (!policy.acl.includes(ANY_REPLICA) && !policy.acl.includes(from.oid))
      throw new MastershipRequestDeniedError(`replica "${from.name}" is not in the access control list of ${where}`, {
        hint: `an administrator at ${here} can add it with reqmaster --acl --set FILE`,
      });
    const descriptions: string[] = [];
    for (const oid of objects) {
      const type = getType(vob, oid);
      const branch = getBranch(vob, oid);
      if (!(type?.kind === 'brtype' || branch)) throw new NotFoundError('branch or branch type', oid);
      const target = masteredObject(vob, oid);
      if (policy.denied.includes(oid) || (branch && policy.denied.includes(branch.brtype))) {
        throw new MastershipRequestDeniedError(`requests for mastership of ${target.description} are denied at ${where}`);
      }
      const lock = type?.lock ?? (branch ? getType(vob, branch.brtype)?.lock : null);
      if (lock) throw new MastershipRequestDeniedError(`${target.description} is ${lock} at ${where}`);
      if (target.master !== vob.self) {
        throw new MastershipRequestDeniedError(
          `${here} is not the master of ${target.description}: its master is "${replicaName(vob, target.master)}"`,
          { hint: 'ask that replica' },
        );
      }
      descriptions.push(target.description);
    }
    if (!options.checkOnly)
      applyLocalMany(
        vob,
        objects.map((object) => ({ kind: 'chmaster', data: { object, master: from.oid } })),
      );
    return { requester: from.name, objects: descriptions };
  });
}
