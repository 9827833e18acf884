import { InvalidInputError } from '../core/errors.js';
import type { Vob } from '../vob/vob.js';
import { importPackets, type ImportOptions, type PacketOutcome } from './importPackets.js';
import { PacketsNotAppliedError } from './packetsNotAppliedError.js';

/** What an import did, packet by packet, and whether that fails the run. */
export interface SyncImportResult {
  outcomes: PacketOutcome[];
  /** Set when the run failed; the caller reports the outcomes first, then this. */
  failure: PacketsNotAppliedError | undefined;
}

/**
 * Whether an import failed: some packet it was given was not applied. Where packets arrive on their
 * own (the storage bays), one waiting for another is normal and only refusals count. A diagnosis
 * applies nothing and never fails.
 */
export function importFailure(
  outcomes: readonly PacketOutcome[],
  options: { diagnose?: boolean; waitingIsNormal?: boolean } = {},
): PacketsNotAppliedError | undefined {
  if (options.diagnose) return undefined;
  const failed = outcomes.filter((o) =>
    options.waitingIsNormal ? o.result === 'refused' : o.result !== 'applied' && o.result !== 'already-applied',
  );
  return failed.length
    ? new PacketsNotAppliedError(
        failed.map((f) => f.path),
        outcomes.length,
      )
    : undefined;
}

/**
 * `syncreplica -import PACKET-OR-DIR...`: applies what can apply of the named packets (see
 * importPackets). Every packet named must go in: one that waits or is refused fails the run.
 *
 * @throws InvalidInputError when the paths hold no packet at all.
 */
export async function syncImport(vob: Vob, paths: readonly string[], options: ImportOptions = {}): Promise<SyncImportResult> {
  const outcomes = await importPackets(vob, paths, options);
  if (outcomes.length === 0) throw new InvalidInputError(`no packets in ${paths.join(', ')}`);
  return { outcomes, failure: importFailure(outcomes, options) };
}
