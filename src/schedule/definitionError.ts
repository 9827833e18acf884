import { MsiteError, type MsiteErrorOptions } from '../core/errors.js';

/** One broken rule in a definition: the 1-based line it is on (0 when the item came from no text). */
export interface DefinitionProblem {
  line: number;
  message: string;
}

/**
 * A job, task or ACL definition that breaks a rule. The message is the first problem, "line 7: <rule>",
 * prefixed with the file when known; `data.problems` lists every problem found, so an editor can show
 * them all at once.
 */
export class DefinitionError extends MsiteError {
  static readonly code = 'ESCHEDULE';
  readonly problems: readonly DefinitionProblem[];
  readonly file: string | undefined;
  readonly line: number;

  constructor(problems: readonly DefinitionProblem[], file?: string, options: MsiteErrorOptions = {}) {
    const first = problems[0] ?? { line: 0, message: 'empty problem list' };
    const where = `${file === undefined ? '' : `${file}: `}${first.line > 0 ? `line ${first.line}: ` : ''}`;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super(DefinitionError.code, `${where}${first.message}${more}`, {
      hint: 'fix the definition and set it again; nothing was changed',
      ...options,
      data: { file, line: first.line, problems: problems.map((p) => ({ ...p })), ...options.data },
    });
    this.problems = problems;
    this.file = file;
    this.line = first.line;
  }
}
