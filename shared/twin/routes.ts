import type { ZodType } from 'zod';
import { TwinHttpError } from './http.js';

export interface RouteRequest {
  method: string;
  path: string;
  /** Decoded capture groups of the route pattern. */
  params: string[];
  query: URLSearchParams;
  body: unknown;
  /** Request headers, names lower-cased (e.g. `if-match`, a precondition some JSON APIs take). */
  headers: Readonly<Record<string, string | undefined>>;
  /** Set by a failOperation fault: an operation this call starts must end DONE with an error. */
  failOperation: boolean;
}

export interface RouteResponse {
  status: number;
  body?: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  pattern: RegExp;
  handle(req: RouteRequest): Promise<RouteResponse>;
}

/** How a "someone else changed it" fault is played on the resource a path addresses. */
export interface ConcurrentChange {
  pattern: RegExp;
  apply(params: string[]): Promise<void>;
}

/** What every API surface of the twin shares. */
export interface SurfaceOptions {
  /** Reads (get or wait) a long-running operation takes to reach DONE; 0 = done at once. */
  operationPolls: number;
  /** A fresh IAM policy etag (one counter for every resource's IAM policy, as Google's are opaque). */
  nextIamEtag: () => string;
}

export interface ApiSurface {
  routes: Route[];
  concurrentChanges: ConcurrentChange[];
}

/** Validates a request body at the twin's boundary; failures answer 400 as the real API would. */
export function parseBody<T>(schema: ZodType<T>, body: unknown, resource = 'resource'): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = [resource, ...(issue?.path ?? []).map(String)].join('.');
  throw new TwinHttpError(400, `Invalid value for field '${field}': ${issue?.message ?? 'invalid'}`, {
    reason: 'invalid',
  });
}

/** An integer query parameter (int64 values such as ifMetagenerationMatch arrive as decimal strings). */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!/^-?\d+$/.test(raw)) {
    throw new TwinHttpError(400, `Invalid value for parameter '${name}': '${raw}'`, {
      reason: 'invalidParameter',
    });
  }
  return Number(raw);
}
