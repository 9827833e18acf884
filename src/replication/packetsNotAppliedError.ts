import { MsiteError } from '../core/errors.js';

/** An import run left packets unapplied (refused, or waiting for others): they stay where they are. */
export class PacketsNotAppliedError extends MsiteError {
  static readonly code = 'NOT_APPLIED';
  static override readonly httpStatus: number = 422;
  constructor(packets: readonly string[], total: number) {
    super(PacketsNotAppliedError.code, `${packets.length} of ${total} packet${total === 1 ? ' was' : 's were'} not applied`, {
      hint: 'they are left in place; see the reasons above, or syncreplica --import --diagnose',
      data: { packets: [...packets] },
    });
  }
}
