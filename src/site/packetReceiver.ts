import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, type Stats } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { Server as TusServer } from '@tus/server';
import type { Upload } from '@tus/utils';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../core/atomicFile.js';
import { NotFoundError, toMsiteError } from '../core/errors.js';
import { isPacketFileName } from '../packet/packetNames.js';
import { defaultStorageBay } from '../shipping/incomingBays.js';
import { landPacket } from '../shipping/landPacket.js';
import { DEFAULT_EXPIRATION_DAYS, maxDataSize, receiptHandler, storageBays, type ShippingConf } from '../shipping/shippingConf.js';
import { parseShippingOrder, type ShippingOrder } from '../shipping/shippingOrder.js';
import { spawnReceiptHandler } from '../shipping/spawnReceiptHandler.js';
import { landingPlan, type LandingSlot } from '../shipping/landingPlan.js';
import { siteHost } from '../shipping/siteHostName.js';
import { HashingFileStore } from './hashingFileStore.js';

/** Where partial uploads wait, outside every bay, until they are whole and checked. */
export function uploadsDirectory(homeDir: string): string {
  return join(homeDir, 'shipping', '.uploads');
}

/** The tus upload metadata key holding the order (its JSON; tus carries metadata values in base64). */
export const ORDER_METADATA_KEY = 'order';
/** The receiver's mount points on the peer listener. */
export const UPLOADS_PATH = '/files';
export const RECEIPTS_PATH = '/receipts';

/** What the receiver answers GET /receipts/:id with once the upload `id` has landed. */
export interface ReceiptRecord {
  storedAs: string;
  sha256: string;
  size: number;
  /** The bay directory it landed in (incoming, or outgoing at a relay). */
  directory: string;
  at: number;
}

export interface PacketReceiverOptions {
  homeDir: string;
  logger: Logger;
  /** shipping.conf now (reloaded when it changes). */
  conf: () => ShippingConf;
  /** This site's host name (site init's), to tell a packet for it from one it relays; default the machine's. */
  siteHost: () => string | undefined;
  /** Told of each order landed in an outgoing bay (this site relays it), so it can be sent on at once. */
  onRelay?: (orderPath: string) => void;
  /** The peer host of an authenticated request (the peer listener's check). */
  peerOf: (req: IncomingMessage) => string | undefined;
  /** Bytes to keep free on the disks uploads and bays are on. Default 16 MiB. */
  diskReserveBytes?: number;
  now?: () => number;
}

interface Refusal {
  status_code: number;
  body: string;
}

const CLASS_NAME = /^-?[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

/**
 * The packet receiver on the peer listener: a tus 1.0 server (resumable uploads) whose partial uploads
 * live in `<home>/shipping/.uploads` (kept across restarts, so a transfer resumes where it stopped),
 * never in a bay. An upload is created only for a valid order (in the upload's metadata) naming a
 * packet within the class's MAX-DATA-SIZE that the disks have room for; once whole, its SHA-256 is
 * checked against the order's, and the packet and its order land in the class's bay (landPacket.ts):
 * `incoming` when the order has a pending destination that is this site, else `outgoing` (a relay
 * stores and forwards). Then the class's RECEIPT-HANDLER, if any, is started. Each refusal is one
 * HTTP error (`{"error":{code,message}}`) and one log line. `GET /receipts/:id` says what became of
 * an upload, so a sender that lost the answer learns it without sending again.
 */
export class PacketReceiver {
  readonly uploadsDir: string;
  readonly tus: TusServer;
  private readonly store: HashingFileStore;
  private readonly reserve: number;
  private readonly now: () => number;
  /** Whole uploads being checked and landed: a stopping daemon waits for them (settled()). */
  private readonly landings = new Set<Promise<unknown>>();

  constructor(private readonly options: PacketReceiverOptions) {
    this.uploadsDir = uploadsDirectory(options.homeDir);
    mkdirSync(this.uploadsDir, { recursive: true });
    this.reserve = options.diskReserveBytes ?? 16 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.store = new HashingFileStore({
      directory: this.uploadsDir,
      expirationPeriodInMilliseconds: DEFAULT_EXPIRATION_DAYS * 24 * 60 * 60 * 1000,
    });
    this.tus = new TusServer({
      path: UPLOADS_PATH,
      relativeLocation: true,
      datastore: this.store,
      namingFunction: () => randomBytes(16).toString('hex'),
      onUploadCreate: (req, upload) => this.onCreate(nodeRequest(req), upload),
      onUploadFinish: (req, upload) => {
        const landing = this.onFinish(nodeRequest(req), upload);
        this.landings.add(landing);
        const forget = (): void => void this.landings.delete(landing);
        landing.then(forget, forget);
        return landing;
      },
    });
  }

  /** Mounts the tus endpoints and the receipts on `app` (the peer listener: requests already authenticated). */
  register(app: FastifyInstance): void {
    // tus reads the request body itself.
    app.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => done(null));
    const handle = async (
      req: { raw: IncomingMessage },
      reply: { hijack(): void; raw: import('node:http').ServerResponse },
    ): Promise<void> => {
      reply.hijack();
      const raw = req.raw;
      if (raw.method === 'PATCH') {
        raw.once('close', () => {
          if (!raw.complete) {
            this.options.logger.warn(
              { peer: this.options.peerOf(raw), url: raw.url, declared: raw.headers['content-length'] },
              'packet upload cut off: truncated body kept as a partial upload, nothing stored in a bay',
            );
          }
        });
      }
      await this.tus.handle(raw, reply.raw);
    };
    // No GET: an upload is only ever sent, never read back (tus's file store would serve it).
    const methods = ['POST', 'HEAD', 'PATCH', 'OPTIONS', 'DELETE'];
    app.route({ method: methods, url: UPLOADS_PATH, handler: handle });
    app.route({ method: methods, url: `${UPLOADS_PATH}/*`, handler: handle });
    app.get<{ Params: { id: string } }>(
      `${RECEIPTS_PATH}/:id`,
      { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: UPLOAD_ID.source } }, required: ['id'] } } },
      (req) => this.receipt(req.params.id),
    );
  }

  /**
   * Resolves once no whole upload is being checked or landed. A daemon stopping cuts uploads still
   * arriving (they stay partial, outside the bays, and resume) but waits here for those whose every
   * byte is in, so a packet either lands with its order and receipt or not at all.
   */
  async settled(): Promise<void> {
    while (this.landings.size > 0) await Promise.allSettled([...this.landings]);
  }

  /** Removes partial uploads and receipts older than the default expiry (run at start). */
  async cleanUp(): Promise<void> {
    try {
      await this.tus.cleanUpExpiredUploads();
    } catch (err) {
      this.options.logger.warn({ err: toMsiteError(err).message }, 'cleaning up expired uploads failed');
    }
    const limit = this.now() - DEFAULT_EXPIRATION_DAYS * 24 * 60 * 60 * 1000;
    for (const name of readdirSync(this.uploadsDir)) {
      if (!name.endsWith('.receipt.json')) continue;
      const file = join(this.uploadsDir, name);
      if (statSync(file).mtimeMs < limit) rmSync(file, { force: true });
    }
  }

  private receipt(id: string): ReceiptRecord {
    try {
      return JSON.parse(readFileSync(this.receiptFile(id), 'utf8')) as ReceiptRecord;
    } catch {
      throw new NotFoundError('receipt for upload', id, { hint: 'the upload has not been completed' });
    }
  }

  private receiptFile(id: string): string {
    return join(this.uploadsDir, `${id}.receipt.json`);
  }

  private refuse(req: IncomingMessage, status: number, code: string, message: string, data: Record<string, unknown> = {}): Refusal {
    this.options.logger.warn({ peer: this.options.peerOf(req), status, code, ...data }, `packet refused: ${message}`);
    return { status_code: status, body: `${JSON.stringify({ error: { code, message } })}\n` };
  }

  /** The order the upload carries, checked; throws a refusal. */
  private orderOf(req: IncomingMessage, upload: Upload): ShippingOrder {
    const text = upload.metadata?.[ORDER_METADATA_KEY];
    if (typeof text !== 'string') throw this.refuse(req, 400, 'INVALID_INPUT', 'the upload carries no shipping order');
    let order: ShippingOrder;
    try {
      order = parseShippingOrder(text, 'the upload’s order');
    } catch (err) {
      throw this.refuse(req, 400, 'INVALID_INPUT', toMsiteError(err).message);
    }
    const name = order.packet;
    if (name.includes('/') || name.includes('\\') || name.includes('\0') || name === '.' || name === '..') {
      throw this.refuse(req, 400, 'INVALID_INPUT', `packet name "${name}" leaves the bay`, { packet: name });
    }
    if (!isPacketFileName(name)) {
      throw this.refuse(req, 400, 'INVALID_INPUT', `"${name}" is not a packet name`, { packet: name });
    }
    if (!CLASS_NAME.test(order.class)) {
      throw this.refuse(req, 400, 'INVALID_INPUT', `bad storage class "${order.class}"`, { packet: name });
    }
    return order;
  }

  /** The bay directory a packet lands in: incoming when it is for this site, else outgoing (relay). */
  private destinationDir(conf: ShippingConf, order: ShippingOrder): string {
    return this.slotDir(conf, order, landingPlan(order, this.here())[0]?.slot ?? 'incoming');
  }

  private here(): string {
    return this.options.siteHost() ?? siteHost(this.options.homeDir);
  }

  /** A landing slot's directory in the class's first bay; a return that came home waits in incoming. */
  private slotDir(conf: ShippingConf, order: ShippingOrder, slot: LandingSlot): string {
    const bay = resolve(this.options.homeDir, storageBays(conf, order.class)[0] ?? defaultStorageBay(this.options.homeDir));
    return join(bay, slot === 'outgoing' ? 'outgoing' : 'incoming');
  }

  private async onCreate(req: IncomingMessage, upload: Upload): Promise<Record<string, never>> {
    const order = this.orderOf(req, upload);
    const data = { packet: order.packet, size: upload.size };
    if (upload.size === undefined) throw this.refuse(req, 400, 'INVALID_INPUT', 'a packet upload must say its length', data);
    if (upload.size !== order.size) {
      throw this.refuse(req, 400, 'INVALID_INPUT', `upload length ${upload.size} is not the order's size ${order.size}`, data);
    }
    const conf = this.options.conf();
    const limit = maxDataSize(conf, order.class);
    if (upload.size > limit) {
      throw this.refuse(
        req,
        413,
        'TOO_LARGE',
        `packet of ${upload.size} bytes is over MAX-DATA-SIZE ${limit} of class ${order.class}`,
        data,
      );
    }
    const dir = this.destinationDir(conf, order);
    for (const where of new Set([this.uploadsDir, dir])) {
      const free = freeBytes(where);
      if (free !== undefined && free - this.reserve < upload.size) {
        throw this.refuse(req, 507, 'NO_ROOM', `no room for ${upload.size} bytes at ${existingAncestor(where)} (${free} free)`, data);
      }
    }
    this.options.logger.info({ peer: this.options.peerOf(req), upload: upload.id, ...data }, 'packet upload started');
    return {};
  }

  private async onFinish(req: IncomingMessage, upload: Upload): Promise<{ headers: Record<string, string> }> {
    const order = this.orderOf(req, upload);
    const file = join(this.uploadsDir, upload.id);
    const data = { packet: order.packet, upload: upload.id };
    // Hashed as the bytes were written (hashingFileStore.ts), not read again.
    const sha256 = await this.store.sha256(upload.id, order.size);
    if (sha256 !== order.sha256) {
      await this.tus.datastore.remove(upload.id).catch(() => undefined);
      throw this.refuse(
        req,
        422,
        'SHA256_MISMATCH',
        `packet ${order.packet} arrived with SHA-256 ${sha256}, its order says ${order.sha256}`,
        data,
      );
    }
    const conf = this.options.conf();
    // As every receiver does (landingPlan.ts): this site's own copy, and one to send on for the
    // destinations reached through it; each with the order it needs there.
    const landings = landingPlan(order, this.here());
    if (landings.length === 0) {
      await this.tus.datastore.remove(upload.id).catch(() => undefined);
      throw this.refuse(req, 400, 'INVALID_INPUT', `order for ${order.packet} has no pending destination`, data);
    }
    const dir = this.slotDir(conf, order, landings[0]!.slot);
    let landed;
    const relayed: string[] = [];
    try {
      for (const [i, landing] of landings.entries()) {
        if (i === 0) continue;
        // Copied before the first landing moves the upload away; landPacket moves the copy in.
        const copy = join(this.uploadsDir, `${upload.id}.${i}`);
        copyFileSync(file, copy);
        const onward = await landPacket(copy, this.slotDir(conf, order, landing.slot), landing.order);
        if (landing.slot === 'outgoing' && !onward.repeated) relayed.push(onward.orderPath);
      }
      landed = await landPacket(file, dir, landings[0]!.order);
      if (landings[0]!.slot === 'outgoing' && !landed.repeated) relayed.push(landed.orderPath);
    } catch (err) {
      // A whole upload that did not land cannot be finished again: drop it, so the sender starts over.
      rmSync(file, { force: true });
      rmSync(join(this.uploadsDir, `${upload.id}.json`), { force: true });
      const e = toMsiteError(err);
      throw this.refuse(req, e.transient ? 503 : 500, e.code, `packet ${order.packet} could not be stored: ${e.message}`, data);
    }
    // The data file has moved into the bay; the upload's description goes with it.
    rmSync(join(this.uploadsDir, `${upload.id}.json`), { force: true });
    const record: ReceiptRecord = { storedAs: landed.storedAs, sha256, size: order.size, directory: dir, at: this.now() };
    writeFileAtomic(this.receiptFile(upload.id), `${JSON.stringify(record)}\n`);
    const peer = this.options.peerOf(req);
    this.options.logger.info(
      { peer, ...data, storedAs: landed.storedAs, directory: dir, repeated: landed.repeated, size: order.size },
      landed.repeated ? 'packet received again: already stored' : 'packet received',
    );
    const handler = receiptHandler(conf, order.class);
    if (handler !== undefined && !landed.repeated && dirname(landed.packetPath).endsWith('incoming')) {
      const started = await spawnReceiptHandler({
        handler,
        origin: order.origin,
        packetPath: landed.packetPath,
        orderPath: landed.orderPath,
        storageClass: order.class,
        logFile: join(this.options.homeDir, 'log', 'receipt_handler_log'),
      });
      if ('pid' in started) this.options.logger.info({ handler, pid: started.pid, packet: landed.storedAs }, 'receipt handler started');
      else this.options.logger.error({ handler, error: started.error, packet: landed.storedAs }, 'receipt handler could not start');
    }
    for (const orderPath of relayed) this.options.onRelay?.(orderPath);
    return { headers: { 'Msite-Stored-As': landed.storedAs } };
  }
}

/** The Node request behind a tus (srvx) request. */
function nodeRequest(req: unknown): IncomingMessage {
  return (req as { runtime?: { node?: { req: IncomingMessage } } }).runtime!.node!.req;
}

/** The nearest directory of `path` that exists (a bay is made when first used). */
function existingAncestor(path: string): string {
  let p = path;
  for (;;) {
    let st: Stats | undefined;
    try {
      st = statSync(p);
    } catch {
      st = undefined;
    }
    if (st || dirname(p) === p) return p;
    p = dirname(p);
  }
}

function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(existingAncestor(path));
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}
