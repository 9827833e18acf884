import { UsageError } from '../core/errors.js';

/** Which of `--out`, `--ship` and `--fship` an export gives; exactly one. */
export function exportMode(opts: { out?: string; ship?: boolean; fship?: boolean }): 'out' | 'ship' | 'fship' {
  const given = [opts.out !== undefined && 'out', opts.ship && 'ship', opts.fship && 'fship'].filter((m): m is 'out' | 'ship' | 'fship' =>
    Boolean(m),
  );
  if (given.length !== 1) throw new UsageError('--export needs exactly one of --out FILE|DIR, --ship and --fship');
  return given[0]!;
}
