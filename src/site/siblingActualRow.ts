import { InvalidInputError, StateError } from '../core/errors.js';
import { requireReplica } from '../vob/queries.js';
import type { Vob } from '../vob/vob.js';
import { peerRequest } from './peerRequest.js';
import { ACTUAL_ROW_PATH, type ActualRowReply } from './peerRoutes.js';
import type { SiteHome } from './siteHome.js';

/** Which sibling to ask, read from the VOB before any network wait (the VOB is not held open across it). */
export interface SiblingAddress {
  family: string;
  /** The sibling replica's OID and name, and the host its replica object names. */
  replica: string;
  name: string;
  host: string;
}

/** The sibling replica `name` of `vob` and where its site is. */
export function siblingAddress(vob: Vob, name: string): SiblingAddress {
  const r = requireReplica(vob, name.replace(/^replica:/, '').replace(/@.*$/, ''));
  if (r.oid === vob.self) throw new InvalidInputError(`"${r.name}" is this replica`, { hint: 'name a sibling replica' });
  return { family: vob.family, replica: r.oid, name: r.name, host: r.host };
}

/**
 * Asks the sibling's site daemon (over the peer channel) for its actual epoch row, origins by OID.
 *
 * @throws StateError when the site at the sibling's host holds another replica of the family; the
 *   errors of peerRequest.
 */
export async function siblingActualRow(home: SiteHome, sibling: SiblingAddress): Promise<ActualRowReply> {
  const reply = (await peerRequest(
    home,
    sibling.host,
    'GET',
    ACTUAL_ROW_PATH.replace(':family', encodeURIComponent(sibling.family)),
  )) as ActualRowReply;
  if (reply.replica !== sibling.replica) {
    throw new StateError(`the site at ${sibling.host} holds replica "${reply.name}" of this VOB family, not "${sibling.name}"`, {
      hint: `correct the host of replica ${sibling.name} (chreplica --host at its master)`,
    });
  }
  return reply;
}
