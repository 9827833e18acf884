import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { actualRow, type EpochRow } from '../replication/epochs.js';
import { replicaName } from '../vob/queries.js';
import { withFamilyVob } from './familyVob.js';
import { answerMastershipRequest, type MastershipRequest } from './answerMastershipRequest.js';
import type { SiteDatabase } from './siteDatabase.js';
import type { SiteHome } from './siteHome.js';

/** The peer route a sibling asks for this site's actual epoch row of a VOB family. */
export const ACTUAL_ROW_PATH = '/peer/vobs/:family/actual';

/** The peer route a sibling asks the master's site for mastership on (reqmaster). */
export const REQMASTER_PATH = '/peer/vobs/:family/reqmaster';

/** What a site answers for the actual row of its replica of a family: origins by OID. */
export interface ActualRowReply {
  family: string;
  replica: string;
  name: string;
  row: EpochRow;
}

export interface PeerRoutesContext {
  home: SiteHome;
  /** The daemon's open site.db (the shipping of a granted request's update records its attempts there). */
  site: SiteDatabase;
  logger: Logger;
  /** The PEER host an authenticated request came from. */
  peerOf: (req: IncomingMessage) => string | undefined;
}

/**
 * The requests between sites on the peer listener (the listener has already refused any key that is
 * not a PEER's): a sibling's actual epoch row, for `chepoch --actual` and `lsepoch --actual`; a
 * request for mastership (`reqmaster`), answered at the master.
 */
export function registerPeerRoutes(peer: FastifyInstance, ctx: PeerRoutesContext): void {
  peer.get<{ Params: { family: string } }>(ACTUAL_ROW_PATH, async (req) => {
    const reply = withFamilyVob(ctx.home, req.params.family, (vob): ActualRowReply => ({
      family: vob.family,
      replica: vob.self,
      name: replicaName(vob, vob.self),
      row: actualRow(vob),
    }));
    ctx.logger.info({ peer: ctx.peerOf(req.raw), family: reply.family }, 'actual epoch row sent');
    return reply;
  });
  peer.post<{ Params: { family: string }; Body: MastershipRequest }>(REQMASTER_PATH, async (req) => {
    const peerHost = ctx.peerOf(req.raw);
    try {
      const answer = await answerMastershipRequest(ctx.home, ctx.site, req.params.family, req.body, peerHost);
      ctx.logger.info({ peer: peerHost, ...answer }, 'request for mastership granted');
      return answer;
    } catch (err) {
      // MultiSite logs refused requests at the master, where its administrator looks.
      ctx.logger.warn({ peer: peerHost, family: req.params.family, err: (err as Error).message }, 'request for mastership refused');
      throw err;
    }
  });
}
