import { MsiteError, type MsiteErrorOptions } from './errors.js';

/** One broken rule in a text file: the 1-based line it is on (0 when it came from no line). */
export interface LineProblem {
  line: number;
  message: string;
}

/**
 * A text file (a job definition, shipping.conf) that breaks rules. The message is the first
 * problem, "FILE: line 7: <rule>" (file and line when known), with a count of the rest;
 * `data.problems` lists them all, so an editor can show every one at once.
 */
export class LineProblemsError extends MsiteError {
  static override readonly httpStatus: number = 400;
  readonly problems: readonly LineProblem[];
  readonly file: string | undefined;
  readonly line: number;

  constructor(code: string, problems: readonly LineProblem[], file: string | undefined, options: MsiteErrorOptions = {}) {
    const first = problems[0] ?? { line: 0, message: 'empty problem list' };
    const where = `${file === undefined ? '' : `${file}: `}${first.line > 0 ? `line ${first.line}: ` : ''}`;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super(code, `${where}${first.message}${more}`, {
      ...options,
      data: { file, line: first.line, problems: problems.map((p) => ({ ...p })), ...options.data },
    });
    this.problems = problems;
    this.file = file;
    this.line = first.line;
  }
}
