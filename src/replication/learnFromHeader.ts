import type { PacketHeader } from '../packet/packetTypes.js';
import type { Vob } from '../vob/vob.js';
import { raiseEstimate, setEstimate } from './epochs.js';
import { learnFacts } from './facts.js';
import { acknowledgeRestore } from './restoreReplica.js';
import { fullRow, healEstimates } from './selfHealing.js';

/**
 * What a verified packet header teaches, whether or not its ops can apply here yet: the sender's
 * facts (newest report wins), its row (it has at least that), its recovery incarnation, a restore
 * request (the sender was restored: set its estimate back to what it now has, and answer with the
 * next export) or the answer to this replica's own restore request. Then estimates heal from facts.
 */
export function learnFromHeader(vob: Vob, header: PacketHeader): void {
  vob.transaction(() => {
    learnFacts(vob, header.facts);
    const known = vob.q('SELECT value FROM incarnation WHERE replica = ?').pluck().get(header.origin) as number | undefined;
    const restoreRequest = header.extra?.restoreRequest === true && (known === undefined || header.incarnation > known);
    vob
      .q('INSERT INTO incarnation (replica, value) VALUES (?, ?) ON CONFLICT (replica) DO UPDATE SET value = max(value, excluded.value)')
      .run(header.origin, header.incarnation);
    if (restoreRequest) {
      setEstimate(vob, header.origin, fullRow(vob, header.senderRow));
      vob.setMeta(`ack_restore:${header.origin}`, String(header.incarnation));
    } else {
      raiseEstimate(vob, header.origin, header.senderRow);
    }
    const ack = (header.extra?.ackRestore as Record<string, number> | undefined)?.[vob.self];
    if (typeof ack === 'number') acknowledgeRestore(vob, header.origin, ack);
    healEstimates(vob);
  });
}
