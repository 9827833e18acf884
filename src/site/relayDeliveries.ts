import { join } from 'node:path';
import type { Logger } from 'pino';
import { toMsiteError } from '../core/errors.js';
import { siteShippingConf } from '../shipping/incomingBays.js';
import { ordersIn, readOrderFile } from '../shipping/orderFiles.js';
import { siteHost } from '../shipping/siteHostName.js';
import { classStorageBays, OUTGOING } from '../shipping/storageBays.js';
import { shipFromSite } from './shipFromSite.js';
import type { SiteDatabase } from './siteDatabase.js';
import type { SiteHome } from './siteHome.js';

/**
 * The daemon's sending on of relayed packets: each pass is tracked, so a stopping daemon can wait
 * for it, and cut it (through one AbortSignal) once the grace period is over. A cut tus upload stays
 * at the next hop as a partial upload and resumes; its order is left as it was, pending, for the
 * next start (`relayedOrders`) or poll.
 */
export class RelayDeliveries {
  private readonly passes = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly home: SiteHome,
    private readonly site: SiteDatabase,
    private readonly logger: Logger,
  ) {}

  /** Passes under way. */
  get size(): number {
    return this.passes.size;
  }

  /** Sends the orders on now, in the background; nothing once stopping (they wait in the bay). */
  send(orderPaths: readonly string[]): void {
    if (orderPaths.length === 0) return;
    if (this.abort.signal.aborted) {
      this.logger.info({ orders: orderPaths }, 'relayed packet left for the next start: the daemon is stopping');
      return;
    }
    const pass = shipFromSite(this.home, this.site, orderPaths, { signal: this.abort.signal }).then(
      (r) => {
        for (const order of orderPaths) {
          this.logger.info({ order, attempts: r.attempts.length, failures: r.failures }, 'relayed packet sent on');
        }
      },
      (err: unknown) => this.logger.error({ orders: orderPaths, err: toMsiteError(err).message }, 'relayed packet not sent on'),
    );
    this.passes.add(pass);
    void pass.finally(() => this.passes.delete(pass));
  }

  /** Lets the passes under way finish within `graceMs`, then cuts them; resolves once all have ended. */
  async stop(graceMs: number): Promise<void> {
    const all = (): Promise<unknown> => Promise.allSettled([...this.passes]);
    if (this.passes.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
      await Promise.race([all(), graceOver]);
      clearTimeout(timer);
    }
    this.abort.abort();
    while (this.passes.size > 0) await all();
  }
}

/**
 * Orders in the outgoing storage bays that this site holds for others (their origin is another
 * host): what a relay's daemon sends on when it starts, whatever their next try, as it would have
 * on receiving them.
 */
export function relayedOrders(homeDir: string, host: string | undefined): string[] {
  const conf = siteShippingConf(homeDir);
  const here = host ?? siteHost(homeDir);
  const dirs = new Set([...conf.classes.keys()].flatMap((cls) => classStorageBays(homeDir, conf, cls).map((b) => join(b, OUTGOING))));
  const out: string[] = [];
  for (const dir of dirs) {
    for (const o of ordersIn(dir)) {
      try {
        const order = readOrderFile(o.orderPath);
        if (order.origin !== here && order.destinations.some((d) => d.state === 'pending')) out.push(o.orderPath);
      } catch {
        // An unreadable order is the shipping server's to report, on its next poll.
      }
    }
  }
  return out;
}
