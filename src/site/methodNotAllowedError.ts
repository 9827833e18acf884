import { MsiteError } from '../core/errors.js';

/** A daemon route exists for the path but not for the request's method. */
export class MethodNotAllowedError extends MsiteError {
  static readonly code = 'METHOD_NOT_ALLOWED';
  static override readonly httpStatus: number = 405;
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(MethodNotAllowedError.code, `method ${method} not allowed on ${path} (allowed: ${allowed.join(', ')})`, {
      data: { method, path, allowed: [...allowed] },
    });
  }
}
