import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInputError, NotFoundError, toMsiteError, type MsiteError } from '../core/errors.js';
import { MethodNotAllowedError } from './methodNotAllowedError.js';

/** Largest JSON body either listener reads, so a bad client cannot fill memory. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** The one JSON line every failing request gets: `{"error":{code,message,hint}}`. */
export function errorBody(e: MsiteError): { error: Record<string, unknown> } {
  const error: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.hint !== undefined) error['hint'] = e.hint;
  return { error };
}

/** What fastify itself refuses (bad JSON, too large a body, a schema mismatch, a bad URL) as msite errors. */
function asMsiteError(err: unknown): MsiteError {
  const f = err as Partial<FastifyError>;
  if (f.validation) return new InvalidInputError(`bad request: ${f.message ?? 'invalid'}`);
  if (f.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new InvalidInputError(`bad request: body larger than ${MAX_JSON_BODY_BYTES} bytes`);
  if (f.code === 'FST_ERR_BAD_URL') return new InvalidInputError('bad request: malformed %-escape in the URL');
  if (typeof f.code === 'string' && f.code.startsWith('FST_') && typeof f.statusCode === 'number' && f.statusCode < 500) {
    return new InvalidInputError(`bad request: ${f.message ?? f.code}`);
  }
  return toMsiteError(err);
}

function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const e = asMsiteError(err);
  return reply
    .code(e.httpStatus)
    .type('application/json; charset=utf-8')
    .send(`${JSON.stringify(errorBody(e))}\n`);
}

/** fastify options both listeners share: errors answered as msite errors, even those fastify meets routing. */
export const frameworkErrors = (error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void => {
  void sendError(reply, error);
};

/**
 * Makes `app` answer as the daemon always has: JSON bodies (read whatever the content type says, up to
 * MAX_JSON_BODY_BYTES), one JSON line a response, failures as `errorBody`, 404 for an unknown path and
 * 405 for a known path asked with another method.
 */
export function useMsiteHttp(app: FastifyInstance): void {
  app.setReplySerializer((payload) => `${JSON.stringify(payload)}\n`);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_JSON_BODY_BYTES }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new InvalidInputError('bad request: the body is not JSON'), undefined);
    }
  });
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  app.setNotFoundHandler((req, reply) => sendError(reply, new NotFoundError('route', `${req.method} ${req.url.split('?')[0]}`)));
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** Answers 405, naming what is allowed, for the methods `url` has no route for (call once its routes are added). */
export function refuseOtherMethods(app: FastifyInstance, url: string, allowed: readonly (typeof METHODS)[number][]): void {
  const others = METHODS.filter((m) => !allowed.includes(m));
  app.route({
    method: others,
    url,
    handler: (req) => {
      throw new MethodNotAllowedError(req.method, req.url.split('?')[0]!, allowed);
    },
  });
}
