import { rmSync } from 'node:fs';
import { importPackets, type ImportOptions } from '../replication/importPackets.js';
import { importFailure, type SyncImportResult } from '../replication/syncImport.js';
import type { Vob } from '../vob/vob.js';
import { incomingBays } from './incomingBays.js';

export interface ReceiveOptions extends ImportOptions {
  /** Only the bays of this storage class (default: every class). */
  sclass?: string;
}

/**
 * `syncreplica -import -receive`: applies what can apply of the packets in the site's incoming storage
 * bays. Applied packets (and ones applied before) leave the bay; a packet waiting for another stays for
 * the next run without failing this one, and a refused one stays and fails it. A diagnosis removes
 * nothing. An empty bay is a success with no outcomes.
 */
export function receivePackets(vob: Vob, homeDir: string, options: ReceiveOptions = {}): SyncImportResult {
  const outcomes = importPackets(vob, incomingBays(homeDir, options.sclass), options);
  if (!options.diagnose) {
    for (const o of outcomes) if (o.result === 'applied' || o.result === 'already-applied') rmSync(o.path, { force: true });
  }
  return { outcomes, failure: importFailure(outcomes, { diagnose: options.diagnose, waitingIsNormal: true }) };
}
