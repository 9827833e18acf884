import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { NotFoundError } from '../core/errors.js';
import { actualRow, type EpochRow } from '../replication/epochs.js';
import { replicaName } from '../vob/queries.js';
import { Vob } from '../vob/vob.js';
import type { SiteHome } from './siteHome.js';

/** The peer route a sibling asks for this site's actual epoch row of a VOB family. */
export const ACTUAL_ROW_PATH = '/peer/vobs/:family/actual';

/** What a site answers for the actual row of its replica of a family: origins by OID. */
export interface ActualRowReply {
  family: string;
  replica: string;
  name: string;
  row: EpochRow;
}

/**
 * Runs `fn` on this site's replica of `family`, opened read-only.
 *
 * @throws NotFoundError when no VOB registered here belongs to the family.
 */
export function withFamilyVob<T>(home: SiteHome, family: string, fn: (vob: Vob) => T, options: { readonly?: boolean } = {}): T {
  for (const r of home.registry()) {
    let vob: Vob;
    try {
      vob = Vob.open(r.path, { readonly: options.readonly ?? true });
    } catch {
      continue; // a stale registration is no reason to refuse a request for another VOB
    }
    try {
      if (vob.family === family) return fn(vob);
    } finally {
      vob.close();
    }
  }
  throw new NotFoundError('VOB family at this site', family);
}

export interface PeerRoutesContext {
  home: SiteHome;
  logger: Logger;
  /** The PEER host an authenticated request came from. */
  peerOf: (req: IncomingMessage) => string | undefined;
}

/**
 * The requests between sites on the peer listener (the listener has already refused any key that is
 * not a PEER's): a sibling's actual epoch row, for `chepoch --actual` and `lsepoch --actual`.
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
}
