import { createReadStream, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { DefaultHttpStack, DetailedError, Upload, type HttpResponse } from 'tus-js-client';
import { InvalidInputError, isTransientSysCode, toMsiteError } from '../core/errors.js';
import { DeliveryError } from './deliveryError.js';
import { PeerKeyMismatch, PinnedAgent } from './pinnedAgent.js';
import type { DeliveryReceipt, DeliveryRequest, Hop, Transport } from './transport.js';

/**
 * Where an interrupted upload continues: per hop and packet SHA-256, the path of the upload the hop
 * made (site.db's `upload_resume` at a site, siteUploadResume.ts), so a delivery resumes after a
 * restart of the sender too.
 */
export interface UploadResumeStore {
  get(hop: string, sha256: string): string | undefined;
  put(hop: string, sha256: string, uploadPath: string): void;
  delete(hop: string, sha256: string): void;
}

export interface TusTransportOptions {
  /** This site's key and certificate (PEM): what it presents to the hop. */
  identity: { key: string; cert: string };
  resume: UploadResumeStore;
  /** Bytes one PATCH request carries at most; they are streamed from the file, so this is not memory. Default 64 MiB. */
  chunkSize?: number;
}

/**
 * The receiver's mount points and metadata key (site/packetReceiver.ts, a layer above: the two sides
 * of one protocol).
 */
const UPLOADS_PATH = '/files';
const RECEIPTS_PATH = '/receipts';
const ORDER_METADATA_KEY = 'order';
const RECEIPT_TIMEOUT_MS = 30_000;

interface Receipt {
  storedAs: string;
  sha256: string;
  size: number;
}

function base(hop: Hop): string {
  return hop.url.replace(/\/+$/, '');
}

/** The message a receiver put in its `{"error":{message}}` body, else the body's first line. */
function refusalText(body: string | undefined): string | undefined {
  if (body === undefined || body.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // Not ours: tus's own plain-text answers.
  }
  return body.trim().split('\n')[0];
}

/**
 * A transport over the peer listener of the hop: mutual TLS (this site's certificate; the hop's
 * certificate key must be its PEER key) carrying a tus 1.0 upload (tus-js-client) of the packet, with
 * its order as upload metadata. The upload's path is recorded as soon as the hop has made it, so an
 * interrupted delivery (the link dropped, either side restarted) resumes from the bytes the hop holds;
 * the file is streamed from disk, a bounded chunk per request. The hop answers the last request
 * once the packet is checked and stored (or, if that answer was lost, `GET /receipts/ID` says so).
 *
 * A repeat delivery of a packet the hop already stored under that name, with that SHA-256, is
 * idempotent: the receipt names the packet already there, nothing is stored twice. `bytesSent` counts
 * what was written on the connections, request headers included.
 */
export class TusTransport implements Transport {
  private readonly chunkSize: number;

  constructor(private readonly options: TusTransportOptions) {
    // A PATCH per 64 MiB: few enough round trips not to show (16 and 64 MiB measured alike for a GiB
    // on loopback, bench/shipping.ts), and little to send again when a request is cut. Not memory:
    // tus-js-client streams each chunk from the file, and the receiver's body stream applies backpressure.
    // What bounds a delivery here is the receiving daemon's CPU: Node's TLS read path, one JS
    // callback per 16 KiB record, costs about twice a plain HTTP receive (measured with a bare
    // https.createServer), then tus's stream stages and the SHA-256.
    this.chunkSize = options.chunkSize ?? 64 * 1024 * 1024;
  }

  async deliver(request: DeliveryRequest, signal?: AbortSignal): Promise<DeliveryReceipt> {
    const { hop, order, packetPath } = request;
    let size: number;
    try {
      size = statSync(packetPath).size;
    } catch (cause) {
      throw new InvalidInputError(`cannot read packet ${packetPath}: ${(cause as Error).message}`, { cause });
    }
    if (size !== order.size) {
      throw new InvalidInputError(`packet ${packetPath} has ${size} bytes, its order says ${order.size}`, { data: { packetPath } });
    }
    const agent = new PinnedAgent(hop.publicKey, { ...this.options.identity, keepAlive: true });
    try {
      const stored = this.options.resume.get(hop.host, order.sha256);
      if (stored !== undefined) {
        // The last attempt may have finished without hearing the answer.
        const receipt = await this.receipt(agent, hop, stored, signal);
        if (receipt) {
          this.options.resume.delete(hop.host, order.sha256);
          return { bytesSent: agent.bytesWritten, storedAs: receipt.storedAs };
        }
      }
      let last: HttpResponse;
      try {
        last = await this.upload(agent, request, size, stored, signal);
      } catch (err) {
        // A refused upload is not resumed: the next attempt, if any, starts a new one.
        if (err instanceof DeliveryError && !err.transient) this.options.resume.delete(hop.host, order.sha256);
        throw err;
      }
      const uploadPath = this.options.resume.get(hop.host, order.sha256);
      let storedAs = last.getHeader('Msite-Stored-As');
      if (storedAs === undefined && uploadPath !== undefined) storedAs = (await this.receipt(agent, hop, uploadPath, signal))?.storedAs;
      if (storedAs === undefined) {
        throw new DeliveryError(`${hop.host} did not confirm that packet ${order.packet} was stored`, {
          persistence: 'transient',
          data: { hop: hop.host, packet: order.packet },
        });
      }
      this.options.resume.delete(hop.host, order.sha256);
      return { bytesSent: agent.bytesWritten, storedAs };
    } finally {
      agent.destroy();
    }
  }

  private upload(
    agent: PinnedAgent,
    request: DeliveryRequest,
    size: number,
    stored: string | undefined,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const { hop, order } = request;
    return new Promise<HttpResponse>((resolveUpload, rejectUpload) => {
      let finished = false;
      const finish = (fn: () => void): void => {
        if (finished) return;
        finished = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const upload = new Upload(createReadStream(request.packetPath), {
        endpoint: `${base(hop)}${UPLOADS_PATH}`,
        ...(stored !== undefined ? { uploadUrl: `${base(hop)}${stored}` } : {}),
        metadata: { [ORDER_METADATA_KEY]: JSON.stringify(order) },
        uploadSize: size,
        chunkSize: this.chunkSize,
        // The shipping server decides when to try again; one attempt here.
        retryDelays: null,
        storeFingerprintForResuming: false,
        removeFingerprintOnSuccess: false,
        httpStack: new DefaultHttpStack({ agent }),
        onUploadUrlAvailable: () => {
          if (upload.url) this.options.resume.put(hop.host, order.sha256, new URL(upload.url).pathname);
        },
        onProgress: (held, total) => request.onProgress?.(held, total),
        onSuccess: ({ lastResponse }) => finish(() => resolveUpload(lastResponse)),
        onError: (err) => finish(() => rejectUpload(this.failure(hop, order.packet, err))),
      });
      const onAbort = (): void => {
        void upload.abort(false);
        finish(() =>
          rejectUpload(
            new DeliveryError(`delivery of ${order.packet} to ${hop.host} stopped`, { persistence: 'transient', data: { hop: hop.host } }),
          ),
        );
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      upload.start();
    });
  }

  /** What became of an upload at the hop: its receipt, or undefined while it is not complete. */
  private receipt(agent: PinnedAgent, hop: Hop, uploadPath: string, signal?: AbortSignal): Promise<Receipt | undefined> {
    const id = uploadPath.split('/').pop() ?? '';
    const url = `${base(hop)}${RECEIPTS_PATH}/${encodeURIComponent(id)}`;
    return new Promise((resolveReceipt, rejectReceipt) => {
      const req = httpsRequest(url, { agent, method: 'GET', timeout: RECEIPT_TIMEOUT_MS, ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => rejectReceipt(this.failure(hop, id, err)));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) {
            try {
              return resolveReceipt(JSON.parse(body) as Receipt);
            } catch {
              return rejectReceipt(new DeliveryError(`${hop.host} answered a receipt that is not JSON`, { persistence: 'transient' }));
            }
          }
          if (res.statusCode === 404) return resolveReceipt(undefined);
          rejectReceipt(this.refused(hop, id, res.statusCode ?? 0, body));
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => rejectReceipt(this.failure(hop, id, err)));
      req.end();
    });
  }

  private refused(hop: Hop, packet: string, status: number, body: string | undefined): DeliveryError {
    // The hop may accept later: it is overloaded, out of room, or asks us to wait.
    const later = status >= 500 || status === 408 || status === 423 || status === 429;
    const why = refusalText(body) ?? `HTTP ${status}`;
    return new DeliveryError(`${hop.host} ${later ? 'could not take' : 'refused'} packet ${packet}: ${why}`, {
      persistence: later ? 'transient' : 'permanent',
      data: { hop: hop.host, url: hop.url, status, packet },
      ...(status === 403 ? { hint: `${hop.host} must have this site's key in a PEER line (msite site peer)` } : {}),
    });
  }

  private failure(hop: Hop, packet: string, err: unknown): DeliveryError {
    if (err instanceof DeliveryError) return err;
    const response = err instanceof DetailedError ? err.originalResponse : null;
    if (response) return this.refused(hop, packet, response.getStatus(), response.getBody());
    const cause = err instanceof DetailedError && err.causingError ? err.causingError : err;
    if (cause instanceof PeerKeyMismatch) {
      return new DeliveryError(`${hop.host} at ${hop.url} is not the site its PEER line names: ${cause.message}`, {
        persistence: 'permanent',
        cause,
        data: { hop: hop.host, url: hop.url, presented: cause.presented },
        hint: `check ${hop.host}'s PEER line against its msite site show`,
      });
    }
    const sysCode = (cause as NodeJS.ErrnoException).code;
    const e = toMsiteError(cause);
    return new DeliveryError(`cannot deliver packet ${packet} to ${hop.host} at ${hop.url}: ${sysCode ?? e.message}`, {
      // A failure with no answer from the hop is the link's or the hop's: a later attempt may pass.
      persistence: sysCode === undefined || isTransientSysCode(sysCode) || sysCode.startsWith('ERR_') ? 'transient' : 'permanent',
      cause,
      data: { hop: hop.host, url: hop.url, sysCode },
    });
  }
}
