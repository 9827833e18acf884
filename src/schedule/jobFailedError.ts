import { MsiteError } from '../core/errors.js';

/** A job's run ended with a non-zero exit status (reported by `schedule --run` and `--wait`). */
export class JobFailedError extends MsiteError {
  static readonly code = 'JOB_FAILED';
  constructor(jobId: number, name: string, exitStatus: number) {
    const how = exitStatus < 0 ? 'its outcome is unknown (the run was cut short)' : `exit status ${exitStatus}`;
    super(JobFailedError.code, `job ${jobId} "${name}" failed: ${how}`, {
      data: { job: jobId, name, exitStatus },
      hint: `see its messages with msite schedule --status ${jobId}`,
    });
  }
}
