import { MsiteError } from '../core/errors.js';
import type { AccessLevel } from './acl.js';

/** The scheduler ACL does not give a user the access an operation needs. */
export class ScheduleAccessError extends MsiteError {
  static readonly code = 'SCHEDULE_ACCESS';
  static override readonly httpStatus: number = 403;
  constructor(user: string, needed: AccessLevel, granted: AccessLevel | 'none') {
    const label = (level: AccessLevel | 'none'): string => (level === 'none' ? 'no' : level[0]!.toUpperCase() + level.slice(1));
    super(
      ScheduleAccessError.code,
      `scheduler access refused: user "${user}" has ${label(granted)} access in the scheduler ACL, ` + `${label(needed)} is required`,
      {
        data: { user, needed, granted },
        hint: `ask a user with Full access to grant ${label(needed)} in the scheduler ACL`,
      },
    );
  }
}
