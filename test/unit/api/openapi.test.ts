import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import type { RemediationAction } from '../../../shared/actions/types.js';
import { API_ROUTES, apiDocument, handleApiRequest } from '../../../shared/api/automation-api.js';
import type { Authenticator } from '../../../shared/api/auth.js';
import { castVote } from '../../../shared/approvals/cast-vote.js';
import type { Action } from '../../../shared/model/action.js';
import { MemoryLogger } from '../../../shared/ports/logger.js';
import { loadEngineConfig } from '../../../shared/roots/build-deps.js';
import { apiWorld, PROJECTS, TOKEN, type ApiWorld } from './world.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const doc = apiDocument() as Json;
const components = doc['components']['schemas'] as Record<string, Json>;

/** The documented schema with its references resolved, as zod reads JSON Schema. */
function documented(schema: Json): z.ZodType {
  const deref = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(deref);
    if (v && typeof v === 'object') {
      const ref = (v as Json)['$ref'];
      if (typeof ref === 'string') {
        const name = ref.replace('#/components/schemas/', '');
        if (!(name in components)) throw new Error(`dangling $ref ${ref}`);
        return deref(components[name]);
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deref(x)]));
    }
    return v;
  };
  return z.fromJSONSchema(deref(schema) as Parameters<typeof z.fromJSONSchema>[0]);
}

const restore: RemediationAction = {
  id: 'test.restore',
  title: 'test',
  risk: 'low',
  reversible: true,
  assetTypes: ['storage.googleapis.com/Bucket'],
  plan: () => ({ description: 'test', requests: [] }),
  captureBefore: async () => ({}),
  apply: async () => ({ status: 'applied', after: {} }),
  readLive: async (a: unknown) => a,
  undo: async () => ({ status: 'restored' }),
} as unknown as RemediationAction;

interface Case {
  name: string;
  method: string;
  url: string | ((s: Seeded) => string);
  as?: string;
  body?: unknown | ((s: Seeded) => unknown);
  raw?: Buffer;
  type?: string;
  status: number;
  /** The deployment the API runs in (embedded unless said). */
  mode?: 'production';
}
interface Seeded {
  web: Action;
  data: Action;
  decided: Action;
  rejectable: Action;
  verified: Action;
  fixed: Action;
}

const J = 'application/json';
const big = Buffer.alloc(64 * 1024 + 1, 32);
const bodyErrors = (url: string | ((s: Seeded) => string), method = 'POST'): Case[] => [
  { name: 'no credentials', method, url, body: {}, status: 401 },
  { name: 'over 64 KiB', method, url, as: 'dave', raw: big, type: J, status: 413 },
  {
    name: 'not JSON',
    method,
    url,
    as: 'dave',
    raw: Buffer.from('a=1'),
    type: 'application/x-www-form-urlencoded',
    status: 415,
  },
];

/** For every operation, requests that produce each documented status (500 aside). */
const CASES: Record<string, Case[]> = {
  getOpenApi: [{ name: 'document', method: 'GET', url: '/api/v1/openapi.json', status: 200 }],
  getStatus: [
    { name: 'status', method: 'GET', url: '/api/v1/automation/status', as: TOKEN, status: 200 },
    { name: 'no credentials', method: 'GET', url: '/api/v1/automation/status', status: 401 },
  ],
  listActions: [
    { name: 'list', method: 'GET', url: '/api/v1/automation/actions?limit=1', as: 'dave', status: 200 },
    {
      name: 'bad filter',
      method: 'GET',
      url: '/api/v1/automation/actions?state=nope',
      as: 'dave',
      status: 400,
    },
    { name: 'no credentials', method: 'GET', url: '/api/v1/automation/actions', status: 401 },
  ],
  remediate: [
    {
      name: 'finding',
      method: 'POST',
      url: '/api/v1/automation/remediate',
      as: 'bob',
      body: (s: Seeded) => ({ findingId: s.web.findingId }),
      status: 202,
    },
    {
      name: 'other team',
      method: 'POST',
      url: '/api/v1/automation/remediate',
      as: 'bob',
      body: (s: Seeded) => ({ findingId: s.data.findingId }),
      status: 403,
    },
    {
      name: 'unknown',
      method: 'POST',
      url: '/api/v1/automation/remediate',
      as: 'bob',
      body: { findingId: 'nope' },
      status: 404,
    },
    {
      name: 'bad body',
      method: 'POST',
      url: '/api/v1/automation/remediate',
      as: 'bob',
      body: {},
      status: 400,
    },
    ...bodyErrors('/api/v1/automation/remediate'),
  ],
  optimize: [
    {
      name: 'folder',
      method: 'POST',
      url: '/api/v1/automation/optimize',
      as: 'dave',
      body: { scope: PROJECTS.devData.folder },
      status: 202,
    },
    {
      name: 'other team',
      method: 'POST',
      url: '/api/v1/automation/optimize',
      as: 'bob',
      body: { scope: PROJECTS.devData.name },
      status: 403,
    },
    {
      name: 'bad scope',
      method: 'POST',
      url: '/api/v1/automation/optimize',
      as: 'bob',
      body: { scope: 'x' },
      status: 400,
    },
    ...bodyErrors('/api/v1/automation/optimize'),
  ],
  harden: [
    {
      name: 'project',
      method: 'POST',
      url: '/api/v1/automation/harden',
      as: 'bob',
      body: { scope: PROJECTS.devWeb.name },
      status: 202,
    },
    {
      name: 'other team',
      method: 'POST',
      url: '/api/v1/automation/harden',
      as: 'bob',
      body: { scope: PROJECTS.prodData.name },
      status: 403,
    },
    {
      name: 'bad scope',
      method: 'POST',
      url: '/api/v1/automation/harden',
      as: 'bob',
      body: { scope: 'x' },
      status: 400,
    },
    ...bodyErrors('/api/v1/automation/harden'),
  ],
  listApprovals: [
    {
      name: 'list',
      method: 'GET',
      url: '/api/v1/automation/approvals?status=pending',
      as: 'bob',
      status: 200,
    },
    {
      name: 'bad status',
      method: 'GET',
      url: '/api/v1/automation/approvals?status=maybe',
      as: 'bob',
      status: 400,
    },
    { name: 'no credentials', method: 'GET', url: '/api/v1/automation/approvals', status: 401 },
  ],
  approve: [
    {
      name: 'approve',
      method: 'POST',
      url: (s) => `/api/v1/automation/approvals/${s.web.id}:approve`,
      as: 'bob',
      body: {},
      status: 200,
    },
    {
      name: 'other team',
      method: 'POST',
      url: (s) => `/api/v1/automation/approvals/${s.data.id}:approve`,
      as: 'bob',
      status: 403,
    },
    {
      name: 'unknown',
      method: 'POST',
      url: '/api/v1/automation/approvals/nope:approve',
      as: 'bob',
      status: 404,
    },
    {
      name: 'decided',
      method: 'POST',
      url: (s) => `/api/v1/automation/approvals/${s.decided.id}:approve`,
      as: 'bob',
      status: 409,
    },
    {
      name: 'bad body',
      method: 'POST',
      url: (s) => `/api/v1/automation/approvals/${s.web.id}:approve`,
      as: 'bob',
      body: { reason: 7 },
      status: 400,
    },
    ...bodyErrors((s) => `/api/v1/automation/approvals/${s.web.id}:approve`),
  ],
  reject: [
    {
      name: 'reject',
      method: 'POST',
      url: (s) => `/api/v1/automation/approvals/${s.rejectable.id}:reject`,
      as: 'bob',
      body: { reason: 'not now' },
      status: 200,
    },
    {
      name: 'other team',
      method: 'POST',
      url: (s) => `/api/v1/automation/approvals/${s.data.id}:reject`,
      as: 'alice',
      body: { reason: 'no' },
      status: 403,
    },
    {
      name: 'reject by an approver',
      method: 'POST',
      url: (s) => `/api/v1/automation/approvals/${s.decided.id}:reject`,
      as: 'bob',
      body: { reason: 'no' },
      status: 409,
    },
    {
      name: 'unknown',
      method: 'POST',
      url: '/api/v1/automation/approvals/nope:reject',
      as: 'bob',
      body: { reason: 'no' },
      status: 404,
    },
    {
      name: 'no reason',
      method: 'POST',
      url: (s) => `/api/v1/automation/approvals/${s.data.id}:reject`,
      as: 'bob',
      body: {},
      status: 400,
    },
    ...bodyErrors((s) => `/api/v1/automation/approvals/${s.data.id}:reject`),
  ],
  rollback: [
    // Before the embedded restore below: it leaves the action rolled back.
    {
      name: 'handed to the rollback function',
      method: 'POST',
      url: (s) => `/api/v1/automation/actions/${s.verified.id}:rollback`,
      as: 'bob',
      body: { reason: 'broke CI' },
      status: 202,
      mode: 'production',
    },
    {
      name: 'restore',
      method: 'POST',
      url: (s) => `/api/v1/automation/actions/${s.verified.id}:rollback`,
      as: 'bob',
      body: { reason: 'broke CI' },
      status: 200,
    },
    {
      name: 'other team',
      method: 'POST',
      url: (s) => `/api/v1/automation/actions/${s.data.id}:rollback`,
      as: 'bob',
      body: { reason: 'x' },
      status: 403,
    },
    {
      name: 'unknown',
      method: 'POST',
      url: '/api/v1/automation/actions/nope:rollback',
      as: 'bob',
      body: { reason: 'x' },
      status: 404,
    },
    {
      name: 'not applied',
      method: 'POST',
      url: (s) => `/api/v1/automation/actions/${s.fixed.id}:rollback`,
      as: 'bob',
      body: { reason: 'x' },
      status: 409,
    },
    {
      name: 'no reason',
      method: 'POST',
      url: (s) => `/api/v1/automation/actions/${s.fixed.id}:rollback`,
      as: 'bob',
      body: {},
      status: 400,
    },
    ...bodyErrors((s) => `/api/v1/automation/actions/${s.fixed.id}:rollback`),
  ],
};

const PEOPLE: Record<string, { kind: 'google'; email: string } | { kind: 'local' }> = {
  [TOKEN]: { kind: 'local' },
  bob: { kind: 'google', email: 'bob@example.com' },
  dave: { kind: 'google', email: 'dave@example.com' },
  alice: { kind: 'google', email: 'alice@example.com' },
};
const auth: Authenticator = async (h) => PEOPLE[h?.replace(/^Bearer /, '') ?? ''] ?? null;

let w: ApiWorld;
let seeded: Seeded;
beforeAll(async () => {
  w = await apiWorld(await loadEngineConfig(new MemoryLogger()), auth);
  const core = w.api.approvals.core;
  core.actions = new Map([...core.actions, [restore.id, restore]]);
  seeded = {
    web: await w.seed({ bucket: 'web-1', project: 'devWeb', risk: 'medium' }),
    data: await w.seed({ bucket: 'data-1', project: 'devData', risk: 'medium' }),
    decided: await w.seed({ bucket: 'web-2', project: 'devWeb', risk: 'medium' }),
    rejectable: await w.seed({ bucket: 'web-5', project: 'devWeb', risk: 'medium' }),
    verified: await w.seed({
      bucket: 'web-3',
      project: 'devWeb',
      risk: 'low',
      state: 'verified',
      extra: { actionType: restore.id, step: 'verified', beforeState: { a: 1 }, afterState: { a: 2 } },
    }),
    fixed: await w.seed({ bucket: 'web-4', project: 'devWeb', risk: 'low', state: 'planned' }),
  };
  await castVote(w.api.approvals, {
    approvalId: seeded.decided.id,
    voter: { kind: 'google', email: 'alice@example.com' },
    vote: 'approve',
    reason: null,
    via: 'api',
  });
});
afterAll(async () => w.close());

const operations = () =>
  Object.entries(doc['paths'] as Record<string, Record<string, Json>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and documents exactly the routes the router serves', () => {
    expect(doc['openapi']).toBe('3.1.0');
    const documented = operations().map((o) => `${o.method} ${o.path} ${o.op['operationId']}`);
    const implemented = API_ROUTES.map((r) => `${r.method} ${r.path} ${r.operationId}`);
    expect(documented.sort()).toEqual(implemented.sort());
    expect(Object.keys(CASES).sort()).toEqual(API_ROUTES.map((r) => r.operationId).sort());
  });

  it('every operation, called on the implementation, answers each documented status with a body of its documented schema', async () => {
    for (const { op } of operations()) {
      const id = op['operationId'] as string;
      const responses = op['responses'] as Record<string, Json>;
      const exercised = new Set<string>();
      for (const c of CASES[id]!) {
        const url = typeof c.url === 'function' ? c.url(seeded) : c.url;
        const body = typeof c.body === 'function' ? c.body(seeded) : c.body;
        const raw = c.raw ?? (body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body)));
        const r = await handleApiRequest(
          {
            method: c.method,
            url,
            headers: {
              ...(c.as ? { authorization: `Bearer ${c.as}` } : {}),
              ...(raw.length ? { 'content-type': c.type ?? J } : {}),
            },
            body: raw,
          },
          c.mode ? { ...w.api, mode: c.mode } : w.api,
        );
        const label = `${id} / ${c.name}`;
        expect(`${label}: ${r.status}`).toBe(`${label}: ${c.status}`);
        const documentedResponse = responses[String(r.status)];
        expect(`${label}: ${r.status} ${documentedResponse ? 'documented' : 'undocumented'}`).toBe(
          `${label}: ${r.status} documented`,
        );
        const schema = documented(documentedResponse!['content']['application/json']['schema']);
        const check = schema.safeParse(r.body);
        expect(`${label}: ${check.success ? 'matches' : JSON.stringify(check.error.issues)}`).toBe(
          `${label}: matches`,
        );
        exercised.add(String(r.status));
      }
      const expected = Object.keys(responses).filter((s) => s !== '500');
      expect({ id, exercised: [...exercised].sort() }).toEqual({ id, exercised: expected.sort() });
    }
  });

  it('documents request bodies that the implementation accepts and refuses alike', () => {
    const schema = documented(
      (doc['paths']['/api/v1/automation/remediate']['post']['requestBody'] as Json)['content'][J]['schema'],
    );
    expect(schema.safeParse({ findingId: 'f' }).success).toBe(true);
    expect(schema.safeParse({ resourceName: '//storage.googleapis.com/b' }).success).toBe(true);
    expect(schema.safeParse({ findingId: 'f', extra: 1 }).success).toBe(false);
  });
});
