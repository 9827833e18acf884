/**
 * The sending side of the shipping bench (bench/shipping.ts), in a process of its own as
 * `msite shipping_server` is: one delivery of a packet to a hop with the site's tus transport
 * (mutual TLS, resumable, its uploads recorded in the site's site.db). Prints the figures as JSON.
 *
 *   node dist/bench/shippingSender.js HOME PACKET ORDER_FILE URL PUBLIC_KEY HOST [--kill-at-half PID]
 *
 * --kill-at-half: SIGKILLs process PID (the receiving daemon) once half the packet has been sent,
 * and reports the failed attempt instead of a receipt.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseShippingOrder } from '../src/shipping/shippingOrder.js';
import { SiteDatabase } from '../src/site/siteDatabase.js';
import { SiteHome } from '../src/site/siteHome.js';
import { siteTransport } from '../src/site/siteTransport.js';

// From the start of this process: what it cost to start node and load msite before the call.
const startupSeconds = performance.now() / 1000;
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'kill-at-half': { type: 'string' }, 'chunk-mib': { type: 'string' } },
});
const [home, packetPath, orderFile, url, publicKey, host] = positionals;
if (!home || !packetPath || !orderFile || !url || !publicKey || !host) {
  console.error('usage: shippingSender.js HOME PACKET ORDER_FILE URL PUBLIC_KEY HOST [--kill-at-half PID] [--chunk-mib N]');
  process.exit(2);
}
const order = parseShippingOrder(readFileSync(orderFile, 'utf8'), orderFile);
const victim = values['kill-at-half'] === undefined ? undefined : Number(values['kill-at-half']);
const chunkSize = values['chunk-mib'] === undefined ? undefined : Number(values['chunk-mib']) * 1024 * 1024;

/** Peak resident memory of this process, in bytes (Linux). */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const db = SiteDatabase.open(home);
const transport = siteTransport(SiteHome.locate(home, process.env, process.cwd()), db, chunkSize ? { chunkSize } : {});
const cpuBefore = process.cpuUsage();
const start = performance.now();
let killedAt: number | undefined;
try {
  const receipt = await transport.deliver({
    hop: { host, url, publicKey },
    packetPath,
    order,
    onProgress: (sent) => {
      if (victim !== undefined && killedAt === undefined && sent >= order.size / 2) {
        killedAt = sent;
        process.kill(victim, 'SIGKILL');
      }
    },
  });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(
    JSON.stringify({
      ok: true,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      bytesSent: receipt.bytesSent,
      storedAs: receipt.storedAs,
      startupSeconds,
      peakRss: peakRss(),
    }),
  );
} catch (err) {
  if (killedAt === undefined) throw err;
  process.stdout.write(JSON.stringify({ ok: false, killedAt, error: (err as Error).message, peakRss: peakRss() }));
} finally {
  db.close();
}
