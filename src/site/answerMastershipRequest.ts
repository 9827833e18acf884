import { InvalidInputError } from '../core/errors.js';
import { grantMastership } from '../replication/grantMastership.js';
import { replicaName } from '../vob/queries.js';
import { exportForShipping, orderPackets } from '../shipping/shipExport.js';
import { withFamilyVob } from './familyVob.js';
import type { SiteDatabase } from './siteDatabase.js';
import type { SiteHome } from './siteHome.js';
import { shipFromSite } from './shipFromSite.js';

/** A request for mastership as it travels between sites: objects by OID. */
export interface MastershipRequest {
  requester: string;
  objects: string[];
  /** `reqmaster --list`: check only. */
  checkOnly?: boolean;
}

/** The master site's answer. */
export interface MastershipAnswer {
  master: string;
  requester: string;
  objects: string[];
  /** The update carrying the change, exported at once and shipped towards the requester. */
  packets: string[];
  /** Delivery failures of that update (it stays in the bay for the next shipping run). */
  shippingFailures: string[];
}

/**
 * At the master's site, a request for mastership from the site at `peerHost` (authenticated by the
 * peer listener): grants it (grantMastership), then exports an update to the requester into the
 * outgoing bay and ships it at once.
 *
 * @throws MastershipRequestDeniedError, changing nothing, when the request is refused.
 */
export async function answerMastershipRequest(
  home: SiteHome,
  site: SiteDatabase,
  family: string,
  request: MastershipRequest,
  peerHost: string | undefined,
): Promise<MastershipAnswer> {
  if (typeof request.requester !== 'string' || !Array.isArray(request.objects) || request.objects.length === 0)
    throw new InvalidInputError('a request for mastership names the requesting replica and at least one object');
  const done = await withFamilyVob(
    home,
    family,
    async (vob) => {
      const grant = grantMastership(vob, request.requester, request.objects, {
        ...(peerHost !== undefined ? { peerHost } : {}),
        ...(request.checkOnly ? { checkOnly: true } : {}),
      });
      const shipped = request.checkOnly ? undefined : await exportForShipping(vob, [grant.requester], { homeDir: home.dir });
      return { grant, master: replicaName(vob, vob.self), shipped };
    },
    { readonly: false },
  );
  let packets: string[] = [];
  let shippingFailures: string[] = [];
  if (done.shipped) {
    const { result, destinations } = done.shipped;
    const orders = await orderPackets(
      result.packets.map((packet) => ({ packet, destinations })),
      { homeDir: home.dir },
    );
    packets = result.packets;
    shippingFailures = (
      await shipFromSite(
        home,
        site,
        orders.map((o) => o.orderPath),
      )
    ).failures;
  }
  return { master: done.master, requester: done.grant.requester, objects: done.grant.objects, packets, shippingFailures };
}
