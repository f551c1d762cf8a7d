import { z } from 'zod';
import { openApiDocument } from './openapi.js';
import {
  createRouter,
  defineRoute,
  type ApiDeps,
  type ApiRequest,
  type ApiResponse,
  type Route,
} from './router.js';
import { ROUTES } from './routes.js';

const OpenApiRoute: Route = defineRoute({
  method: 'GET',
  path: '/api/v1/openapi.json',
  operationId: 'getOpenApi',
  summary: 'This document',
  auth: false,
  responses: {
    200: { description: 'the OpenAPI 3.1 document', schema: z.object({ openapi: z.string() }).loose() },
  },
  async handle() {
    return { status: 200, body: DOCUMENT };
  },
});

/** Every route the API serves, the document included. */
export const API_ROUTES: Route[] = [...ROUTES, OpenApiRoute];
const DOCUMENT = openApiDocument(API_ROUTES);

export function apiDocument(): Record<string, unknown> {
  return DOCUMENT;
}

const route = createRouter(API_ROUTES);

/** The automation API: one pure function of (request, deps) for the embedded server and the HTTP function. */
export function handleApiRequest(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  return route(req, deps);
}
