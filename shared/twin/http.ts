import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** Canonical google.rpc.Code names by the HTTP status Google's REST front ends pair them with. */
const STATUS_BY_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
};

/** The `errors[].reason` the JSON APIs (storage, compute) put beside each status. */
const REASON_BY_HTTP: Record<number, string> = {
  400: 'invalid',
  401: 'required',
  403: 'forbidden',
  404: 'notFound',
  409: 'conflict',
  412: 'conditionNotMet',
  429: 'rateLimitExceeded',
  500: 'backendError',
  501: 'notImplemented',
  503: 'backendError',
};

/** An HTTP failure the twin answers in Google's JSON error format. Thrown by handlers, caught by the server. */
export class TwinHttpError extends Error {
  readonly httpStatus: number;
  readonly reason: string;
  readonly domain: string;
  constructor(httpStatus: number, message: string, opts: { reason?: string; domain?: string } = {}) {
    super(message);
    this.name = 'TwinHttpError';
    this.httpStatus = httpStatus;
    this.reason = opts.reason ?? REASON_BY_HTTP[httpStatus] ?? 'unknown';
    this.domain = opts.domain ?? 'global';
  }
}

/**
 * `{error:{code,message,status,errors:[{domain,reason,message}]}}`: the shape both families of clients
 * parse. gax reads `status` into the gRPC code (else maps `code`); @google-cloud/storage reads `code` and
 * `errors`.
 */
export function googleErrorBody(err: TwinHttpError): object {
  return {
    error: {
      code: err.httpStatus,
      message: err.message,
      status: STATUS_BY_HTTP[err.httpStatus] ?? 'UNKNOWN',
      errors: [{ domain: err.domain, reason: err.reason, message: err.message }],
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Parses a JSON request body. gax sends `""` (a JSON string) as the body of bodiless POSTs such as
 * globalOperations.wait; that, and an empty body, read as "no body".
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TwinHttpError(400, 'Parse Error', { reason: 'parseError' });
  }
  return parsed === '' ? undefined : parsed;
}

/** Query parameters as a record; a repeated parameter (`assetTypes=a&assetTypes=b`) becomes an array. */
export function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? (all[0] as string) : all;
  }
  return out;
}

/** Node's headers as single strings (a repeated header's values joined, as HTTP allows). */
export function headerRecord(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
