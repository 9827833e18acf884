import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { ScheduleStore } from '../schedule/scheduleStore.js';
import { refuseOtherMethods } from './httpErrors.js';
import type { SiteDatabase } from './siteDatabase.js';
import type { SiteHome } from './siteHome.js';
import { gatherSiteMetrics } from './siteMetrics.js';
import { siteMetricsRegistry } from './siteMetricsRegistry.js';
import { SyncRecordTotals } from './syncRecordTotals.js';

/** What the /metrics route reads. */
export interface MetricsContext {
  home: SiteHome;
  site: SiteDatabase;
  store: ScheduleStore;
  clock: Clock;
  logger: Logger;
}

/**
 * `GET /metrics` on the admin listener: the site in the Prometheus text format (siteMetricsRegistry.ts
 * lists the metrics), read from the VOBs, bays and site.db at each scrape, so what it shows is what
 * is recorded, whichever process did the work.
 */
export function registerMetricsRoute(app: FastifyInstance, c: MetricsContext): void {
  const totals = new SyncRecordTotals();
  app.get('/metrics', async (_req, reply) => {
    const started = performance.now();
    const registry = siteMetricsRegistry(gatherSiteMetrics(c.home, c.site.db, c.store.getJobs(), c.clock.now(), totals));
    const text = await registry.metrics();
    c.logger.debug({ ms: Math.round(performance.now() - started) }, 'metrics scraped');
    void reply.type(registry.contentType);
    return text;
  });
  refuseOtherMethods(app, '/metrics', ['GET']);
}
