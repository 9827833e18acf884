import { MsiteError } from '../core/errors.js';

/**
 * A job was named by a name several jobs share. ClearCase identifies jobs by Id, and names may repeat
 * (the MultiSite guide's own "Shipping Server Poll" pair), so the caller must use the Id.
 */
export class AmbiguousJobError extends MsiteError {
  static readonly code = 'AMBIGUOUS_JOB';
  static override readonly httpStatus: number = 400;
  constructor(name: string, ids: readonly number[]) {
    const list = ids.length === 2 ? `${ids[0]} and ${ids[1]}` : ids.join(', ');
    super(AmbiguousJobError.code, `scheduled job name is ambiguous: "${name}" names jobs ${list}`, {
      data: { name, ids: [...ids] },
      hint: `name the job by its Job.Id, e.g. ${ids[0]}`,
    });
  }
}
