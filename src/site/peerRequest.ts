import { request as httpsRequest } from 'node:https';
import { IoError, NotFoundError, StateError } from '../core/errors.js';
import { PeerKeyMismatch, PinnedAgent } from '../shipping/pinnedAgent.js';
import { loadShippingConf } from '../shipping/shippingConf.js';
import { loadSiteIdentity } from '../shipping/siteIdentity.js';
import { DaemonError } from './daemonError.js';
import type { SiteHome } from './siteHome.js';

/** How long a sibling's daemon has to answer a request between sites. */
const PEER_REQUEST_TIMEOUT_MS = 15_000;

/**
 * One JSON request to the peer listener of the site at `host`, as its shipping.conf PEER line names
 * it: mutual TLS with this site's certificate, the server pinned to the PEER line's key.
 *
 * @throws StateError when this site has no identity; NotFoundError when no PEER line names `host`;
 *   IoError when the site cannot be reached or is not the one its PEER line names; DaemonError with
 *   the sibling's own code and message when it answers with an error.
 */
export async function peerRequest(home: SiteHome, host: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const identity = loadSiteIdentity(home.dir);
  if (!identity)
    throw new StateError(`${home.dir} has no site key to ask ${host} with`, { hint: `run msite site init --home ${home.dir}` });
  const peer = loadShippingConf(home.shippingConfFile).peers.get(host);
  if (!peer) {
    throw new NotFoundError('PEER line for host', host, {
      hint: `add it with msite site peer ${host} URL PUBLIC-KEY (from msite site show at ${host})`,
    });
  }
  const url = `${peer.url.replace(/\/+$/, '')}${path}`;
  const agent = new PinnedAgent(peer.publicKey, { key: identity.key, cert: identity.cert });
  const payload = body === undefined ? undefined : JSON.stringify(body);
  try {
    const { status, text } = await new Promise<{ status: number; text: string }>((resolveReply, rejectReply) => {
      const req = httpsRequest(
        url,
        {
          agent,
          method,
          timeout: PEER_REQUEST_TIMEOUT_MS,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', rejectReply);
          res.on('end', () => resolveReply({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
      req.on('error', rejectReply);
      req.end(payload);
    }).catch((cause: unknown) => {
      if (cause instanceof PeerKeyMismatch) {
        throw new IoError(`${host} at ${peer.url} is not the site its PEER line names: ${cause.message}`, {
          cause,
          persistence: 'permanent',
          hint: `check ${host}'s PEER line against its msite site show`,
        });
      }
      const code = (cause as NodeJS.ErrnoException).code;
      throw new IoError(`cannot reach ${host} at ${peer.url}: ${code ?? (cause as Error).message}`, {
        cause,
        data: { url, sysCode: code },
        hint: `is msite serve running at ${host}?`,
      });
    });
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      throw new IoError(`${host} answered ${status} with something that is not JSON`, { data: { url } });
    }
    if (status >= 400) {
      const error = (parsed as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
      throw new DaemonError(error?.code, status, `${host}: ${error?.message ?? `answered ${status}`}`, {
        data: { url },
        // The sibling's own hint for a refused key speaks of itself; say it from this side.
        ...(status === 403
          ? { hint: `${host} must have this site's key in a PEER line (msite site peer there)` }
          : error?.hint !== undefined
            ? { hint: error.hint }
            : {}),
      });
    }
    return parsed;
  } finally {
    agent.destroy();
  }
}
