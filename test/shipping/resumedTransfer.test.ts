import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MsiteError } from '../../src/core/errors.js';
import { packetFileName } from '../../src/packet/packetNames.js';
import { shippingOrderSchema } from '../../src/shipping/shippingOrder.js';
import { loadSiteIdentity } from '../../src/shipping/siteIdentity.js';
import { tempDir } from '../helpers/cli.js';
import { fileSha256 } from '../../src/shipping/landPacket.js';
import { addPeer, hopTo, identifiedSite, tusTransportOf } from './peerSites.js';
import { serveChild } from '../../bench/serveChild.js';

/** A 50 MB delivery whose receiving daemon (a child process) is killed midway, resumed by a restarted sender. */

const root = tempDir('msite-resume-');
const SIZE = 50 * 1024 * 1024;
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** `msite serve` for `home` as a child process; resolves with its peer port once it listens. */
async function serve(home: string, port: number): Promise<{ child: ChildProcess; peerPort: number }> {
  const { child, peerPort } = await serveChild(home, { port });
  children.push(child);
  return { child, peerPort: peerPort! };
}

/** The offset the receiver holds for an upload (a tus HEAD request as the sender). */
function heldOffset(sender: { home: string }, peerPort: number, path: string): Promise<number> {
  const identity = loadSiteIdentity(sender.home)!;
  return new Promise((resolveHead, rejectHead) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: peerPort,
        method: 'HEAD',
        path,
        agent: false,
        rejectUnauthorized: false,
        key: identity.key,
        cert: identity.cert,
        headers: { 'Tus-Resumable': '1.0.0' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolveHead(Number(res.headers['upload-offset'])));
      },
    );
    req.on('error', rejectHead);
    req.end();
  });
}

/** Peak resident memory of a process, in bytes (Linux). */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

describe('a resumable delivery', () => {
  it('continues a 50 MB transfer cut by a SIGKILLed receiver from the bytes it holds, and arrives intact', async () => {
    const sender = await identifiedSite(root, 'boston_hub');
    const receiver = await identifiedSite(root, 'sanfran_hub');
    addPeer(receiver, sender);

    const outbox = join(root, 'outbox');
    mkdirSync(outbox);
    const name = packetFileName('update', 'boston_hub', Date.now(), 1);
    const packetPath = join(outbox, name);
    const fd = openSync(packetPath, 'w');
    for (let off = 0; off < SIZE; off += 1024 * 1024) writeSync(fd, randomBytes(1024 * 1024));
    closeSync(fd);
    const sha256 = await fileSha256(packetPath);
    const now = Date.now();
    const order = shippingOrderSchema.parse({
      format: 1,
      packet: name,
      sha256,
      size: SIZE,
      class: '-default',
      origin: 'boston_hub',
      destinations: [{ host: 'sanfran_hub', state: 'pending' }],
      createdAt: now,
      expiresAt: now + 86_400_000,
    });

    // First attempt: the receiving daemon is killed once it has taken about half.
    const first = await serve(receiver.home, 0);
    const hop = hopTo(receiver, first.peerPort);
    const err = (await tusTransportOf(sender, { chunkSize: 16 * 1024 * 1024 })
      .deliver({
        hop,
        packetPath,
        order,
        onProgress: (held) => {
          if (held >= SIZE / 2 && first.child.exitCode === null) first.child.kill('SIGKILL');
        },
      })
      .catch((e: unknown) => e)) as MsiteError;
    expect(err).toBeInstanceOf(MsiteError);
    expect(err.transient).toBe(true);
    await new Promise((r) => (first.child.exitCode === null && first.child.signalCode === null ? first.child.once('exit', r) : r(null)));

    // The sender recorded where the upload is; the receiver kept what arrived, outside its bays.
    const db = new BetterSqlite3(join(sender.home, 'site.db'), { readonly: true });
    const uploadPath = db
      .prepare('SELECT upload_path FROM upload_resume WHERE hop = ? AND sha256 = ?')
      .pluck()
      .get('sanfran_hub', sha256) as string;
    db.close();
    expect(uploadPath).toMatch(/^\/files\/[0-9a-f]{32}$/);

    // Both sides restart: the daemon on the same port, the sender as a new transport on its site.db.
    const second = await serve(receiver.home, first.peerPort);
    const held = await heldOffset(sender, second.peerPort, uploadPath);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(SIZE);
    const missing = SIZE - held;
    const started = Date.now();
    const receipt = await tusTransportOf(sender, { chunkSize: 16 * 1024 * 1024 }).deliver({ hop, packetPath, order });
    const seconds = (Date.now() - started) / 1000;
    expect(receipt.storedAs).toBe(name);
    expect(receipt.bytesSent).toBeGreaterThanOrEqual(missing);
    expect(receipt.bytesSent).toBeLessThanOrEqual(1.05 * missing);
    const landed = join(receiver.home, 'shipping', 'ms_ship', 'incoming', name);
    expect(await fileSha256(landed)).toBe(sha256);
    expect(createHash('sha256').update(readFileSync(landed)).digest('hex')).toBe(sha256);
    const rss = peakRss(second.child.pid!);
    expect(rss).toBeLessThan(200 * 1024 * 1024);
    console.log(
      `resumed: held ${held} of ${SIZE}, sent ${receipt.bytesSent} for ${missing} missing (${(receipt.bytesSent / missing).toFixed(4)}x) in ${seconds.toFixed(2)} s; receiver peak RSS ${(rss / 1048576).toFixed(1)} MB`,
    );
    second.child.kill('SIGTERM');
  }, 120_000);
});
