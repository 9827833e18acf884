import type { MsiteErrorOptions } from '../core/errors.js';
import { LineProblemsError, type LineProblem } from '../core/lineProblemsError.js';

/** One broken rule in a definition: the 1-based line it is on (0 when the item came from no text). */
export type DefinitionProblem = LineProblem;

/** A job, task or ACL definition that breaks a rule: "line 7: <rule>", prefixed with the file when known. */
export class DefinitionError extends LineProblemsError {
  static readonly code = 'SCHEDULE_DEFINITION';

  constructor(problems: readonly DefinitionProblem[], file?: string, options: MsiteErrorOptions = {}) {
    super(DefinitionError.code, problems, file, { hint: 'fix the definition and set it again; nothing was changed', ...options });
  }
}
