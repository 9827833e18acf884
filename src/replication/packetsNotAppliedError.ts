import { MsiteError } from '../core/errors.js';

/** An import left packets unapplied that it should have applied; they stay where they were. */
export class PacketsNotAppliedError extends MsiteError {
  static readonly code = 'ENOTAPPLIED';
  constructor(notApplied: readonly string[], total: number) {
    super(PacketsNotAppliedError.code, `${notApplied.length} of ${total} packet${total === 1 ? ' was' : 's were'} not applied`, {
      hint: 'they are left in place; see the reasons above, or syncreplica --import --diagnose',
      data: { packets: [...notApplied] },
    });
  }
}
