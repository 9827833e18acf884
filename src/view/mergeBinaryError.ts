import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/** A merge of files that are not text: no lines to merge, so one contributor must be chosen. */
export class MergeBinaryError extends MsiteError {
  static readonly code = 'MERGE_BINARY';
  static override readonly httpStatus: number = 409;
  constructor(file: string, options: MsiteErrorOptions = {}) {
    super(MergeBinaryError.code, `cannot merge "${file}": it is not a text file`, {
      hint: 'keep the target with --ours (-ours), take the merged version with --theirs (-theirs), or record the merge only with --ndata (-ndata)',
      ...options,
      data: { file, ...options.data },
    });
  }
}
