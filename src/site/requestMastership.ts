import { InvalidInputError } from '../core/errors.js';
import { MastershipRequestDeniedError } from '../replication/mastershipRequestDeniedError.js';
import type { ConfigSpec } from '../vob/configSpec.js';
import { masteredObject } from '../vob/mastership.js';
import { getReplica } from '../vob/queries.js';
import { resolveObject } from '../vob/selectors.js';
import type { Vob } from '../vob/vob.js';
import type { MastershipAnswer, MastershipRequest } from './answerMastershipRequest.js';
import { DaemonError } from './daemonError.js';
import { peerRequest } from './peerRequest.js';
import { REQMASTER_PATH } from './peerRoutes.js';
import type { SiteHome } from './siteHome.js';

/** One request to send: to the master replica's site, for the objects it masters. */
export interface PlannedRequest {
  family: string;
  master: string;
  host: string;
  request: MastershipRequest;
}

/**
 * Plans `reqmaster OBJECT...` at the requesting replica: resolves each branch or branch type here
 * and groups them by the replica that masters them (as this replica knows it), one request each.
 *
 * @throws InvalidInputError for an object that is not a branch or branch type, or one this replica
 *   already masters.
 */
export function planMastershipRequests(
  vob: Vob,
  selectors: readonly string[],
  options: { config?: ConfigSpec; checkOnly?: boolean } = {},
): PlannedRequest[] {
  const byMaster = new Map<string, PlannedRequest>();
  for (const s of selectors) {
    const obj = resolveObject(vob, s, options.config);
    if (obj.kind !== 'brtype' && obj.kind !== 'branch')
      throw new InvalidInputError(`reqmaster takes branch types and branches, not ${obj.description}`, {
        hint: 'name brtype:NAME or PATH@@/main/BRANCH',
      });
    const master = masteredObject(vob, obj.oid).master;
    if (master === vob.self) throw new InvalidInputError(`this replica already masters ${obj.description}`);
    const replica = getReplica(vob, master)!;
    let planned = byMaster.get(master);
    if (!planned) {
      planned = {
        family: vob.family,
        master: replica.name,
        host: replica.host,
        request: { requester: vob.self, objects: [], ...(options.checkOnly ? { checkOnly: true } : {}) },
      };
      byMaster.set(master, planned);
    }
    planned.request.objects.push(obj.oid);
  }
  return [...byMaster.values()];
}

/**
 * Sends one planned request to the master's site over the peer channel.
 *
 * @throws MastershipRequestDeniedError when the master's site refuses it (its reason), or does not
 *   know this site as a PEER; the errors of peerRequest otherwise.
 */
export async function requestMastership(home: SiteHome, planned: PlannedRequest): Promise<MastershipAnswer> {
  try {
    return (await peerRequest(
      home,
      planned.host,
      'POST',
      REQMASTER_PATH.replace(':family', encodeURIComponent(planned.family)),
      planned.request,
    )) as MastershipAnswer;
  } catch (err) {
    if (err instanceof DaemonError && err.code === MastershipRequestDeniedError.code)
      throw new MastershipRequestDeniedError(err.message.replace(/^.*?Request for mastership denied: /, ''), {
        ...(err.hint !== undefined ? { hint: err.hint } : {}),
      });
    if (err instanceof DaemonError && err.status === 403)
      throw new MastershipRequestDeniedError(
        `the site of master replica "${planned.master}" (${planned.host}) does not accept requests from this site: it is not a PEER there`,
        { hint: `${planned.host} must have this site's key in a PEER line (msite site peer there)` },
      );
    throw err;
  }
}
