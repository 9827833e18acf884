import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidInputError, NotFoundError, toMsiteError } from '../core/errors.js';
import { MethodNotAllowedError } from './methodNotAllowedError.js';

/**
 * The daemon's small route table: `METHOD /path/:param` patterns to handlers that return a status and
 * a JSON body. Errors become a 4xx (or 500) with one JSON line `{"error":{code,message,hint}}`.
 */

export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; undefined when there is none. */
  body: unknown;
  raw: IncomingMessage;
}

export interface RouteResponse {
  status: number;
  body: unknown;
}

export type RouteHandler = (req: RouteRequest) => RouteResponse | Promise<RouteResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: RouteHandler;
}

/** Largest request body read, so a bad client cannot fill memory. */
const MAX_BODY_BYTES = 1024 * 1024;

export class Router {
  private readonly routes: Route[] = [];

  /** Adds a route; `path` segments written `:name` match one segment, given as `params.name` (decoded). */
  add(method: string, path: string, handler: RouteHandler): this {
    const names: string[] = [];
    const source = path
      .split('/')
      .map((seg) => {
        if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(seg.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ method: method.toUpperCase(), pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** Serves one request; never throws. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let result: RouteResponse;
    try {
      result = await this.dispatch(req);
    } catch (err) {
      const e = toMsiteError(err);
      const error: Record<string, unknown> = { code: e.code, message: e.message };
      if (e.hint !== undefined) error['hint'] = e.hint;
      result = { status: e.httpStatus, body: { error } };
    }
    const text = `${JSON.stringify(result.body)}\n`;
    res.writeHead(result.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async dispatch(req: IncomingMessage): Promise<RouteResponse> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0) throw new NotFoundError('route', `${method} ${url.pathname}`);
    const route = matching.find((r) => r.method === method);
    if (!route) {
      throw new MethodNotAllowedError(method, url.pathname, [...new Set(matching.map((r) => r.method))]);
    }
    const m = route.pattern.exec(url.pathname)!;
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      try {
        params[name] = decodeURIComponent(m[i + 1]!);
      } catch {
        throw new InvalidInputError(`bad request: malformed %-escape in ${url.pathname}`);
      }
    });
    const body = await readJsonBody(req);
    return route.handler({ params, query: url.searchParams, body, raw: req });
  }
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new InvalidInputError(`bad request: body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError('bad request: the body is not JSON');
  }
}
