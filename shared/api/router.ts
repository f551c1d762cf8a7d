import { z } from 'zod';
import type { ApprovalDeps } from '../approvals/deps.js';
import { identityKey, type Identity } from '../approvals/identity.js';
import type { Authenticator } from './auth.js';
import { ErrorSchema, type ErrorCode } from './schemas.js';

export interface ApiDeps {
  approvals: ApprovalDeps;
  authenticate: Authenticator;
  mode: 'embedded' | 'production';
}

/** The authenticated caller, as approvals.yaml knows them: the teams' scopes bound what they see and do. */
export interface Caller {
  identity: Identity;
  key: string;
  person: string | null;
  scopes: '*' | string[];
  via: 'api' | 'status-page';
}

export interface ApiRequest {
  method: string;
  /** Path and query string, as on the request line. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Set by the local status page, which acts as the local user (loopback only, CSRF-checked). */
  caller?: Caller;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export type Result = { status: number; body: unknown };

export interface Ctx<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  caller: Caller;
  deps: ApiDeps;
}

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface Route {
  method: 'GET' | 'POST';
  /** OpenAPI path template, e.g. /api/v1/automation/approvals/{id}:approve */
  path: string;
  operationId: string;
  summary: string;
  auth: boolean;
  params?: AnyObject;
  query?: AnyObject;
  body?: z.ZodType;
  /** The documented outcomes besides the common ones (401, 400 for bad input, 500). */
  responses: Record<number, { description: string; schema: z.ZodType }>;
  handle(ctx: Ctx<unknown, unknown, unknown>): Promise<Result>;
}

/** A route whose handler sees the parsed types of its own schemas. */
export function defineRoute<
  P extends AnyObject | undefined = undefined,
  Q extends AnyObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(r: {
  method: 'GET' | 'POST';
  path: string;
  operationId: string;
  summary: string;
  auth: boolean;
  params?: P;
  query?: Q;
  body?: B;
  responses: Route['responses'];
  handle(
    ctx: Ctx<
      P extends AnyObject ? z.output<P> : undefined,
      Q extends AnyObject ? z.output<Q> : undefined,
      B extends z.ZodType ? z.output<B> : undefined
    >,
  ): Promise<Result>;
}): Route {
  return r as unknown as Route;
}

export function fail(status: number, code: ErrorCode, message: string): Result {
  return { status, body: { error: { code, message } } };
}

/** Responses every route may give, documented once. */
export function commonResponses(route: Route): Route['responses'] {
  const out: Route['responses'] = {
    500: { description: 'internal error (code internal)', schema: ErrorSchema },
  };
  if (route.auth)
    out[401] = { description: 'missing or invalid credentials (code unauthenticated)', schema: ErrorSchema };
  if (route.query || route.body || route.params)
    out[400] = {
      description:
        'invalid input: invalid_query, invalid_body, invalid_page_token, reason_required (codes are stable)',
      schema: ErrorSchema,
    };
  if (route.body) {
    out[413] = { description: 'body over 64 KiB (code payload_too_large)', schema: ErrorSchema };
    out[415] = {
      description: 'body is not application/json (code unsupported_media_type)',
      schema: ErrorSchema,
    };
  }
  return out;
}

const MAX_BODY = 64 * 1024;

function matcher(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, '(?<$1>[^/:]+)');
  return new RegExp(`^${escaped}$`);
}

const header = (h: ApiRequest['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  return i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid';
}

/**
 * The automation API as a pure function of (request, deps): the same routes behind the embedded server
 * and the production HTTP function. Input is validated with the routes' zod schemas, errors are JSON
 * with a stable code, and the caller comes from the Authorization header (or the status page).
 */
export function createRouter(routes: Route[]): (req: ApiRequest, deps: ApiDeps) => Promise<ApiResponse> {
  const compiled = routes.map((r) => ({ route: r, re: matcher(r.path) }));
  const json = (result: Result, extra: Record<string, string> = {}): ApiResponse => ({
    status: result.status,
    body: result.body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra },
  });

  return async (req, deps) => {
    const url = new URL(req.url, 'http://api.invalid');
    const matches = compiled
      .map((c) => ({ ...c, m: c.re.exec(url.pathname) }))
      .filter((c): c is typeof c & { m: RegExpExecArray } => c.m !== null);
    if (matches.length === 0) return json(fail(404, 'not_found', `no route ${url.pathname}`));
    const hit = matches.find((c) => c.route.method === req.method);
    if (!hit)
      return json(fail(405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}`), {
        allow: [...new Set(matches.map((c) => c.route.method))].join(', '),
      });
    const route = hit.route;

    let caller = req.caller;
    if (route.auth && !caller) {
      const identity = await deps.authenticate(header(req.headers, 'authorization'));
      if (!identity)
        return json(fail(401, 'unauthenticated', 'a valid bearer credential is required'), {
          'www-authenticate': 'Bearer',
        });
      caller = callerFor(identity, deps, 'api');
    }

    const params = route.params ? route.params.safeParse(hit.m.groups ?? {}) : null;
    if (params && !params.success) return json(fail(404, 'not_found', firstIssue(params.error)));
    const query = (route.query ?? z.object({}).strict()).safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) return json(fail(400, 'invalid_query', firstIssue(query.error)));

    let body: unknown = undefined;
    if (route.body) {
      if (req.body.length > MAX_BODY) return json(fail(413, 'payload_too_large', 'the body is over 64 KiB'));
      let raw: unknown = {};
      if (req.body.length > 0) {
        if (!/^application\/json\b/i.test(header(req.headers, 'content-type') ?? ''))
          return json(fail(415, 'unsupported_media_type', 'send application/json'));
        try {
          raw = JSON.parse(req.body.toString('utf8'));
        } catch {
          return json(fail(400, 'invalid_body', 'the body is not JSON'));
        }
      }
      const parsed = route.body.safeParse(raw);
      if (!parsed.success) return json(fail(400, 'invalid_body', firstIssue(parsed.error)));
      body = parsed.data;
    }

    try {
      const result = await route.handle({
        params: params?.data,
        query: query.data,
        body,
        caller: caller ?? ANONYMOUS,
        deps,
      });
      if (!(result.status in route.responses) && !(result.status in commonResponses(route)))
        deps.approvals.core.logger.error('undocumented API response', {
          operationId: route.operationId,
          status: result.status,
        });
      return json(result);
    } catch (err) {
      deps.approvals.core.logger.error('API handler failed', {
        operationId: route.operationId,
        error: err instanceof Error ? err.message : String(err),
      });
      return json(fail(500, 'internal', 'internal error'));
    }
  };
}

/** The caller of a route that needs no credentials (the OpenAPI document): nobody, seeing nothing. */
const ANONYMOUS: Caller = {
  identity: { kind: 'google', email: 'anonymous@invalid' },
  key: 'anonymous',
  person: null,
  scopes: [],
  via: 'api',
};

export function callerFor(identity: Identity, deps: Pick<ApiDeps, 'approvals'>, via: Caller['via']): Caller {
  const person = deps.approvals.rules.personOf(identity);
  return {
    identity,
    key: identityKey(identity),
    person,
    scopes: deps.approvals.rules.visibleScopes(person),
    via,
  };
}
