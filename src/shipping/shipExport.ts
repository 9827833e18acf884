import { exportUpdate, resolveTargets, type ExportOptions, type ExportResult } from '../replication/exportUpdate.js';
import { exportReplica, type NewReplicaSpec } from '../replication/mkreplica.js';
import { replicaByName } from '../vob/queries.js';
import type { Vob } from '../vob/vob.js';
import { siteShippingConf } from './incomingBays.js';
import { shipPacket, exportBayDir, type ShipOptions } from './shipPackets.js';
import type { OrderInBay } from './orderFiles.js';
import { sealingPlan } from './sealingPlan.js';
import { DEFAULT_CLASS, maxDataSize } from './shippingConf.js';
import { siteHost } from './siteHostName.js';

/** What an export for shipping wrote: the packets (in an outgoing bay, no order yet) and the hosts they go to. */
export interface ShippableExport<R> {
  result: R;
  packets: string[];
  destinations: string[];
}

/**
 * `syncreplica --export --ship`: exports what `selectors` lack straight into the outgoing directory of
 * a storage bay of the class, split into fragments of `--maxsize`, else the class's MAX-DATA-SIZE. The
 * packets have no order yet (a reader passes them by); `orderPackets` writes them. The destinations
 * are the hosts of the target replicas. A packet that will be sealed (sealingPlan.ts) for a host with no
 * recipient is refused before anything is exported.
 */
export async function exportForShipping(
  vob: Vob,
  selectors: readonly string[],
  options: Omit<ExportOptions, 'out'> & { homeDir: string; sclass?: string },
): Promise<ShippableExport<ExportResult>> {
  const cls = options.sclass ?? DEFAULT_CLASS;
  const conf = siteShippingConf(options.homeDir);
  const hosts = resolveTargets(vob, selectors, []).map((t) => t.host);
  sealingPlan(conf, hosts, { here: siteHost(options.homeDir), sclass: cls });
  const out = exportBayDir(options.homeDir, cls);
  const { homeDir: _home, sclass: _cls, ...rest } = options;
  const result = await exportUpdate(vob, selectors, {
    ...rest,
    out,
    maxsize: options.maxsize ?? maxDataSize(siteShippingConf(options.homeDir), cls),
  });
  const destinations = [...new Set(result.targets.map((t) => replicaByName(vob, t)?.host).filter((h): h is string => h !== undefined))];
  return { result, packets: result.packets, destinations };
}

/** `mkreplica --export --ship`: the creation packets, each for the host of its new replica. */
export async function exportReplicasForShipping(
  vob: Vob,
  specs: readonly NewReplicaSpec[],
  options: { homeDir: string; sclass?: string; comment?: string },
): Promise<{ packets: string[]; hosts: string[] }> {
  const conf = siteShippingConf(options.homeDir);
  const here = siteHost(options.homeDir);
  for (const s of specs) sealingPlan(conf, [s.host], { here, ...(options.sclass !== undefined ? { sclass: options.sclass } : {}) });
  const out = exportBayDir(options.homeDir, options.sclass ?? DEFAULT_CLASS);
  // One creation packet per spec, in the specs' order.
  const packets = await exportReplica(vob, specs, { out, ...(options.comment !== undefined ? { comment: options.comment } : {}) });
  return { packets, hosts: specs.map((s) => s.host) };
}

/** Writes the orders for packets already in an outgoing bay (an export's), each for its destinations. */
export async function orderPackets(
  items: readonly { packet: string; destinations: readonly string[] }[],
  options: ShipOptions,
): Promise<OrderInBay[]> {
  const orders: OrderInBay[] = [];
  for (const item of items) orders.push(await shipPacket(item.packet, item.destinations, options));
  return orders;
}
