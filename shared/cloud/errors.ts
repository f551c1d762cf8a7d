import { WardenError } from '../model/errors.js';

/**
 * What a failed Google client call says about itself. The clients fail in three shapes:
 * - @google-cloud/storage: ApiError, `code` = HTTP status, `errors[].reason`;
 * - gax clients over REST (compute, asset): the authClient's fetch rejects non-2xx itself, so the error is a
 *   GaxiosError with `status` = HTTP status and the raw JSON error body as `message` (gax never maps it to a
 *   gRPC code, which also means gax's own retry settings never fire on HTTP errors);
 * - gax GoogleError (decoded google.rpc.Status): `code` = gRPC code.
 * Network failures carry a Node errno string (`ECONNREFUSED`, …) as `code`.
 */
export interface CloudErrorInfo {
  httpStatus?: number;
  /** Canonical google.rpc.Code name (NOT_FOUND, UNAVAILABLE, …) or a Node errno string. */
  status: string;
  message: string;
  reason?: string;
}

const GRPC_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

const HTTP_STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Google's guidance: retry 408, 429 and 5xx (except 501) with backoff; other 4xx will fail the same way again. */
const RETRYABLE_STATUS = new Set([
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'INTERNAL',
  'UNAVAILABLE',
  'ABORTED',
]);
const RETRYABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

/** The `{error:{code,message,status,errors}}` body, when the message is one (GaxiosError) or the response holds it. */
function googleBody(err: Record<string, unknown>): Record<string, unknown> | undefined {
  const candidates: unknown[] = [rec(err['response'])?.['data'], err['message']];
  for (const c of candidates) {
    let parsed: unknown = c;
    if (typeof c === 'string') {
      try {
        parsed = JSON.parse(c);
      } catch {
        continue;
      }
    }
    const inner = rec(rec(parsed)?.['error']);
    if (inner) return inner;
  }
  return undefined;
}

export function describeCloudError(err: unknown): CloudErrorInfo {
  const e = rec(err);
  if (!e) return { status: 'UNKNOWN', message: String(err) };
  const body = googleBody(e);
  const response = rec(e['response']);
  const httpStatus = [e['status'], response?.['status'], body?.['code'], e['code']].find(
    (v): v is number => typeof v === 'number' && v >= 100 && v < 600,
  );
  const firstError =
    rec(Array.isArray(body?.['errors']) ? (body['errors'] as unknown[])[0] : undefined) ??
    rec(Array.isArray(e['errors']) ? (e['errors'] as unknown[])[0] : undefined);
  const reason = typeof firstError?.['reason'] === 'string' ? firstError['reason'] : undefined;
  const message =
    (typeof body?.['message'] === 'string' ? body['message'] : undefined) ??
    (typeof e['message'] === 'string' ? e['message'] : String(err));

  let status: string | undefined = typeof body?.['status'] === 'string' ? body['status'] : undefined;
  if (!status && httpStatus !== undefined)
    status = HTTP_STATUS_NAMES[httpStatus] ?? (httpStatus >= 500 ? 'INTERNAL' : 'UNKNOWN');
  if (!status && typeof e['code'] === 'number' && e['code'] < GRPC_NAMES.length)
    status = GRPC_NAMES[e['code']];
  if (!status && typeof e['code'] === 'string') status = e['code'];
  const info: CloudErrorInfo = { status: status ?? 'UNKNOWN', message };
  if (httpStatus !== undefined) info.httpStatus = httpStatus;
  if (reason !== undefined) info.reason = reason;
  return info;
}

export function isRetryableCloudError(info: CloudErrorInfo): boolean {
  if (info.httpStatus !== undefined) {
    const s = info.httpStatus;
    return s === 408 || s === 429 || (s >= 500 && s !== 501);
  }
  // No status at all: nothing says a second try would fail the same way.
  return RETRYABLE_STATUS.has(info.status) || RETRYABLE_ERRNO.has(info.status) || info.status === 'UNKNOWN';
}

export function isNotFound(err: unknown): boolean {
  const info = describeCloudError(err);
  return info.httpStatus === 404 || info.status === 'NOT_FOUND';
}

export function isPreconditionFailed(err: unknown): boolean {
  const info = describeCloudError(err);
  return info.httpStatus === 412 || info.reason === 'conditionNotMet';
}

/** A client failure as Warden's error: code = the canonical status, retryable per Google's retry guidance. */
export function toWardenError(err: unknown, doing: string): WardenError {
  if (err instanceof WardenError) return err;
  const info = describeCloudError(err);
  const http = info.httpStatus !== undefined ? ` ${info.httpStatus}` : '';
  return new WardenError(`${doing}: ${info.status}${http}: ${info.message}`, {
    retryable: isRetryableCloudError(info),
    code: info.status,
    cause: err,
  });
}
