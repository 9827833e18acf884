import { IoError } from '../core/errors.js';
import { DaemonError } from './daemonError.js';
import type { DaemonInfo } from './daemonFile.js';

export interface DaemonReply {
  status: number;
  body: unknown;
}

/**
 * One JSON request to the site's daemon (as found in daemon.json).
 *
 * @throws IoError (transient) when the daemon cannot be reached; DaemonError with the daemon's code when
 *   it answers with an error.
 */
export async function daemonRequest(daemon: DaemonInfo, method: string, path: string, body?: unknown): Promise<DaemonReply> {
  const url = `http://${daemon.host}:${daemon.port}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw new IoError(`cannot reach the daemon at ${url}: ${(cause as Error).cause ?? (cause as Error).message}`, {
      cause,
      data: { url },
      hint: 'is msite serve running for this site home?',
    });
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? undefined : JSON.parse(text);
  } catch {
    throw new IoError(`the daemon at ${url} answered ${res.status} with something that is not JSON`, { data: { url } });
  }
  if (res.status >= 400) {
    const error = (parsed as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
    throw new DaemonError(error?.code, res.status, error?.message ?? `the daemon answered ${res.status}`, {
      data: { url },
      ...(error?.hint !== undefined ? { hint: error.hint } : {}),
    });
  }
  return { status: res.status, body: parsed };
}
