import { chmodSync, existsSync, readdirSync, readFileSync, statSync, appendFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsiteError } from '../../src/core/errors.js';
import { loadSiteIdentity } from '../../src/shipping/siteIdentity.js';
import { orderFileName, type ShippingOrder } from '../../src/shipping/shippingOrder.js';
import type { SiteDaemon } from '../../src/site/siteDaemon.js';
import { tempDir } from '../helpers/cli.js';
import { addPeer, hopTo, identifiedSite, startDaemon, tusTransportOf } from '../shipping/peerSites.js';
import { makePacket } from '../shipping/transportConformance.js';

/** The peer listener: mutual TLS pinned by PEER key, and the packet receiver's refusals. */

const root = tempDir('msite-peer-');
let sender: Awaited<ReturnType<typeof identifiedSite>>;
let stranger: Awaited<ReturnType<typeof identifiedSite>>;
let receiver: Awaited<ReturnType<typeof identifiedSite>>;
let daemon: SiteDaemon;
const outbox = join(root, 'outbox');
const handlerLog = join(root, 'handler.log');

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTPS request to the receiver's peer listener, as `as` (its certificate) or with none. */
function peerRequest(
  as: { home: string } | undefined,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer,
): Promise<Reply> {
  const identity = as ? loadSiteIdentity(as.home)! : undefined;
  return new Promise((resolveReply, rejectReply) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: daemon.peerPort,
        method,
        path,
        headers,
        agent: false,
        rejectUnauthorized: false,
        ...(identity ? { key: identity.key, cert: identity.cert } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveReply({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      },
    );
    req.on('error', rejectReply);
    req.end(body);
  });
}

/** Creates a tus upload for `order` as the sender. */
function createUpload(order: unknown, length: number, as: { home: string } = sender): Promise<Reply> {
  const metadata = `order ${Buffer.from(JSON.stringify(order)).toString('base64')}`;
  return peerRequest(as, 'POST', '/files', { 'Tus-Resumable': '1.0.0', 'Upload-Length': length, 'Upload-Metadata': metadata });
}

/** Every file under the receiver's bays (incoming, outgoing, return). */
function bayFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(join(receiver.home, 'shipping', 'ms_ship'));
  walk(join(receiver.home, 'shipping', 'ms_rtn'));
  return out;
}

function logText(): string {
  return readFileSync(join(receiver.home, 'log', 'msite-serve.log'), 'utf8');
}

function errorCode(reply: Reply): string | undefined {
  return (JSON.parse(reply.body) as { error?: { code?: string } }).error?.code;
}

beforeAll(async () => {
  sender = await identifiedSite(root, 'boston_hub');
  stranger = await identifiedSite(root, 'tokyo');
  receiver = await identifiedSite(root, 'sanfran_hub');
  addPeer(receiver, sender);
  const handler = join(root, 'handler.sh');
  writeFileSync(handler, `#!/bin/sh\necho "$@" >> ${handlerLog}\n`);
  chmodSync(handler, 0o755);
  appendFileSync(join(receiver.home, 'shipping.conf'), `RECEIPT-HANDLER ${handler}\nMAX-DATA-SIZE 1m\n`);
  daemon = await startDaemon(receiver);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(outbox, { recursive: true });
});
afterAll(async () => {
  await daemon?.stop();
});

describe('the peer listener', () => {
  it('refuses a client without a certificate, and one whose key is not a PEER, with 403 and a log line', async () => {
    const none = await peerRequest(undefined, 'GET', `/receipts/${'a'.repeat(32)}`);
    expect(none.status).toBe(403);
    expect(errorCode(none)).toBe('UNKNOWN_PEER');
    const notPeer = await peerRequest(stranger, 'GET', `/receipts/${'a'.repeat(32)}`);
    expect(notPeer.status).toBe(403);
    expect(JSON.parse(notPeer.body)).toMatchObject({
      error: { code: 'UNKNOWN_PEER', message: `refused: the key ${stranger.publicKey} is not a PEER of this site` },
    });
    const { order } = makePacket(outbox, 'sanfran_hub', 10, 90);
    expect((await createUpload(order, 10, stranger)).status).toBe(403);
    expect(logText().match(/peer refused: not a PEER key/g)?.length).toBe(3);
    expect(bayFiles()).toEqual([]);
  });

  it('accepts a PEER, and a key added to shipping.conf takes effect without a restart', async () => {
    const asked = await peerRequest(sender, 'GET', `/receipts/${'a'.repeat(32)}`);
    expect([asked.status, errorCode(asked)]).toEqual([404, 'NOT_FOUND']);
    addPeer(receiver, stranger);
    expect((await peerRequest(stranger, 'GET', `/receipts/${'a'.repeat(32)}`)).status).toBe(404);
  });

  it('stores a delivered packet and its order in the incoming bay, then starts the receipt handler', async () => {
    const { path, order } = makePacket(outbox, 'sanfran_hub', 300_000, 1);
    const receipt = await tusTransportOf(sender).deliver({ hop: hopTo(receiver, daemon.peerPort!), packetPath: path, order });
    const incoming = join(receiver.home, 'shipping', 'ms_ship', 'incoming');
    expect(receipt.storedAs).toBe(order.packet);
    expect(readFileSync(join(incoming, order.packet)).equals(readFileSync(path))).toBe(true);
    const deadline = Date.now() + 10_000;
    while (!existsSync(handlerLog) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(handlerLog, 'utf8')).toBe(
      `-o boston_hub -d ${join(incoming, order.packet)} -a ${join(incoming, orderFileName(order.packet))} -s -default\n`,
    );
    expect(logText()).toContain('"msg":"receipt handler started"');
  });

  it('lands a packet under a new name when its name is taken by another packet', async () => {
    const first = makePacket(outbox, 'sanfran_hub', 1000, 7);
    const transport = tusTransportOf(sender);
    const hop = hopTo(receiver, daemon.peerPort!);
    await transport.deliver({ hop, packetPath: first.path, order: first.order });
    const second = makePacket(outbox, 'sanfran_hub', 1000, 7);
    const receipt = await transport.deliver({ hop, packetPath: second.path, order: second.order });
    expect(receipt.storedAs).toBe(first.order.packet.replace('boston_hub_', 'boston_hub.2_'));
    const incoming = join(receiver.home, 'shipping', 'ms_ship', 'incoming');
    expect(readFileSync(join(incoming, receipt.storedAs)).equals(readFileSync(second.path))).toBe(true);
    expect((JSON.parse(readFileSync(join(incoming, orderFileName(receipt.storedAs)), 'utf8')) as ShippingOrder).packet).toBe(
      receipt.storedAs,
    );
  });

  it('stores a packet for another site in the outgoing bay (a relay)', async () => {
    const { path, order } = makePacket(outbox, 'bangalore', 5000, 3);
    const receipt = await tusTransportOf(sender).deliver({ hop: hopTo(receiver, daemon.peerPort!), packetPath: path, order });
    const outgoing = join(receiver.home, 'shipping', 'ms_ship', 'outgoing');
    expect(readFileSync(join(outgoing, receipt.storedAs)).equals(readFileSync(path))).toBe(true);
    expect(existsSync(join(outgoing, orderFileName(receipt.storedAs)))).toBe(true);
  });
});

describe('the packet receiver refuses, logs, and leaves nothing in a bay', () => {
  let before: string[];
  beforeAll(() => {
    before = bayFiles();
  });

  async function refused(order: ShippingOrder | Record<string, unknown>, length: number, status: number, message: RegExp): Promise<void> {
    const reply = await createUpload(order, length);
    expect([reply.status, reply.body]).toEqual([status, expect.stringMatching(message)]);
    expect(logText()).toMatch(new RegExp(`packet refused: ${message.source}`));
    expect(bayFiles()).toEqual(before);
  }

  it('a name that leaves the bay', async () => {
    const { order } = makePacket(outbox, 'sanfran_hub', 10, 11);
    await refused({ ...order, packet: '../../shipping.conf' }, 10, 400, /packet name \\"\.\.\/\.\.\/shipping\.conf\\" leaves the bay/);
  });

  it('a name that is not a packet name', async () => {
    const { order } = makePacket(outbox, 'sanfran_hub', 10, 12);
    await refused({ ...order, packet: 'notes.txt' }, 10, 400, /\\"notes\.txt\\" is not a packet name/);
  });

  it('a body over MAX-DATA-SIZE', async () => {
    const { order } = makePacket(outbox, 'sanfran_hub', 10, 13);
    const size = 2 * 1024 * 1024;
    await refused({ ...order, size }, size, 413, /packet of 2097152 bytes is over MAX-DATA-SIZE 1048576 of class -default/);
  });

  it('a wrong SHA-256', async () => {
    const { path, order } = makePacket(outbox, 'sanfran_hub', 4096, 14);
    const wrong = { ...order, sha256: 'f'.repeat(64) };
    const err = (await tusTransportOf(sender)
      .deliver({ hop: hopTo(receiver, daemon.peerPort!), packetPath: path, order: wrong })
      .catch((e: unknown) => e)) as MsiteError;
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(
      /^sanfran_hub refused packet sync_boston_hub_.*: packet .* arrived with SHA-256 [0-9a-f]{64}, its order says f{64}$/,
    );
    expect(logText()).toMatch(/packet refused: packet .* arrived with SHA-256/);
    expect(bayFiles()).toEqual(before);
  });

  it('a truncated body: kept as a partial upload outside the bays, nothing stored', async () => {
    const { order } = makePacket(outbox, 'sanfran_hub', 100_000, 15);
    const created = await createUpload(order, order.size);
    expect(created.status).toBe(201);
    const location = String(created.headers.location);
    const identity = loadSiteIdentity(sender.home)!;
    // Say 100000 bytes, send 40000, then drop the connection.
    await new Promise<void>((resolveCut) => {
      const req = request({
        host: '127.0.0.1',
        port: daemon.peerPort,
        method: 'PATCH',
        path: location,
        agent: false,
        rejectUnauthorized: false,
        key: identity.key,
        cert: identity.cert,
        headers: {
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': 0,
          'Content-Type': 'application/offset+octet-stream',
          'Content-Length': order.size,
        },
      });
      req.on('error', () => resolveCut());
      req.write(Buffer.alloc(40_000, 1), () => setTimeout(() => req.destroy(), 200));
      req.on('close', () => resolveCut());
    });
    const deadline = Date.now() + 5_000;
    while (!/packet upload cut off/.test(logText()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(logText()).toContain('packet upload cut off: truncated body kept as a partial upload, nothing stored in a bay');
    const head = await peerRequest(sender, 'HEAD', location, { 'Tus-Resumable': '1.0.0' });
    expect(Number(head.headers['upload-offset'])).toBeLessThanOrEqual(40_000);
    // What arrived is never served back.
    expect((await peerRequest(sender, 'GET', location, { 'Tus-Resumable': '1.0.0' })).status).toBe(404);
    expect(bayFiles()).toEqual(before);
  });

  it('a disk without the room', async () => {
    await daemon.stop();
    daemon = await startDaemon(receiver, { diskReserveBytes: Number.MAX_SAFE_INTEGER / 2 });
    const { order } = makePacket(outbox, 'sanfran_hub', 10, 16);
    await refused(order, 10, 507, /no room for 10 bytes at .* free\)/);
  });
});
