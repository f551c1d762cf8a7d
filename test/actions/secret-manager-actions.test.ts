import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { getAction } from '../../shared/actions/registry.js';
import { secretRemovePublicMembers } from '../../shared/actions/secretmanager-secret-remove-public-members.js';
import { DEFAULT_ACTION_SETTINGS } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import { projectRoot } from '../../shared/util/project-root.js';
import { publicPolicy, SECRET, secretAsset } from '../twin/identity-fixtures.js';
import { startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';

const NOW = '2026-03-01T09:00:00.000Z';
const SM = 'https://secretmanager.googleapis.com';
const READ = { method: 'GET', path: `/v1/${SECRET}:getIamPolicy` };
const WRITE = { method: 'POST', path: `/v1/${SECRET}:setIamPolicy` };
const action = secretRemovePublicMembers;

let policies: PolicySet;
beforeAll(async () => {
  policies = await loadPolicies(path.join(projectRoot(), 'policies'));
});

function verdict(asset: Asset): string {
  const r = policies.evaluate(asset, { now: NOW }).find((x) => x.policy.def.id === 'secret-public');
  if (!r) throw new Error('secret-public did not run');
  return r.verdict.kind === 'error' ? `error: ${r.verdict.message}` : r.verdict.kind;
}

const publicGrants = (a: Asset | undefined): string[] =>
  (a?.iamPolicy?.bindings ?? []).flatMap((b) =>
    b.members.filter((m) => m === 'allUsers' || m === 'allAuthenticatedUsers').map((m) => `${b.role} ${m}`),
  );

function writes(h: TwinHarness): number {
  return h.twin.requests.filter((r) => r.method === WRITE.method && r.path === WRITE.path).length;
}

describe('secretmanager.secret.remove-public-members registration', () => {
  it('is registered, low risk and reversible, as policy secret-public names it', () => {
    expect(getAction('secretmanager.secret.remove-public-members')).toMatchObject({
      risk: 'low',
      reversible: true,
    });
    const users = policies.policies.filter(
      (p) =>
        'action' in p.def.remediation &&
        p.def.remediation.action === 'secretmanager.secret.remove-public-members',
    );
    expect(users.map((p) => p.def.id)).toEqual(['secret-public']);
  });
});

describe('secretmanager.secret.remove-public-members', () => {
  let h: TwinHarness;
  let asset: Asset;
  afterEach(async () => {
    await h.close();
  });
  const start = async (opts: Parameters<typeof startHarness>[1] = {}): Promise<void> => {
    asset = secretAsset(publicPolicy('roles/secretmanager.secretAccessor', 'roles/secretmanager.viewer'));
    h = await startHarness([asset], opts);
  };

  it('plans the exact requests against secretmanager.googleapis.com, and sends exactly that', async () => {
    await start();
    const plan = action.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.description).toContain('allUsers from roles/secretmanager.secretAccessor');
    expect(plan.description).toContain(
      'allAuthenticatedUsers from roles/secretmanager.viewer (condition "until-2030")',
    );
    expect(plan.requests).toEqual([
      { method: 'GET', url: `${SM}${READ.path}?options.requestedPolicyVersion=3` },
      {
        method: 'POST',
        url: `${SM}${WRITE.path}`,
        body: {
          policy: {
            version: 3,
            etag: 'BwYPGokQxSI=',
            bindings: [
              {
                role: 'roles/secretmanager.secretAccessor',
                members: ['serviceAccount:service-774902316004@gcp-sa-cloud-sql.iam.gserviceaccount.com'],
              },
              {
                role: 'roles/secretmanager.viewer',
                members: ['group:gcp-security@example.com'],
                condition: {
                  title: 'until-2030',
                  expression: 'request.time < timestamp("2030-01-01T00:00:00Z")',
                },
              },
            ],
          },
          updateMask: 'bindings,etag',
        },
      },
    ]);
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    expect((await action.apply(asset, before!, ctx)).status).toBe('applied');
    expect(h.twin.requests.find((r) => r.path === READ.path)).toMatchObject({
      method: 'GET',
      query: { 'options.requestedPolicyVersion': '3' },
    });
    expect(h.twin.requests.find((r) => r.path === WRITE.path)?.body).toEqual(plan.requests[1]?.body);
  });

  it('fixes, so that secret-public passes; twice is a no-op; undo restores exactly the before-state', async () => {
    await start();
    const ctx = actionContext(h);
    expect(verdict(asset)).toBe('violation');
    const before = await action.captureBefore(asset, ctx);
    expect(before?.removed?.map((g) => g.member)).toEqual([
      'allUsers',
      'allAuthenticatedUsers',
      'allAuthenticatedUsers',
    ]);
    const applied = await action.apply(asset, before!, ctx);
    expect(applied.status).toBe('applied');
    const live = await action.readLive(asset, ctx);
    expect(publicGrants(live ?? undefined)).toEqual([]);
    expect(verdict(live!)).toBe('pass');
    expect(live?.resource).toEqual(asset.resource);
    expect(h.feed).toHaveLength(1);
    expect((await action.apply(asset, before!, ctx)).status).toBe('already_applied');
    expect(writes(h)).toBe(1);
    expect(
      await action.undo(asset, before!, applied.status === 'applied' ? applied.after : null, ctx),
    ).toEqual({
      status: 'restored',
    });
    expect(writes(h)).toBe(2);
    expect(h.twin.getAsset(asset.name)?.iamPolicy?.bindings).toEqual(asset.iamPolicy?.bindings);
    expect(verdict((await action.readLive(asset, ctx))!)).toBe('violation');
  });

  it('ends a concurrent modification in a 409 conflict and overwrites nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    h.twin.setFaults([
      { match: { method: 'POST', pathPattern: WRITE.path }, concurrentModification: true, times: 1 },
    ]);
    const outcome = await action.apply(asset, before!, ctx);
    expect(outcome).toMatchObject({
      status: 'conflict',
      stale: true,
      reason: expect.stringContaining('409 ABORTED'),
    });
    const now = h.twin.getAsset(asset.name);
    expect(publicGrants(now)).toEqual(publicGrants(asset));
    expect(now?.iamPolicy?.bindings.some((b) => b.members.includes('user:someone-else@example.com'))).toBe(
      true,
    );
  });

  it('refuses to undo after someone changed the policy, and sends nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    const applied = await action.apply(asset, before!, ctx);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: READ.path }, concurrentModification: true, times: 1 },
    ]);
    const undo = await action.undo(asset, before!, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo.status).toBe('refused');
    expect(writes(h)).toBe(1);
    expect(publicGrants(h.twin.getAsset(asset.name))).toEqual([]);
  });

  it('surfaces an injected 503 and 429 as retryable WardenErrors, the policy unchanged', async () => {
    await start({ faults: [{ match: { method: 'POST', pathPattern: WRITE.path }, errorStatus: 503 }] });
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    const err = await rejection(action.apply(asset, before!, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect(err).toMatchObject({ retryable: true, code: 'UNAVAILABLE' });
    h.twin.setFaults([{ match: { method: 'GET', pathPattern: READ.path }, errorStatus: 429, times: 1 }]);
    expect(await rejection(action.readLive(asset, ctx))).toMatchObject({
      retryable: true,
      code: 'RESOURCE_EXHAUSTED',
    });
    expect(h.twin.getAsset(asset.name)?.iamPolicy).toEqual(asset.iamPolicy);
  });

  it('returns null and gone for a deleted secret (404 NOT_FOUND)', async () => {
    await start();
    const state = await action.captureBefore(asset, actionContext(h));
    await h.close();
    h = await startHarness([]);
    const ctx = actionContext(h);
    expect(await action.captureBefore(asset, ctx)).toBeNull();
    expect(await action.readLive(asset, ctx)).toBeNull();
    expect(await action.apply(asset, state!, ctx)).toEqual({ status: 'gone' });
    expect(await action.undo(asset, state!, state!, ctx)).toEqual({ status: 'gone' });
    expect(writes(h)).toBe(0);
  });

  it('does nothing to a secret whose policy has no public member', async () => {
    asset = secretAsset({
      version: 1,
      etag: 'BwYPGokQxSI=',
      bindings: [{ role: 'roles/secretmanager.secretAccessor', members: ['domain:example.com'] }],
    });
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    const outcome = await action.apply(asset, before!, ctx);
    expect(outcome.status).toBe('already_applied');
    expect(
      await action.undo(asset, before!, outcome.status === 'already_applied' ? outcome.after : null, ctx),
    ).toEqual({
      status: 'restored',
    });
    expect(h.twin.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});
