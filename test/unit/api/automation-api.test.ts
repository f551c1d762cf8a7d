import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Identity } from '../../../shared/approvals/identity.js';
import { handleApiRequest } from '../../../shared/api/automation-api.js';
import type { Authenticator } from '../../../shared/api/auth.js';
import { MemoryLogger } from '../../../shared/ports/logger.js';
import { loadEngineConfig, type EngineConfig } from '../../../shared/roots/build-deps.js';
import { apiWorld, PROJECTS, TOKEN, type ApiWorld } from './world.js';

let config: EngineConfig;
beforeAll(async () => {
  config = await loadEngineConfig(new MemoryLogger());
});

/** Bearer tokens standing for verified Google identities (the ID token check has its own test). */
const PEOPLE: Record<string, Identity> = {
  bob: { kind: 'google', email: 'bob@example.com' },
  dave: { kind: 'google', email: 'dave@example.com' },
  alice: { kind: 'google', email: 'alice@example.com' },
  mallory: { kind: 'google', email: 'mallory@example.com' },
};
const byName: Authenticator = async (h) => PEOPLE[h?.replace(/^Bearer /, '') ?? ''] ?? null;

const worlds: ApiWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close();
});
async function world(auth?: Authenticator) {
  const w = await apiWorld(config, auth);
  worlds.push(w);
  return w;
}

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
async function call(
  w: ApiWorld,
  method: string,
  url: string,
  opts: { as?: string; body?: unknown; raw?: Buffer; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Body; headers: Record<string, string> }> {
  const raw =
    opts.raw ?? (opts.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(opts.body)));
  const r = await handleApiRequest(
    {
      method,
      url,
      headers: {
        ...(opts.as ? { authorization: `Bearer ${opts.as}` } : {}),
        ...(raw.length ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      body: raw,
    },
    w.api,
  );
  return { status: r.status, body: r.body as Body, headers: r.headers };
}

describe('authentication', () => {
  it('refuses a missing or wrong bearer token with 401 and a stable code, accepts the right one', async () => {
    const w = await world();
    for (const as of [undefined, 'wrong-token-0123456789', `${TOKEN}x`]) {
      const r = await call(w, 'GET', '/api/v1/automation/status', as ? { as } : {});
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    expect(
      (await call(w, 'GET', '/api/v1/automation/status', { headers: { authorization: `Basic ${TOKEN}` } }))
        .status,
    ).toBe(401);
    expect((await call(w, 'GET', '/api/v1/automation/status', { as: TOKEN })).status).toBe(200);
    // The document is public.
    expect((await call(w, 'GET', '/api/v1/openapi.json')).body['openapi']).toBe('3.1.0');
  });
});

describe('status', () => {
  it('reports the work waiting by state, guardrails, breakers and the last sweep', async () => {
    const w = await world();
    await w.seed({ bucket: 'a', project: 'devWeb', risk: 'medium' });
    await w.seed({ bucket: 'b', project: 'devWeb', risk: 'medium', state: 'planned' });
    const r = await call(w, 'GET', '/api/v1/automation/status', { as: TOKEN });
    expect(r.body).toMatchObject({
      status: 'ok',
      mode: 'embedded',
      checks: { store: 'ok' },
      dryRun: false,
      queues: {
        awaitingApproval: 1,
        planned: 1,
        approved: 0,
        executing: 0,
        pendingApprovals: 1,
        deadLetters: 0,
      },
      lastSweep: null,
      breakers: [],
    });
    expect((r.body['guardrails'] as Body[]).map((g) => g['name'])).toEqual([
      'dry_run',
      'change_freeze',
      'rate_limits',
      'per_run_cap',
      'circuit_breaker',
    ]);
  });
});

describe('actions', () => {
  async function seeded() {
    const w = await world(byName);
    const a = await w.seed({ bucket: 'web-dev-1', project: 'devWeb', risk: 'medium' });
    const b = await w.seed({ bucket: 'data-dev-1', project: 'devData', risk: 'medium', state: 'planned' });
    const c = await w.seed({ bucket: 'web-prod-1', project: 'prodWeb', risk: 'high' });
    const d = await w.seed({ bucket: 'data-prod-1', project: 'prodData', risk: 'high' });
    const e = await w.seed({ bucket: 'web-dev-2', project: 'devWeb', risk: 'low', state: 'planned' });
    return { w, a, b, c, d, e };
  }
  const ids = (r: { body: Body }) => (r.body['actions'] as Body[]).map((x) => x['id']);

  it('shows a team only its own projects, newest first; a "*" group sees everything', async () => {
    const { w, a, b, c, d, e } = await seeded();
    expect(ids(await call(w, 'GET', '/api/v1/automation/actions', { as: 'bob' }))).toEqual([
      e.id,
      c.id,
      a.id,
    ]);
    expect(ids(await call(w, 'GET', '/api/v1/automation/actions', { as: 'dave' }))).toEqual([
      e.id,
      d.id,
      c.id,
      b.id,
      a.id,
    ]);
    expect(ids(await call(w, 'GET', '/api/v1/automation/actions', { as: 'mallory' }))).toEqual([]);
  });

  it('filters by state, project, policy and time', async () => {
    const { w, a, c, e } = await seeded();
    const get = (q: string) => call(w, 'GET', `/api/v1/automation/actions?${q}`, { as: 'bob' });
    expect(ids(await get('state=planned'))).toEqual([e.id]);
    expect(ids(await get(`project=${PROJECTS.prodWeb.name}`))).toEqual([c.id]);
    expect(ids(await get('policy=storage-bucket-uniform-access-disabled'))).toEqual([e.id, c.id, a.id]);
    expect(ids(await get('policy=other'))).toEqual([]);
    expect(ids(await get(`since=${c.updatedAt}`))).toEqual([e.id, c.id]);
    expect(ids(await get(`until=${c.updatedAt}`))).toEqual([a.id]);
    const bad = await get('state=bogus');
    expect(bad.status).toBe(400);
    expect(bad.body['error']['code']).toBe('invalid_query');
    for (const q of ['limit=0', 'limit=500', 'since=yesterday', 'colour=blue'])
      expect((await get(q)).body['error']['code']).toBe('invalid_query');
  });

  it('pages with opaque tokens: every action once, in order; a token only works for its own query', async () => {
    const { w } = await seeded();
    const all = ids(await call(w, 'GET', '/api/v1/automation/actions', { as: 'dave' }));
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const r = await call(
        w,
        'GET',
        `/api/v1/automation/actions?limit=2${token ? `&pageToken=${token}` : ''}`,
        {
          as: 'dave',
        },
      );
      expect(r.status).toBe(200);
      seen.push(...ids(r));
      token = r.body['nextPageToken'];
      pages += 1;
    } while (token);
    expect(seen).toEqual(all);
    expect(pages).toBe(3);
    const first = await call(w, 'GET', '/api/v1/automation/actions?limit=2', { as: 'dave' });
    const reused = await call(
      w,
      'GET',
      `/api/v1/automation/actions?limit=2&state=planned&pageToken=${first.body['nextPageToken']}`,
      {
        as: 'dave',
      },
    );
    expect(reused.body['error']['code']).toBe('invalid_page_token');
    const otherCaller = await call(
      w,
      'GET',
      `/api/v1/automation/actions?limit=2&pageToken=${first.body['nextPageToken']}`,
      {
        as: 'bob',
      },
    );
    expect(otherCaller.body['error']['code']).toBe('invalid_page_token');
    expect(
      (await call(w, 'GET', '/api/v1/automation/actions?pageToken=garbage', { as: 'dave' })).status,
    ).toBe(400);
  });

  it('rolls back only for an approver of the team, and says why it cannot', async () => {
    const { w, a, b } = await seeded();
    const post = (id: string, as: string, body: unknown = { reason: 'broke the build' }) =>
      call(w, 'POST', `/api/v1/automation/actions/${id}:rollback`, { as, body });
    expect((await post('nope', 'bob')).status).toBe(404);
    expect((await post(b.id, 'bob')).body['error']['code']).toBe('forbidden');
    const r = await post(a.id, 'bob');
    expect(r.status).toBe(409);
    expect(r.body['error']['code']).toBe('not_rollbackable');
    expect((await post(a.id, 'bob', {})).body['error']['code']).toBe('invalid_body');
  });
});

describe('rollback in production', () => {
  it('hands the rollback to the rollback function (202) instead of changing anything with the API’s identity', async () => {
    const w = await world(byName);
    const prod: ApiWorld = { ...w, api: { ...w.api, mode: 'production' } };
    const fixed = await w.seed({
      bucket: 'web-dev-9',
      project: 'devWeb',
      risk: 'medium',
      state: 'verified',
      extra: { step: 'verified', beforeState: { a: 1 }, afterState: { a: 2 } },
    });
    const notApplied = await w.seed({
      bucket: 'web-dev-8',
      project: 'devWeb',
      risk: 'medium',
      state: 'planned',
    });
    const post = (id: string) =>
      call(prod, 'POST', `/api/v1/automation/actions/${id}:rollback`, {
        as: 'bob',
        body: { reason: 'broke CI' },
      });
    const r = await post(fixed.id);
    expect(r).toMatchObject({
      status: 202,
      body: { status: 'requested', action: { id: fixed.id, state: 'verified' } },
    });
    const n = await post(notApplied.id);
    expect(n).toMatchObject({ status: 409, body: { error: { code: 'not_rollbackable' } } });
    await w.api.approvals.core.bus.drain();
    expect(w.published.filter((p) => p.topic === 'rollbacks')).toEqual([
      {
        topic: 'rollbacks',
        data: { kind: 'rollback', actionId: fixed.id, actor: 'google:bob@example.com', reason: 'broke CI' },
      },
    ]);
    expect((await w.api.approvals.core.repo.getAction(fixed.id))?.state).toBe('verified');
  });
});

describe('sweeps on demand', () => {
  it('remediate starts a sweep of the finding’s or resource’s one resource, within the caller’s teams, naming the caller', async () => {
    const w = await world(byName);
    const a = await w.seed({ bucket: 'web-dev-1', project: 'devWeb', risk: 'medium' });
    const b = await w.seed({ bucket: 'data-dev-1', project: 'devData', risk: 'medium' });
    const r = await call(w, 'POST', '/api/v1/automation/remediate', {
      as: 'bob',
      body: { findingId: a.findingId },
    });
    expect(r).toMatchObject({ status: 202, body: { scope: PROJECTS.devWeb.name, category: 'compliance' } });
    const r2 = await call(w, 'POST', '/api/v1/automation/remediate', {
      as: 'bob',
      body: { resourceName: a.resourceName },
    });
    expect(r2).toMatchObject({ status: 202, body: { scope: PROJECTS.devWeb.name, category: 'all' } });
    await w.api.approvals.core.bus.drain();
    // One resource, listed under its project; the caller is the fixes' requester.
    const resource = { name: a.resourceName, assetType: 'storage.googleapis.com/Bucket' };
    expect(w.published).toEqual([
      {
        topic: 'sweeps',
        data: {
          kind: 'sweep',
          sweepId: r.body['sweepId'],
          scope: PROJECTS.devWeb.name,
          category: 'compliance',
          resource,
          requestedBy: 'google:bob@example.com',
        },
      },
      {
        topic: 'sweeps',
        data: {
          kind: 'sweep',
          sweepId: r2.body['sweepId'],
          scope: PROJECTS.devWeb.name,
          category: 'all',
          resource,
          requestedBy: 'google:bob@example.com',
        },
      },
    ]);
    const audit = await w.api.approvals.core.repo.readAuditRecords();
    expect(audit.filter((x) => x['kind'] === 'sweep.requested').map((x) => x['actor'])).toEqual([
      'google:bob@example.com',
      'google:bob@example.com',
    ]);

    const denied = await call(w, 'POST', '/api/v1/automation/remediate', {
      as: 'bob',
      body: { findingId: b.findingId },
    });
    expect(denied).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(
      (await call(w, 'POST', '/api/v1/automation/remediate', { as: 'bob', body: { findingId: 'nope' } }))
        .status,
    ).toBe(404);
    for (const body of [
      {},
      { findingId: a.findingId, resourceName: a.resourceName },
      { resourceName: 'bucket' },
    ])
      expect(
        (await call(w, 'POST', '/api/v1/automation/remediate', { as: 'bob', body })).body['error']['code'],
      ).toBe('invalid_body');
    await w.api.approvals.core.bus.drain();
    expect(w.published).toHaveLength(2);
  });

  it('optimize and harden sweep a project or folder by category', async () => {
    const w = await world(byName);
    const h = await call(w, 'POST', '/api/v1/automation/harden', {
      as: 'bob',
      body: { scope: PROJECTS.prodWeb.name },
    });
    expect(h).toMatchObject({ status: 202, body: { scope: PROJECTS.prodWeb.name, category: 'security' } });
    const o = await call(w, 'POST', '/api/v1/automation/optimize', {
      as: 'bob',
      body: { scope: 'folders/519306284417' },
    });
    expect(o).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const d = await call(w, 'POST', '/api/v1/automation/optimize', {
      as: 'dave',
      body: { scope: 'folders/519306284417' },
    });
    expect(d).toMatchObject({ status: 202, body: { category: 'cost' } });
    expect(
      (await call(w, 'POST', '/api/v1/automation/harden', { as: 'bob', body: { scope: 'organizations/1' } }))
        .status,
    ).toBe(400);
  });
});

describe('approvals through the API', () => {
  it('approves as the caller, idempotently, and lists what the caller may see', async () => {
    const w = await world(byName);
    const a = await w.seed({ bucket: 'web-dev-1', project: 'devWeb', risk: 'medium' });
    await w.seed({ bucket: 'data-dev-1', project: 'devData', risk: 'medium' });
    const listed = await call(w, 'GET', '/api/v1/automation/approvals?status=pending', { as: 'bob' });
    expect((listed.body['approvals'] as Body[]).map((x) => x['id'])).toEqual([a.id]);

    const r = await call(w, 'POST', `/api/v1/automation/approvals/${a.id}:approve`, { as: 'bob' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      outcome: { kind: 'approved', approvers: ['bob'] },
      approval: { status: 'approved', approvals: 1, votes: [{ person: 'bob', vote: 'approve', via: 'api' }] },
    });
    const again = await call(w, 'POST', `/api/v1/automation/approvals/${a.id}:approve`, { as: 'bob' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'already_decided' } } });
    await w.api.approvals.core.bus.drain();
    expect(w.published.filter((p) => p.topic === 'actions')).toHaveLength(1);
  });

  it('enforces quorum, self-approval, team and expiry with stable codes, changing nothing on refusal', async () => {
    const w = await world(byName);
    const high = await w.seed({ bucket: 'web-prod-1', project: 'prodWeb', risk: 'high' });
    const mine = await w.seed({
      bucket: 'web-dev-2',
      project: 'devWeb',
      risk: 'medium',
      requester: ['google:bob@example.com'],
    });
    const data = await w.seed({ bucket: 'data-dev-1', project: 'devData', risk: 'medium' });
    const approve = (id: string, as: string) =>
      call(w, 'POST', `/api/v1/automation/approvals/${id}:approve`, { as });

    expect((await approve(high.id, 'bob')).body['outcome']).toEqual({
      kind: 'pending',
      approvals: 1,
      required: 2,
    });
    expect((await approve(high.id, 'bob')).body['error']['code']).toBe('already_voted');
    expect((await approve(high.id, 'dave')).body['outcome']).toEqual({
      kind: 'approved',
      approvers: ['bob', 'dave'],
    });

    expect(await approve(mine.id, 'bob')).toMatchObject({
      status: 403,
      body: { error: { code: 'self_approval' } },
    });
    expect(await approve(data.id, 'bob')).toMatchObject({
      status: 403,
      body: { error: { code: 'not_an_approver' } },
    });
    expect(await approve(data.id, 'mallory')).toMatchObject({
      status: 403,
      body: { error: { code: 'not_an_approver' } },
    });
    expect((await approve('no-such-request', 'bob')).status).toBe(404);
    const untouched = await w.api.approvals.approvals.get(data.id);
    expect(untouched?.votes).toEqual([]);

    const reject = (id: string, body: unknown) =>
      call(w, 'POST', `/api/v1/automation/approvals/${id}:reject`, { as: 'alice', body });
    expect((await reject(mine.id, {})).body['error']['code']).toBe('invalid_body');
    expect((await reject(mine.id, { reason: '  ' })).body['error']['code']).toBe('invalid_body');
    expect((await reject(mine.id, { reason: 'not in a freeze' })).body['outcome']).toEqual({
      kind: 'rejected',
      by: 'alice',
      reason: 'not in a freeze',
    });

    const late = await w.seed({ bucket: 'data-prod-1', project: 'prodData', risk: 'high' });
    w.clock.advance(72 * 3_600_000);
    // An outsider's attempt is refused as such and records nothing; an approver's fails closed.
    expect((await approve(late.id, 'bob')).body['error']['code']).toBe('not_an_approver');
    expect((await w.api.approvals.approvals.get(late.id))?.status).toBe('pending');
    expect(await approve(late.id, 'dave')).toMatchObject({
      status: 409,
      body: { error: { code: 'expired' } },
    });
    expect((await w.api.approvals.approvals.get(late.id))?.status).toBe('expired');
    expect((await w.api.approvals.core.repo.getAction(late.id))?.state).toBe('expired');
  });
});

describe('HTTP semantics', () => {
  it('answers unknown paths 404 and wrong methods 405, with the allowed ones', async () => {
    const w = await world();
    expect(await call(w, 'GET', '/api/v1/automation/nothing', { as: TOKEN })).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });
    const r = await call(w, 'GET', '/api/v1/automation/remediate', { as: TOKEN });
    expect(r).toMatchObject({ status: 405, body: { error: { code: 'method_not_allowed' } } });
    expect(r.headers['allow']).toBe('POST');
  });

  it('validates bodies: JSON only, at most 64 KiB', async () => {
    const w = await world();
    const post = (raw: Buffer, type = 'application/json') =>
      call(w, 'POST', '/api/v1/automation/harden', { as: TOKEN, raw, headers: { 'content-type': type } });
    expect((await post(Buffer.from('{"scope":'))).body['error']['code']).toBe('invalid_body');
    expect((await post(Buffer.from('scope=projects/1'), 'application/x-www-form-urlencoded')).status).toBe(
      415,
    );
    expect((await post(Buffer.alloc(64 * 1024 + 1, 32))).status).toBe(413);
  });
});
