import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  keyNameOf,
  serviceAccountKeyDisable as action,
} from '../../shared/actions/iam-serviceaccountkey-disable.js';
import { getAction } from '../../shared/actions/registry.js';
import { DEFAULT_ACTION_SETTINGS, type ActionContext } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import type { TwinRequest } from '../../shared/twin/server.js';
import { projectRoot } from '../../shared/util/project-root.js';
import {
  KEY_ID,
  KEY_NAME,
  KEY_PATH,
  SA_UNIQUE_ID,
  serviceAccountKeyAsset,
} from '../twin/iam-admin-fixtures.js';
import { PROJECT_ID, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';

const NOW = '2026-03-01T09:00:00.000Z';
const URL = `https://iam.googleapis.com${KEY_PATH}`;
const POLICIES = ['iam-sa-user-managed-key', 'iam-sa-key-not-rotated'];
const EXPOSED = 'SERVICE_ACCOUNT_KEY_EXTENDED_STATUS_KEY_EXPOSED';

let policies: PolicySet;
beforeAll(async () => {
  policies = await loadPolicies(path.join(projectRoot(), 'policies'));
});

function verdict(policyId: string, asset: Asset): string {
  const r = policies.evaluate(asset, { now: NOW }).find((x) => x.policy.def.id === policyId);
  if (!r) throw new Error(`policy ${policyId} did not run on ${asset.assetType}`);
  return r.verdict.kind === 'error' ? `error: ${r.verdict.message}` : r.verdict.kind;
}

const verdicts = (asset: Asset | null): string[] => {
  if (!asset) throw new Error('expected a live asset');
  return POLICIES.map((p) => `${p}: ${verdict(p, asset)}`);
};

/** The calls that change a key: what "sends nothing" counts. */
const isWrite = (r: TwinRequest): boolean =>
  r.method === 'POST' && (r.path === `${KEY_PATH}:disable` || r.path === `${KEY_PATH}:enable`);
const writes = (h: TwinHarness): TwinRequest[] => h.twin.requests.filter(isWrite);
const afterOf = (o: Awaited<ReturnType<typeof action.apply>>): unknown =>
  o.status === 'applied' || o.status === 'already_applied' ? o.after : null;

/** The key as keys.get answers it: the exported data without the public key (TYPE_NONE). */
function restData(asset: Asset): Record<string, unknown> {
  const { publicKeyData: _p, ...rest } = asset.resource?.data ?? {};
  return rest;
}

describe('iam.serviceaccountkey.disable is registered for the policy that names it', () => {
  it('is high risk, reversible, for ServiceAccountKey, named by iam-sa-user-managed-key only', () => {
    expect(getAction('iam.serviceaccountkey.disable')).toBe(action);
    expect(action).toMatchObject({
      risk: 'high',
      reversible: true,
      assetTypes: ['iam.googleapis.com/ServiceAccountKey'],
    });
    const naming = policies.policies.filter(
      (p) =>
        p.def.remediation !== undefined &&
        'action' in p.def.remediation &&
        p.def.remediation.action === action.id,
    );
    expect(
      naming.map((p) => [p.def.id, 'risk' in p.def.remediation ? p.def.remediation.risk : null]),
    ).toEqual([['iam-sa-user-managed-key', 'high']]);
  });

  it('addresses the key by project id and the email its data names, else by its CAI name', () => {
    expect(keyNameOf(serviceAccountKeyAsset())).toBe(KEY_NAME);
    const bare = serviceAccountKeyAsset();
    delete bare.resource?.data['name'];
    expect(keyNameOf(bare)).toBe(`projects/${PROJECT_ID}/serviceAccounts/${SA_UNIQUE_ID}/keys/${KEY_ID}`);
    // A data name of another key never redirects the request.
    expect(
      keyNameOf(serviceAccountKeyAsset({ name: `projects/${PROJECT_ID}/serviceAccounts/x@y.z/keys/other` })),
    ).toBe(`projects/${PROJECT_ID}/serviceAccounts/${SA_UNIQUE_ID}/keys/${KEY_ID}`);
    const notAKey = { ...serviceAccountKeyAsset(), name: `//iam.googleapis.com/projects/${PROJECT_ID}` };
    expect(() => keyNameOf(notAKey)).toThrow(expect.objectContaining({ code: 'not_applicable' }));
  });
});

describe('iam.serviceaccountkey.disable against the twin', () => {
  let h: TwinHarness;
  let ctx: ActionContext;
  afterEach(async () => {
    await h.close();
  });
  const start = async (
    assets: Asset[] = [serviceAccountKeyAsset()],
    opts: Parameters<typeof startHarness>[1] = {},
  ) => {
    h = await startHarness(assets, opts);
    ctx = actionContext(h);
  };

  it('plans the exact requests against iam.googleapis.com, and says what disabling costs and how undo works', async () => {
    await start();
    const plan = action.plan(serviceAccountKeyAsset(), DEFAULT_ACTION_SETTINGS);
    expect(plan.requests).toEqual([
      { method: 'GET', url: URL },
      { method: 'POST', url: `${URL}:disable`, body: {} },
    ]);
    expect(plan.description).toMatch(/workload still using this key will fail to authenticate/);
    expect(plan.description).toMatch(/undo re-enables the key with keys\.enable/);
    expect(plan.description).not.toMatch(/^Refused/);
    expect(
      action.plan(serviceAccountKeyAsset({ keyType: 'SYSTEM_MANAGED' }), DEFAULT_ACTION_SETTINGS).description,
    ).toMatch(/^Refused: .*SYSTEM_MANAGED/);
  });

  it('disables, so that the policies pass on the live key; twice sends nothing; undo restores exactly the before-state', async () => {
    await start();
    const asset = serviceAccountKeyAsset();
    expect(verdicts(asset)).toEqual(POLICIES.map((p) => `${p}: violation`));
    const before = await action.captureBefore(asset, ctx);
    expect(before).toEqual({ name: KEY_NAME, data: restData(asset) });

    const applied = await action.apply(asset, before!, ctx);
    expect(applied.status).toBe('applied');
    expect(writes(h).map((r) => [r.path, r.body])).toEqual([[`${KEY_PATH}:disable`, {}]]);
    const live = await action.readLive(asset, ctx);
    expect(live).toMatchObject({ name: asset.name, assetType: asset.assetType, ancestors: asset.ancestors });
    expect(live?.resource?.data).toEqual({
      ...restData(asset),
      disabled: true,
      disableReason: 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED',
    });
    expect(verdicts(live)).toEqual(POLICIES.map((p) => `${p}: pass`));
    expect(h.feed).toHaveLength(1);

    const again = await action.apply(asset, before!, ctx);
    expect(again.status).toBe('already_applied');
    expect(writes(h)).toHaveLength(1);

    expect(await action.undo(asset, before!, afterOf(applied), ctx)).toEqual({ status: 'restored' });
    expect(writes(h).map((r) => [r.path, r.body])).toEqual([
      [`${KEY_PATH}:disable`, {}],
      [`${KEY_PATH}:enable`, {}],
    ]);
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
    const restored = await action.readLive(asset, ctx);
    expect(restored?.resource?.data).toEqual((before as { data: unknown }).data);
    expect(verdicts(restored)).toEqual(POLICIES.map((p) => `${p}: violation`));
    expect(h.feed).toHaveLength(2);
    // The undo changed the key since the fix: a second undo refuses and sends nothing.
    expect(await action.undo(asset, before!, afterOf(applied), ctx)).toEqual({
      status: 'refused',
      reason: expect.stringContaining('changed after the fix'),
    });
    expect(writes(h)).toHaveLength(2);
  });

  it('refuses a SYSTEM_MANAGED key without sending anything (not stale: a fresh capture is refused too)', async () => {
    const asset = serviceAccountKeyAsset({ keyType: 'SYSTEM_MANAGED' });
    await start([asset]);
    const before = await action.captureBefore(asset, ctx);
    expect(await action.apply(asset, before!, ctx)).toEqual({
      status: 'conflict',
      reason: expect.stringMatching(/SYSTEM_MANAGED/),
    });
    expect(h.twin.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  });

  it('never clobbers a change made between the capture and the write: conflict, stale, nothing sent', async () => {
    await start();
    const asset = serviceAccountKeyAsset();
    const before = await action.captureBefore(asset, ctx);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: KEY_PATH }, concurrentModification: true, times: 1 },
    ]);
    expect(await action.apply(asset, before!, ctx)).toEqual({
      status: 'conflict',
      reason: expect.stringContaining('changed since its state was captured'),
      stale: true,
    });
    expect(writes(h)).toHaveLength(0);
    const now = h.twin.getAsset(asset.name)?.resource?.data;
    expect(now?.['extendedStatus']).toEqual([{ key: EXPOSED, value: 'someone-else-1' }]);
    expect(now?.['disabled']).toBeUndefined();
    // A fresh capture sees their change, and the fix goes ahead keeping it.
    const fresh = await action.captureBefore(asset, ctx);
    expect((await action.apply(asset, fresh!, ctx)).status).toBe('applied');
    expect(h.twin.getAsset(asset.name)?.resource?.data).toMatchObject({
      disabled: true,
      extendedStatus: [{ key: EXPOSED }],
    });
  });

  it('keeps a change made as the disable is sent: the call touches only the key status', async () => {
    await start();
    const asset = serviceAccountKeyAsset();
    const before = await action.captureBefore(asset, ctx);
    h.twin.setFaults([
      { match: { method: 'POST', pathPattern: ':disable' }, concurrentModification: true, times: 1 },
    ]);
    expect((await action.apply(asset, before!, ctx)).status).toBe('applied');
    expect(h.twin.getAsset(asset.name)?.resource?.data).toMatchObject({
      disabled: true,
      extendedStatus: [{ key: EXPOSED, value: 'someone-else-1' }],
    });
  });

  it('does not disable, and later never re-enables, a key someone else disabled first', async () => {
    await start();
    const asset = serviceAccountKeyAsset();
    const before = await action.captureBefore(asset, ctx);
    const iamAdmin = await h.cloud.iamAdmin();
    await iamAdmin.disableServiceAccountKey(KEY_NAME);
    const sent = writes(h).length;
    const outcome = await action.apply(asset, before!, ctx);
    expect(outcome).toEqual({
      status: 'already_applied',
      after: expect.objectContaining({ unchanged: true }),
    });
    expect(await action.undo(asset, before!, afterOf(outcome), ctx)).toEqual({ status: 'restored' });
    expect(writes(h)).toHaveLength(sent);
    expect(h.twin.getAsset(asset.name)?.resource?.data['disabled']).toBe(true);
  });

  it('refuses to undo after someone changed the key (flagged it, or re-enabled it), and sends nothing', async () => {
    await start();
    const asset = serviceAccountKeyAsset();
    const before = await action.captureBefore(asset, ctx);
    const applied = await action.apply(asset, before!, ctx);
    expect(applied.status).toBe('applied');

    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: KEY_PATH }, concurrentModification: true, times: 1 },
    ]);
    expect(await action.undo(asset, before!, afterOf(applied), ctx)).toEqual({
      status: 'refused',
      reason: expect.stringContaining('changed after the fix; restoring would overwrite that change'),
    });
    expect(writes(h)).toHaveLength(1);
    expect(h.twin.getAsset(asset.name)?.resource?.data).toMatchObject({
      disabled: true,
      extendedStatus: [{ key: EXPOSED }],
    });

    // Re-enabled by someone (and whatever they meant by it): undo does not touch it either.
    await h.close();
    await start();
    const b2 = await action.captureBefore(asset, ctx);
    const a2 = await action.apply(asset, b2!, ctx);
    await (await h.cloud.iamAdmin()).enableServiceAccountKey(KEY_NAME);
    const sent = writes(h).length;
    expect(await action.undo(asset, b2!, afterOf(a2), ctx)).toEqual({
      status: 'refused',
      reason: expect.any(String),
    });
    expect(writes(h)).toHaveLength(sent);
  });

  it('surfaces an injected 503 and 429 as retryable WardenErrors, the key unchanged, no retry of its own', async () => {
    await start([serviceAccountKeyAsset()], {
      faults: [{ match: { method: 'POST', pathPattern: ':disable' }, errorStatus: 503 }],
    });
    const asset = serviceAccountKeyAsset();
    const before = await action.captureBefore(asset, ctx);
    const err = await rejection(action.apply(asset, before!, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect(err).toMatchObject({ retryable: true, code: 'UNAVAILABLE' });
    expect(writes(h)).toHaveLength(1);
    expect(h.twin.getAsset(asset.name)?.resource?.data['disabled']).toBeUndefined();

    h.twin.setFaults([{ match: { method: 'GET', pathPattern: KEY_PATH }, errorStatus: 429, times: 1 }]);
    const limited = await rejection(action.readLive(asset, ctx));
    expect(limited).toBeInstanceOf(WardenError);
    expect(limited).toMatchObject({ retryable: true, code: 'RESOURCE_EXHAUSTED' });
  });

  it('returns null and gone for a key that no longer exists, and sends nothing', async () => {
    await start();
    const asset = serviceAccountKeyAsset();
    const before = await action.captureBefore(asset, ctx);
    const applied = await action.apply(asset, before!, ctx);
    await h.close();
    await start([]);
    expect(await action.captureBefore(asset, ctx)).toBeNull();
    expect(await action.readLive(asset, ctx)).toBeNull();
    expect(await action.apply(asset, before!, ctx)).toEqual({ status: 'gone' });
    expect(await action.undo(asset, before!, afterOf(applied), ctx)).toEqual({ status: 'gone' });
    expect(writes(h)).toHaveLength(0);
  });

  it('stops on a recorded state it did not write rather than act on it half-understood', async () => {
    await start();
    const asset = serviceAccountKeyAsset();
    const err = await rejection(
      action.apply(asset, { name: 'projects/-/serviceAccounts/a/keys/b', data: {} }, ctx),
    );
    expect(err).toMatchObject({ retryable: false, code: 'invalid_state' });
    expect(h.twin.requests).toHaveLength(0);
  });
});
