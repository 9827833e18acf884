import { existsSync, readFileSync, rmSync } from 'node:fs';
import { expandPacketPaths, importPackets, type ImportOptions } from '../replication/importPackets.js';
import { importFailure, type SyncImportResult } from '../replication/syncImport.js';
import type { Vob } from '../vob/vob.js';
import { incomingBays } from './incomingBays.js';
import { orderPathOf } from './orderFiles.js';
import { parseShippingOrder } from './shippingOrder.js';

export interface ReceiveOptions extends ImportOptions {
  /** Only the bays of this storage class (default: every class). */
  sclass?: string;
}

/** Whether the order beside a packet says it is a return on its way to the return bay: not for import. */
export function isReturnPacket(packetPath: string): boolean {
  const orderPath = orderPathOf(packetPath);
  if (!existsSync(orderPath)) return false;
  try {
    return parseShippingOrder(readFileSync(orderPath, 'utf8')).kind === 'return';
  } catch {
    return false;
  }
}

/**
 * `syncreplica -import -receive`: applies what can apply of the packets in the site's incoming storage
 * bays. Applied packets (and ones applied before) leave the bay with their shipping orders; a packet
 * waiting for another stays for the next run without failing this one, and a refused one stays and
 * fails it. A diagnosis removes nothing. An empty bay is a success with no outcomes. A returned packet
 * that has come home (its order says so) is the shipping server's to move to the return bay.
 */
export async function receivePackets(vob: Vob, homeDir: string, options: ReceiveOptions = {}): Promise<SyncImportResult> {
  const packets = expandPacketPaths(incomingBays(homeDir, options.sclass)).filter((p) => !isReturnPacket(p));
  const outcomes = await importPackets(vob, packets, options);
  if (!options.diagnose) {
    for (const o of outcomes) {
      if (o.result !== 'applied' && o.result !== 'already-applied') continue;
      rmSync(o.path, { force: true });
      rmSync(orderPathOf(o.path), { force: true });
    }
  }
  return { outcomes, failure: importFailure(outcomes, { diagnose: options.diagnose, waitingIsNormal: true }) };
}
