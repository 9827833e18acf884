import { Counter, Gauge, Registry } from 'prom-client';
import { RecordedHistogram } from './recordedHistogram.js';
import type { SiteMetrics } from './siteMetrics.js';
import { DURATION_BUCKETS } from './syncRecordTotals.js';

/**
 * A prom-client registry (its own, never the global one) holding `m`, every name prefixed `msite_`.
 * Made afresh for each scrape from what was read then, so two scrapes at once never mix.
 *
 * Counters are totals of durable records (sync_record, conflict, order_attempt, schedule_run), not of
 * events this process saw: a daemon restart does not reset them. They fall only when records go
 * (a replica re-made from a creation packet starts a new history; a VOB is unregistered), which
 * Prometheus' rate() reads as a counter reset, as it should.
 */
export function siteMetricsRegistry(m: SiteMetrics): Registry {
  const registry = new Registry();
  const registers = [registry];
  const vobUp = new Gauge({
    name: 'msite_vob_up',
    help: '1 when the VOB could be opened and read for this scrape, else 0',
    labelNames: ['vob'],
    registers,
  });
  const behind = new Gauge({
    name: 'msite_ops_behind',
    help: "Ops this replica holds that the sibling lacks, by this replica's epoch matrix (as lsepoch shows it)",
    labelNames: ['vob', 'sibling'],
    registers,
  });
  const exportAge = new Gauge({
    name: 'msite_last_export_age_seconds',
    help: 'Seconds since the last successful export to the sibling',
    labelNames: ['vob', 'sibling'],
    registers,
  });
  const importAge = new Gauge({
    name: 'msite_last_import_age_seconds',
    help: 'Seconds since the last successful import of a packet from the sibling',
    labelNames: ['vob', 'sibling'],
    registers,
  });
  const exportDurations = new RecordedHistogram(
    {
      name: 'msite_export_duration_seconds',
      help: 'How long exports to the sibling took (an export to several siblings counts for each)',
      labelNames: ['vob', 'sibling'],
      registers,
    },
    DURATION_BUCKETS,
  );
  const importDurations = new RecordedHistogram(
    {
      name: 'msite_import_duration_seconds',
      help: 'How long imports of packets from the sibling took, each packet from its reading to its commit',
      labelNames: ['vob', 'sibling'],
      registers,
    },
    DURATION_BUCKETS,
  );
  const conflicts = new Counter({
    name: 'msite_conflicts_total',
    help: 'Automatic renames made on import (name conflicts between replicas)',
    labelNames: ['vob'],
    registers,
  });
  const unresolved = new Gauge({
    name: 'msite_conflicts_unresolved',
    help: 'Types and replicas still under another name than the one their master gave them',
    labelNames: ['vob'],
    registers,
  });
  for (const v of m.vobs) {
    vobUp.set({ vob: v.tag }, v.up ? 1 : 0);
    if (!v.up) continue;
    conflicts.inc({ vob: v.tag }, v.conflicts);
    unresolved.set({ vob: v.tag }, v.unresolvedConflicts);
    for (const s of v.siblings) {
      const labels = { vob: v.tag, sibling: s.name };
      behind.set(labels, s.opsBehind);
      if (s.lastExportAt !== undefined) exportAge.set(labels, Math.max(0, (m.at - s.lastExportAt) / 1000));
      if (s.lastImportAt !== undefined) importAge.set(labels, Math.max(0, (m.at - s.lastImportAt) / 1000));
      if (s.exports) exportDurations.setRecorded(labels, s.exports);
      if (s.imports) importDurations.setRecorded(labels, s.imports);
    }
  }

  const waiting = new Gauge({
    name: 'msite_packets_waiting',
    help: 'Packets in the incoming storage bays waiting for import',
    labelNames: ['bay'],
    registers,
  });
  for (const w of m.waiting) waiting.set({ bay: w.bay }, w.packets);
  const orders = new Gauge({
    name: 'msite_orders',
    help: 'Shipping orders: pending (to be delivered), expired (not yet returned), returning (on their way back), returned (in the return bay)',
    labelNames: ['state'],
    registers,
  });
  for (const [state, n] of Object.entries(m.orders)) orders.set({ state }, n);
  const shippingConfUp = new Gauge({
    name: 'msite_shipping_conf_up',
    help: '1 when shipping.conf could be read for this scrape (else bays and orders are not counted)',
    registers,
  });
  shippingConfUp.set(m.shippingConfUp ? 1 : 0);

  const delivered = new Counter({
    name: 'msite_deliveries_total',
    help: 'Delivery attempts that delivered, by next hop',
    labelNames: ['host'],
    registers,
  });
  const failed = new Counter({
    name: 'msite_delivery_failures_total',
    help: 'Delivery attempts that failed, by next hop',
    labelNames: ['host'],
    registers,
  });
  const bytes = new Counter({
    name: 'msite_delivery_bytes_total',
    help: 'Bytes of the packets delivered, by next hop',
    labelNames: ['host'],
    registers,
  });
  const wire = new Counter({
    name: 'msite_delivery_wire_bytes_total',
    help: 'Bytes the delivered attempts wrote on the wire (request headers included), by next hop',
    labelNames: ['host'],
    registers,
  });
  for (const d of m.deliveries) {
    delivered.inc({ host: d.host }, d.delivered);
    failed.inc({ host: d.host }, d.failed);
    bytes.inc({ host: d.host }, d.packetBytes);
    wire.inc({ host: d.host }, d.wireBytes);
  }

  const runs = new Counter({ name: 'msite_job_runs_total', help: 'Completed runs of the job', labelNames: ['job_id', 'job'], registers });
  const jobFailures = new Counter({
    name: 'msite_job_failures_total',
    help: 'Runs of the job that ended with an exit status other than 0',
    labelNames: ['job_id', 'job'],
    registers,
  });
  for (const j of m.jobs) {
    const labels = { job_id: String(j.id), job: j.name };
    runs.inc(labels, j.runs);
    jobFailures.inc(labels, j.failures);
  }
  return registry;
}
