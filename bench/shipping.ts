/**
 * The shipping part of `npm run bench` (`node dist/bench/run.js --only shipping [--packet-mib 1024]`):
 * one packet delivered from one site to another site's daemon on loopback — the sender a process
 * running the site's tus transport (bench/shippingSender.ts), the receiver a real `msite serve` —
 * against `cp` of the same file on the same disk followed by an fsync of the copy (`sync FILE`: the
 * receiver makes its packet durable too), and against `curl -T` of it over plain HTTP to a minimal
 * receiver that streams to a file and fsyncs (bench/plainReceiver.ts); a Node client's HTTPS upload
 * to that receiver is shown for what TLS alone costs (bench/plainSender.ts). Then a delivery cut at about
 * half by a SIGKILL of the receiving daemon, resumed after a restart: the bytes it sends against
 * those the receiver was missing. Peak RSS of each side is VmHWM from /proc.
 *
 * The packet is read from the page cache by all three (it was just written and hashed), and every
 * timed step starts with the disk settled (settle.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { packetFileName } from '../src/packet/packetNames.js';
import { fileSha256 } from '../src/shipping/landPacket.js';
import { setPeerLine } from '../src/shipping/setPeerLine.js';
import { serializeShippingOrder, shippingOrderSchema, type ShippingOrder } from '../src/shipping/shippingOrder.js';
import { initSite } from '../src/site/initSite.js';
import { uploadsDirectory } from '../src/site/packetReceiver.js';
import { SiteHome } from '../src/site/siteHome.js';
import { settleDisk } from './settle.js';
import { exited, serveChild, stopChild } from './serveChild.js';

const CP_TARGET = 0.5; // ours/cp throughput: at least half the disk's own copy rate
const CURL_TARGET = 0.8; // ours/curl throughput: at least 0.8 of a plain HTTP upload
const RSS_LIMIT = 200 * 1024 * 1024; // peak RSS of either side: flat, whatever the packet size
const RESUME_TARGET = 1.05; // bytes sent by the resumed delivery / bytes the receiver was missing

export interface ShippingOptions {
  packetMib: number;
  repeat: number;
  /** Directory for `--cpu-prof` profiles of the sender and the receiving daemon (first timed delivery). */
  profileDir: string | undefined;
  /** The tus chunk size (bytes per PATCH request) the sender uses; default the transport's. */
  chunkMib: number | undefined;
  tmp: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const SENDER = join(here, 'shippingSender.js');
const PLAIN_RECEIVER = join(here, 'plainReceiver.js');
const PLAIN_SENDER = join(here, 'plainSender.js');

const MIB = 1024 * 1024;
const fmtSec = (s: number): string => `${s.toFixed(2)} s`;
const fmtMib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;
const fmtRate = (bytesPerSecond: number): string => `${(bytesPerSecond / MIB).toFixed(1)} MiB/s`;
const line = (label: string, value: string): void => console.log(`  ${label.padEnd(44)} ${value}`);

/** Peak RSS and CPU seconds (user + system) of a live process, from /proc (Linux). */
function procFigures(pid: number): { peakRss: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  // Fields 14 and 15 of /proc/PID/stat, after the parenthesised command name; in clock ticks (100/s).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { peakRss: hwm ? Number(hwm[1]) * 1024 : 0, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
}

interface SenderFigures {
  ok: boolean;
  seconds: number;
  cpuSeconds: number;
  bytesSent: number;
  storedAs: string;
  startupSeconds: number;
  peakRss: number;
  killedAt?: number;
}

/** Runs bench/shippingSender.ts; resolves with its figures and the child's whole time. */
function send(args: string[], nodeArgs: string[] = []): Promise<SenderFigures & { processSeconds: number }> {
  const start = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, SENDER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolveSend, rejectSend) => {
    child.once('exit', (code) => {
      if (code !== 0) return rejectSend(new Error(`the sender exited ${code}`));
      resolveSend({ ...(JSON.parse(out) as SenderFigures), processSeconds: (performance.now() - start) / 1000 });
    });
  });
}

function timedCommand(file: string, args: string[]): number {
  const start = performance.now();
  execFileSync(file, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return (performance.now() - start) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}
const runs = (xs: number[]): string => (xs.length > 1 ? ` (median of ${xs.map((x) => x.toFixed(2)).join(', ')} s)` : '');

/** Writes `bytes` of random data (nothing a disk or link could compress) to `path`. */
function writeRandomFile(path: string, bytes: number): void {
  const buf = Buffer.alloc(MIB);
  const fd = openSync(path, 'w');
  try {
    for (let off = 0; off < bytes; off += MIB) writeSync(fd, randomFillSync(buf), 0, Math.min(MIB, bytes - off));
  } finally {
    closeSync(fd);
  }
}

/**
 * `source` sent to bench/plainReceiver.ts `repeat` times, each after a settle, the whole sending
 * process timed: over HTTPS with `tlsHome`'s key by bench/plainSender.ts, else by `curl -T` over HTTP.
 */
async function uploadsTo(repeat: number, source: string, size: number, dir: string, tlsHome: string | undefined): Promise<number[]> {
  mkdirSync(dir);
  const receiver = spawn(process.execPath, [PLAIN_RECEIVER, dir, ...(tlsHome ? [tlsHome] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolvePort) =>
    receiver.stdout.once('data', (d: Buffer) => resolvePort(Number(d.toString().trim()))),
  );
  const times: number[] = [];
  try {
    for (let r = 0; r < repeat; r++) {
      rmSync(join(dir, 'upload'), { force: true });
      settleDisk();
      // No `Expect: 100-continue` round trip: the body goes at once, as tus's PATCH does.
      times.push(
        tlsHome
          ? timedCommand(process.execPath, [PLAIN_SENDER, source, `https://127.0.0.1:${port}/upload`])
          : timedCommand('curl', ['-sS', '-f', '-T', source, '-H', 'Expect:', '-o', '/dev/null', `http://127.0.0.1:${port}/upload`]),
      );
      if (statSync(join(dir, 'upload')).size !== size) throw new Error('curl: the receiver did not get the whole file');
    }
  } finally {
    await stopChild(receiver);
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

export interface ShippingFigures {
  size: number;
  oursSeconds: number;
  cpSeconds: number;
  curlSeconds: number;
  nodeTlsSeconds: number;
  receiverRss: number;
  senderRss: number;
  resumeSent: number;
  resumeMissing: number;
}

export async function benchShipping(o: ShippingOptions): Promise<ShippingFigures> {
  const size = o.packetMib * MIB;
  const root = join(o.tmp, 'shipping');
  mkdirSync(root, { recursive: true });
  console.log(`shipping: one ${fmtMib(size)} packet, site to site on loopback (tus over mutual TLS), against cp and curl`);

  const sender = await initSite(SiteHome.locate(join(root, 'boston_hub'), process.env, process.cwd()), { host: 'boston_hub' });
  const receiver = await initSite(SiteHome.locate(join(root, 'sanfran_hub'), process.env, process.cwd()), { host: 'sanfran_hub' });
  setPeerLine(join(receiver.home, 'shipping.conf'), { host: sender.host, url: 'https://127.0.0.1:7071', publicKey: sender.publicKey });
  const outbox = join(root, 'outbox');
  mkdirSync(outbox);
  const source = join(outbox, 'packet.bin');
  const t = performance.now();
  writeRandomFile(source, size);
  const sha256 = await fileSha256(source);
  line('setup: random packet, its SHA-256', `${fmtSec((performance.now() - t) / 1000)} (not measured)`);

  /** The packet under a packet name of its own (a hard link), with its order in a file. */
  let seq = 0;
  const packet = (): { path: string; order: ShippingOrder; orderFile: string } => {
    const name = packetFileName('update', 'boston_hub', Date.now(), ++seq);
    const path = join(outbox, name);
    linkSync(source, path);
    const now = Date.now();
    const order = shippingOrderSchema.parse({
      format: 1,
      packet: name,
      sha256,
      size,
      class: '-default',
      origin: 'boston_hub',
      destinations: [{ host: 'sanfran_hub', state: 'pending' }],
      createdAt: now,
      expiresAt: now + 86_400_000,
    });
    const orderFile = join(outbox, `${name}.order.json`);
    writeFileSync(orderFile, serializeShippingOrder(order));
    return { path, order, orderFile };
  };
  const senderArgs = (p: { path: string; orderFile: string }, port: number): string[] => [
    sender.home,
    p.path,
    p.orderFile,
    `https://127.0.0.1:${port}`,
    receiver.publicKey,
    receiver.host,
    ...(o.chunkMib !== undefined ? ['--chunk-mib', String(o.chunkMib)] : []),
  ];
  const incoming = join(receiver.home, 'shipping', 'ms_ship', 'incoming');

  // cp, then an fsync of the copy: the disk's own rate for these bytes.
  const copy = join(root, 'copy.bin');
  const cpTimes: number[] = [];
  for (let r = 0; r < o.repeat; r++) {
    rmSync(copy, { force: true });
    settleDisk();
    cpTimes.push(timedCommand('cp', [source, copy]) + timedCommand('sync', [copy]));
  }
  rmSync(copy, { force: true });
  const cpSeconds = median(cpTimes);
  line('cp + sync FILE', `${fmtSec(cpSeconds)}, ${fmtRate(size / cpSeconds)}${runs(cpTimes)}`);

  // curl -T over plain HTTP to a receiver that streams to a file and fsyncs; then a Node client
  // over HTTPS to it (the receiving site's key, no client certificate): not a target, the floor
  // TLS sets two Node processes here (curl's own TLS client measured slower still, 7.7 s a GiB).
  const curlVersion = execFileSync('curl', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.split(' ').slice(0, 2).join(' ');
  const curlTimes = await uploadsTo(o.repeat, source, size, join(root, 'plain'), undefined);
  const curlSeconds = median(curlTimes);
  line(`curl -T, plain HTTP (${curlVersion})`, `${fmtSec(curlSeconds)}, ${fmtRate(size / curlSeconds)}${runs(curlTimes)}`);
  const nodeTlsTimes = await uploadsTo(o.repeat, source, size, join(root, 'plain-tls'), receiver.home);
  const nodeTlsSeconds = median(nodeTlsTimes);
  line('Node client, HTTPS to the same receiver', `${fmtSec(nodeTlsSeconds)}, ${fmtRate(size / nodeTlsSeconds)}${runs(nodeTlsTimes)}`);

  // Ours: a fresh daemon and a fresh sender per run, each delivery of the packet under a new name.
  const deliveries: (SenderFigures & { processSeconds: number; receiverRss: number; receiverCpu: number })[] = [];
  for (let r = 0; r < o.repeat; r++) {
    const profile = o.profileDir && r === 0 ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : [];
    const daemon = await serveChild(receiver.home, {
      nodeArgs: profile.length ? [...profile, '--cpu-prof-name', 'receiver.cpuprofile'] : [],
    });
    try {
      const p = packet();
      settleDisk();
      const sent = await send(senderArgs(p, daemon.peerPort!), profile.length ? [...profile, '--cpu-prof-name', 'sender.cpuprofile'] : []);
      const rx = procFigures(daemon.child.pid!);
      deliveries.push({ ...sent, receiverRss: rx.peakRss, receiverCpu: rx.cpuSeconds });
      const landed = join(incoming, sent.storedAs);
      if (statSync(landed).size !== size || (await fileSha256(landed)) !== sha256) throw new Error(`${landed} is not the packet sent`);
      rmSync(landed);
      rmSync(p.path);
    } finally {
      await stopChild(daemon.child);
    }
  }
  const ours = [...deliveries].sort((a, b) => a.seconds - b.seconds)[Math.floor((deliveries.length - 1) / 2)]!;
  line(
    'msite: tus over mutual TLS, daemon to daemon',
    `${fmtSec(ours.seconds)}, ${fmtRate(size / ours.seconds)}${runs(deliveries.map((d) => d.seconds))}`,
  );
  line('  timed', 'from deliver() to the receipt: packet checked, fsynced, in the incoming bay');
  line('  sender process whole / start-up', `${fmtSec(ours.processSeconds)} / ${fmtSec(ours.startupSeconds)}`);
  line('  CPU: sender / receiving daemon', `${fmtSec(ours.cpuSeconds)} / ${fmtSec(ours.receiverCpu)} (whole daemon)`);
  line(
    '  bytes written on the connections',
    `${ours.bytesSent.toLocaleString('en-US')} (${((100 * ours.bytesSent) / size - 100).toFixed(3)}% over the packet)`,
  );
  const receiverRss = Math.max(...deliveries.map((d) => d.receiverRss));
  const senderRss = Math.max(...deliveries.map((d) => d.peakRss));
  line('  peak RSS: sender / receiving daemon', `${fmtMib(senderRss)} / ${fmtMib(receiverRss)} (VmHWM, highest of the runs)`);
  if (o.profileDir) line('  CPU profiles', `${o.profileDir}/{sender,receiver}.cpuprofile (first run)`);

  // A delivery cut at about half by SIGKILL of the receiving daemon, then resumed by a new sender
  // against a restarted daemon: the second attempt should send only what the receiver lacks.
  const p = packet();
  const first = await serveChild(receiver.home);
  const cut = await send([...senderArgs(p, first.peerPort!), '--kill-at-half', String(first.child.pid)]);
  await exited(first.child);
  if (cut.ok) throw new Error('the cut delivery was not cut');
  const db = new BetterSqlite3(join(sender.home, 'site.db'), { readonly: true });
  const uploadPath = db
    .prepare('SELECT upload_path FROM upload_resume WHERE hop = ? AND sha256 = ?')
    .pluck()
    .get(receiver.host, sha256) as string;
  db.close();
  const held = statSync(join(uploadsDirectory(receiver.home), uploadPath.split('/').pop()!)).size;
  const second = await serveChild(receiver.home);
  let resumed: SenderFigures;
  let resumedRss: number;
  try {
    settleDisk();
    resumed = await send(senderArgs(p, second.peerPort!));
    resumedRss = procFigures(second.child.pid!).peakRss;
  } finally {
    await stopChild(second.child);
  }
  const landed = join(incoming, resumed.storedAs);
  if ((await fileSha256(landed)) !== sha256) throw new Error(`${landed} is not the packet sent`);
  const missing = size - held;
  line(
    'resumed: cut by SIGKILL of the receiving daemon',
    `after ${fmtMib(cut.killedAt ?? 0)} sent; the receiver held ${fmtMib(held)} on disk`,
  );
  line(
    '  resumed delivery after a restart',
    `sent ${resumed.bytesSent.toLocaleString('en-US')} B for ${missing.toLocaleString('en-US')} missing, in ${fmtSec(resumed.seconds)}; daemon peak RSS ${fmtMib(resumedRss)}`,
  );
  return {
    size,
    oursSeconds: ours.seconds,
    cpSeconds,
    curlSeconds,
    nodeTlsSeconds,
    receiverRss: Math.max(receiverRss, resumedRss),
    senderRss: Math.max(senderRss, resumed.peakRss),
    resumeSent: resumed.bytesSent,
    resumeMissing: missing,
  };
}

/** The shipping comparison table: ours, the reference, their ratio, the target, met. */
export function printShippingTable(f: ShippingFigures): void {
  console.log(`comparison (shipping one ${fmtMib(f.size)} packet on loopback)`);
  const head = (a: string, b: string): void =>
    console.log(`    ${''.padEnd(30)} ${a.padStart(14)} ${b.padStart(14)} ${'ratio'.padStart(9)} ${'target'.padStart(8)}  met`);
  const row = (label: string, a: string, b: string, ratio: number, target: string, met: boolean | undefined): void =>
    console.log(
      `    ${label.padEnd(30)} ${a.padStart(14)} ${b.padStart(14)} ${ratio.toFixed(3).padStart(9)} ${target.padStart(8)}  ${met === undefined ? '' : met ? 'yes' : 'NO'}`,
    );
  head('msite', 'reference');
  const ours = f.size / f.oursSeconds;
  const cp = f.size / f.cpSeconds;
  const curl = f.size / f.curlSeconds;
  row('throughput vs cp + sync', fmtRate(ours), fmtRate(cp), ours / cp, `>= ${CP_TARGET}`, ours / cp >= CP_TARGET);
  row('throughput vs curl (HTTP)', fmtRate(ours), fmtRate(curl), ours / curl, `>= ${CURL_TARGET}`, ours / curl >= CURL_TARGET);
  const nodeTls = f.size / f.nodeTlsSeconds;
  row('  vs bare Node HTTPS', fmtRate(ours), fmtRate(nodeTls), ours / nodeTls, '(info)', undefined);
  row('peak RSS, receiving daemon', fmtMib(f.receiverRss), fmtMib(RSS_LIMIT), f.receiverRss / RSS_LIMIT, '< 1', f.receiverRss < RSS_LIMIT);
  row('peak RSS, sender', fmtMib(f.senderRss), fmtMib(RSS_LIMIT), f.senderRss / RSS_LIMIT, '< 1', f.senderRss < RSS_LIMIT);
  const r = f.resumeSent / f.resumeMissing;
  row('resumed: sent vs missing bytes', fmtMib(f.resumeSent), fmtMib(f.resumeMissing), r, `<= ${RESUME_TARGET}`, r <= RESUME_TARGET);
  console.log(
    '    (RSS: the reference column is the limit, 200 MiB; resumed: bytes written on the connections / bytes the receiver lacked)',
  );
}
