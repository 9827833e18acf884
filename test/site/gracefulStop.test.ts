import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MsiteError } from '../../src/core/errors.js';
import { packetFileName } from '../../src/packet/packetNames.js';
import { fileSha256 } from '../../src/shipping/landPacket.js';
import { shippingOrderSchema } from '../../src/shipping/shippingOrder.js';
import { SiteDatabase } from '../../src/site/siteDatabase.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { importVersions } from '../../src/vob/commands/importVersions.js';
import { Vob } from '../../src/vob/vob.js';
import { processAlive } from '../../src/core/processAlive.js';
import { readDaemonFile } from '../../src/site/daemonFile.js';
import { BIN, ok, startBinary, tempDir } from '../helpers/cli.js';
import { until } from '../helpers/loopbackSites.js';
import { family } from '../helpers/sites.js';
import { readOrderFile } from '../../src/shipping/orderFiles.js';
import { addPeer, hopTo, identifiedSite, startDaemon, tusTransportOf } from '../shipping/peerSites.js';
import { serveChild, type ServedChild } from '../../bench/serveChild.js';

/** SIGTERM to `msite serve` (a real child process) in the middle of its work, and one daemon per home. */

const root = tempDir('msite-stop-');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

type Served = ServedChild;

/** `msite serve` for `home` on loopback; resolves once it listens. */
async function serve(home: string, port = 0, env: Record<string, string> = {}): Promise<Served> {
  const served = await serveChild(home, { port, env });
  children.push(served.child);
  return served;
}

/** Sends SIGTERM; resolves with the exit code and how long the stop took. */
async function terminate(s: Served): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  s.child.kill('SIGTERM');
  const code = await s.exited;
  return { code, ms: Date.now() - started };
}

/** A packet of `size` random bytes in `dir`, with its order for `destination`. */
async function bigPacket(dir: string, size: number, destination: string) {
  mkdirSync(dir, { recursive: true });
  const name = packetFileName('update', 'boston_hub', Date.now(), 1);
  const packetPath = join(dir, name);
  const fd = openSync(packetPath, 'w');
  for (let off = 0; off < size; off += 1024 * 1024) writeSync(fd, randomBytes(1024 * 1024));
  closeSync(fd);
  const sha256 = await fileSha256(packetPath);
  const order = shippingOrderSchema.parse({
    format: 1,
    packet: name,
    sha256,
    size,
    class: '-default',
    origin: 'boston_hub',
    destinations: [{ host: destination, state: 'pending' }],
    createdAt: Date.now(),
    expiresAt: Date.now() + 86_400_000,
  });
  return { name, packetPath, sha256, order };
}

describe('msite serve stops cleanly', () => {
  it('SIGTERM during a delivery to it: exits promptly, nothing lands half-done, the delivery resumes after a restart', async () => {
    const sender = await identifiedSite(root, 'boston_hub');
    const receiver = await identifiedSite(root, 'sanfran_hub');
    addPeer(receiver, sender);
    const SIZE = 24 * 1024 * 1024;
    const { name, packetPath, sha256, order } = await bigPacket(join(root, 'outbox'), SIZE, 'sanfran_hub');
    const incoming = join(receiver.home, 'shipping', 'ms_ship', 'incoming');

    // Small requests, so the SIGTERM falls between or inside them, never after the last.
    const first = await serve(receiver.home);
    const hop = hopTo(receiver, first.peerPort!);
    let stop: Promise<{ code: number | null; ms: number }> | undefined;
    const err = (await tusTransportOf(sender, { chunkSize: 1024 * 1024 })
      .deliver({ hop, packetPath, order, onProgress: (held) => void (held >= SIZE / 4 && (stop ??= terminate(first))) })
      .catch((e: unknown) => e)) as MsiteError;
    expect(err).toBeInstanceOf(MsiteError);
    expect(err.transient).toBe(true);
    const { code, ms } = await stop!;
    expect(code, first.stderr()).toBe(0);
    // Nothing to wait for but the landing of a whole upload: well within the 5 s grace.
    expect(ms).toBeLessThan(5_000);
    console.log(`msite serve stopped ${ms} ms after SIGTERM during a delivery`);
    expect(first.stderr()).toBe('msite serve: SIGTERM: stopping\n');
    // Nothing in the bay; the bytes that came are a partial upload, kept for the resume.
    expect(existsSync(incoming) ? readdirSync(incoming) : []).toEqual([]);
    expect(readdirSync(join(receiver.home, 'shipping', '.uploads')).some((n) => /^[0-9a-f]{32}$/.test(n))).toBe(true);
    expect(existsSync(join(receiver.home, 'daemon.json'))).toBe(false);

    const second = await serve(receiver.home, first.peerPort);
    const receipt = await tusTransportOf(sender, { chunkSize: 4 * 1024 * 1024 }).deliver({ hop, packetPath, order });
    expect(receipt.storedAs).toBe(name);
    expect(receipt.bytesSent).toBeLessThan(SIZE);
    expect(await fileSha256(join(incoming, name))).toBe(sha256);
    expect((await terminate(second)).code).toBe(0);
  }, 60_000);

  it('SIGTERM to a relay while it sends a packet on: the order stays as it was, and goes on when the relay starts again', async () => {
    const dir = join(root, 'relay');
    const boston = await identifiedSite(dir, 'boston_hub');
    const sanfran = await identifiedSite(dir, 'sanfran_hub');
    const bangalore = await identifiedSite(dir, 'bangalore');
    const bg = await startDaemon(bangalore);
    addPeer(sanfran, boston);
    addPeer(sanfran, bangalore, `https://127.0.0.1:${bg.peerPort}`);
    addPeer(bangalore, sanfran);
    const { name, packetPath, sha256, order } = await bigPacket(join(dir, 'outbox'), 32 * 1024 * 1024, 'bangalore');

    // The relay starts sending on as its landing ends, before it answers the last request: the
    // SIGTERM comes while it sends. No grace: the sending on is cut at once.
    const relay = await serve(sanfran.home, 0, { MSITE_STOP_GRACE: '0' });
    await tusTransportOf(boston).deliver({ hop: hopTo(sanfran, relay.peerPort!), packetPath, order });
    const { code, ms } = await terminate(relay);
    expect(code, relay.stderr()).toBe(0);
    expect(ms).toBeLessThan(5_000);
    const outgoing = join(sanfran.home, 'shipping', 'ms_ship', 'outgoing');
    const held = readOrderFile(join(outgoing, `sh_o_${name}`));
    expect(held.destinations).toEqual([{ host: 'bangalore', state: 'pending', attempts: 0 }]);
    const arrived = join(bangalore.home, 'shipping', 'ms_ship', 'incoming');
    expect(existsSync(arrived) ? readdirSync(arrived) : []).toEqual([]);
    expect(readFileSync(join(sanfran.home, 'log', 'msite-serve.log'), 'utf8')).toContain('"relaying":1');

    const again = await serve(sanfran.home);
    await until('the relay sends the packet on', () => existsSync(join(arrived, name)) && !existsSync(join(outgoing, name)));
    expect(await fileSha256(join(arrived, name))).toBe(sha256);
    expect((await terminate(again)).code).toBe(0);
    await bg.stop();
  }, 60_000);

  it('SIGTERM during a scheduled import: its transaction commits or rolls back whole, and sync_receive completes it', async () => {
    const dir = join(root, 'import');
    mkdirSync(dir);
    const [boston, sanfran] = await family(dir, ['boston_hub', 'sanfran_hub']);
    await boston!.run('mkelem', '--auto', 'a.c');
    const vob = Vob.open(join(dir, 'boston_hub.vob'));
    const VERSIONS = 20_000;
    try {
      importVersions(
        vob,
        (function* () {
          for (let i = 0; i < VERSIONS; i++) yield { path: 'a.c', content: Buffer.from(`version ${i}\n`) };
        })(),
      );
    } finally {
      vob.close();
    }
    const incoming = join(sanfran!.home, 'shipping', 'ms_ship', 'incoming');
    mkdirSync(incoming, { recursive: true });
    await boston!.json<{ packets: string[] }>('syncreplica', '--export', '--out', incoming, 'sanfran_hub');
    const jobs = join(dir, 'jobs.txt');
    writeFileSync(
      jobs,
      'Job.Begin\nJob.Id: 30\nJob.Name: "Receive"\nJob.Schedule.Once.Date: 2000-01-01\nJob.Schedule.FirstStartTime: 00:00:00\nJob.Task: 14\nJob.Args: -lockwait 1\nJob.End\n',
    );
    await sanfran!.run('schedule', '--set', jobs);

    // No grace: the import is ended at once, in the middle of its transaction.
    const daemon = await serve(sanfran!.home, 0, { MSITE_STOP_GRACE: '0' });
    await ok(['schedule', '--run', 'Receive'], { home: sanfran!.home });
    const site = new BetterSqlite3(join(sanfran!.home, 'site.db'), { readonly: true });
    try {
      await until(
        'the import holds its VOB',
        () => site.prepare("SELECT count(*) FROM vob_lock WHERE name LIKE 'import:%'").pluck().get() === 1,
      );
    } finally {
      site.close();
    }
    const { code } = await terminate(daemon);
    expect(code, daemon.stderr()).toBe(0);

    // The replica's own epoch row says exactly what its oplog holds, whichever way the import ended.
    const consistent = (): { applied: number } => {
      const v = Vob.open(join(dir, 'sanfran_hub.vob'), { readonly: true });
      try {
        const oplog = v.db
          .prepare('SELECT r.oid AS origin, max(o.id) AS id FROM oplog o JOIN replica_index r ON r.idx = o.origin GROUP BY r.oid')
          .all() as { origin: string; id: number }[];
        const epoch = v.db.prepare('SELECT origin, id FROM epoch WHERE replica = ? AND id > 0').all(v.self) as {
          origin: string;
          id: number;
        }[];
        const byOrigin = (rows: { origin: string; id: number }[]) => Object.fromEntries(rows.map((r) => [r.origin, r.id]));
        expect(byOrigin(epoch)).toEqual(byOrigin(oplog));
        return { applied: v.db.prepare("SELECT count(*) FROM oplog WHERE kind = 'mkversion'").pluck().get() as number };
      } finally {
        v.close();
      }
    };
    // The run is ended by SIGTERM, then SIGKILL after the kill timeout. Node acts on a SIGTERM between
    // two turns of its event loop, so a packet's import transaction, synchronous, ends committed; a
    // SIGKILL in the middle rolls it back. Either way the oplog and the epoch row agree.
    const status = (await ok(['schedule', '--status', 'Receive'], { home: sanfran!.home })).stdout;
    const signal = /\[msite serve stopped: the run was ended with (SIGTERM|SIGKILL)\]/.exec(status)?.[1];
    expect(signal, status).toBeDefined();
    const applied = consistent().applied;
    expect([0, VERSIONS]).toContain(applied);
    console.log(`scheduled import ended by ${signal}: ${applied === 0 ? 'rolled back' : 'committed'}`);
    await sanfran!.run('sync_receive');
    expect(consistent().applied).toBeGreaterThanOrEqual(VERSIONS);
  }, 120_000);

  it('of two msite serve started at once on one home, exactly one runs; the other names its process', async () => {
    // A new home: the two also race to create it.
    const home = join(root, 'race');
    const runs = [startBinary(['serve', '--port', '0'], home), startBinary(['serve', '--port', '0'], home)];
    const loser = await Promise.race(runs);
    expect(loser.status).toBe(1);
    const m = /^msite: error: a daemon already serves .* \(process (\d+), port \d+\) \(stop it first: kill \d+\)\n$/.exec(loser.stderr);
    expect(m, loser.stderr).not.toBeNull();
    const pid = Number(m![1]);
    process.kill(pid, 'SIGTERM');
    const [a, b] = await Promise.all(runs);
    expect([a!.status, b!.status].sort()).toEqual([0, 1]);
    expect((a!.status === 0 ? a! : b!).stdout).toMatch(/^msite serve: listening on/);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
  }, 60_000);

  it('takes over the claim of a daemon whose process is gone, and gives it back when it stops', async () => {
    const home = join(root, 'stale');
    SiteDatabase.open(home).close();
    const claim = (): unknown => {
      const db = new BetterSqlite3(join(home, 'site.db'), { readonly: true });
      try {
        const value = db.prepare("SELECT value FROM daemon_state WHERE key = 'daemon'").pluck().get() as string | undefined;
        return value === undefined ? undefined : JSON.parse(value);
      } finally {
        db.close();
      }
    };
    const db = new BetterSqlite3(join(home, 'site.db'));
    db.prepare("INSERT INTO daemon_state (key, value) VALUES ('daemon', ?)").run(
      JSON.stringify({ pid: 2 ** 22 + 77, token: 'x', since: 0 }),
    );
    db.close();
    const daemon = await startDaemon({ home, homeObj: SiteHome.locate(home, {}, home) });
    expect(claim()).toMatchObject({ pid: process.pid, port: daemon.port });
    await daemon.stop();
    expect(claim()).toBeUndefined();
  });

  it('with MSITE_STOP_WITH_PARENT, stops cleanly once its parent is killed with SIGKILL', async () => {
    const home = join(root, 'orphan');
    // The shell is the parent, as `msite demo` is for its daemons; it waits, so killing it orphans the daemon.
    const parent = spawn(
      'sh',
      [
        '-c',
        'MSITE_STOP_WITH_PARENT=$$ "$0" "$1" serve --home "$2" --port 0 --admin-port 0 >/dev/null 2>&1 & wait',
        process.execPath,
        BIN,
        home,
      ],
      { stdio: 'ignore' },
    );
    children.push(parent);
    await until('the daemon listens', () => readDaemonFile(join(home, 'daemon.json')) !== undefined, 20_000);
    const pid = readDaemonFile(join(home, 'daemon.json'))!.pid;
    parent.kill('SIGKILL');
    await until('the daemon stops', () => !processAlive(pid), 20_000);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
  }, 30_000);
});
