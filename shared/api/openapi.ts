import { z } from 'zod';
import { commonResponses, type Route } from './router.js';

type Json = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document of the routes, generated from the same zod schemas the router validates with
 * (OpenAPI 3.1 schemas are JSON Schema 2020-12, which z.toJSONSchema writes). Named schemas (.meta({id}))
 * become components; a request schema that reads differently from its response form gets an `Input` twin.
 */
export function openApiDocument(routes: Route[], opts: { serverUrl?: string; version?: string } = {}): Json {
  const components: Record<string, Json> = {};

  const schemaOf = (schema: z.ZodType, io: 'input' | 'output'): Json => {
    const generated = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
    const defs = (generated['$defs'] ?? {}) as Record<string, Json>;
    const names = new Map<string, string>(Object.keys(defs).map((id) => [id, id]));
    const rewrite = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(rewrite);
      if (v && typeof v === 'object') {
        const out: Json = {};
        for (const [k, x] of Object.entries(v)) {
          if (k === '$defs' || k === '$schema') continue;
          out[k] =
            k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/')
              ? `#/components/schemas/${names.get(x.slice(8)) ?? x.slice(8)}`
              : rewrite(x);
        }
        return out;
      }
      return v;
    };
    // Same name, other shape (a request read in its input form): the twin is named ID + Input.
    for (const [id, def] of Object.entries(defs)) {
      const existing = components[id];
      if (existing && JSON.stringify(existing) !== JSON.stringify(rewrite(def))) names.set(id, `${id}Input`);
    }
    for (const [id, def] of Object.entries(defs)) components[names.get(id)!] = rewrite(def) as Json;
    return rewrite(generated) as Json;
  };

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const parameters: Json[] = [];
    for (const [where, schema] of [
      ['path', route.params],
      ['query', route.query],
    ] as const) {
      if (!schema) continue;
      const json = schemaOf(schema, 'input');
      const props = (json['properties'] ?? {}) as Record<string, Json>;
      const required = new Set((json['required'] ?? []) as string[]);
      for (const [name, s] of Object.entries(props))
        parameters.push({
          name,
          in: where,
          required: where === 'path' || required.has(name),
          schema: s,
          ...(typeof s['description'] === 'string' ? { description: s['description'] } : {}),
        });
    }
    const responses: Json = {};
    const all = { ...commonResponses(route), ...route.responses };
    for (const [status, r] of Object.entries(all).sort(([a], [b]) => Number(a) - Number(b)))
      responses[status] = {
        description: r.description,
        content: { 'application/json': { schema: schemaOf(r.schema, 'output') } },
      };
    const op: Json = {
      operationId: route.operationId,
      summary: route.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
            },
          }
        : {}),
      responses,
      security: route.auth ? [{ bearer: [] }] : [],
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = op;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Warden automation API',
      version: opts.version ?? '1',
      description:
        'Start sweeps, list actions, read engine status and decide approvals. Errors are {"error":{"code","message"}} with stable codes.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'Embedded mode: the WARDEN_API_TOKEN printed by `warden start`. Production: a Google-signed ID token whose audience is this API (e.g. `gcloud auth print-identity-token --audiences=URL`).',
        },
      },
    },
  };
}
