import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { getAction } from '../../shared/actions/registry.js';
import {
  DEFAULT_ACTION_SETTINGS,
  type ActionContext,
  type ActionSettings,
  type RemediationAction,
} from '../../shared/actions/types.js';
import { enforcePublicAccessPrevention } from '../../shared/actions/storage-bucket-enforce-public-access-prevention.js';
import { enableUniformAccess } from '../../shared/actions/storage-bucket-enable-uniform-access.js';
import { bucketAddRequiredLabels } from '../../shared/actions/storage-bucket-add-required-labels.js';
import { bucketChangeStorageClass } from '../../shared/actions/storage-bucket-change-storage-class.js';
import { bucketEnableSoftDelete } from '../../shared/actions/storage-bucket-enable-soft-delete.js';
import {
  bucketRemovePublicMembers,
  type BucketPolicyState,
} from '../../shared/actions/storage-bucket-remove-public-members.js';
import type { BucketBefore } from '../../shared/actions/bucket-setting.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import { projectRoot } from '../../shared/util/project-root.js';
import { bucketAsset, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection, stable } from './action-context.js';

const BUCKET = 'public-bucket';
const NAME = `//storage.googleapis.com/${BUCKET}`;

function patches(h: TwinHarness): number {
  return h.twin.requests.filter((r) => r.method === 'PATCH').length;
}

describe('storage.bucket.enforce-public-access-prevention', () => {
  const action = enforcePublicAccessPrevention;
  let h: TwinHarness;
  let asset: Asset;
  afterEach(async () => {
    await h.close();
  });
  const start = async (opts: Parameters<typeof startHarness>[1] = {}): Promise<void> => {
    asset = bucketAsset(BUCKET);
    h = await startHarness([asset], opts);
  };

  it('plans the exact guarded request', async () => {
    await start();
    expect(action.plan(asset, DEFAULT_ACTION_SETTINGS).requests).toEqual([
      { method: 'GET', url: `https://storage.googleapis.com/storage/v1/b/${BUCKET}?projection=full` },
      {
        method: 'PATCH',
        url: `https://storage.googleapis.com/storage/v1/b/${BUCKET}?ifMetagenerationMatch=2`,
        body: { iamConfiguration: { publicAccessPrevention: 'enforced' } },
      },
    ]);
    expect(action.risk).toBe('low');
    expect(action.reversible).toBe(true);
  });

  it('applies, reads live, is a no-op the second time, and undo restores exactly the before-state', async () => {
    await start();
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as BucketBefore<string>;
    expect(before).toMatchObject({ bucket: BUCKET, metageneration: '2', value: 'inherited' });

    const applied = await action.apply(asset, before, ctx);
    expect(applied).toEqual({ status: 'applied', after: { bucket: BUCKET, metageneration: '3' } });
    expect(h.twin.requests.find((r) => r.method === 'PATCH')).toMatchObject({
      path: `/storage/v1/b/${BUCKET}`,
      query: { ifMetagenerationMatch: '2' },
      body: { iamConfiguration: { publicAccessPrevention: 'enforced' } },
    });

    const live = await action.readLive(asset, ctx);
    expect(live?.name).toBe(NAME);
    expect(live?.ancestors).toEqual(asset.ancestors);
    expect(live?.resource?.discoveryName).toBe('Bucket');
    expect(
      (live?.resource?.data['iamConfiguration'] as Record<string, unknown>)['publicAccessPrevention'],
    ).toBe('enforced');
    expect(live?.iamPolicy?.bindings.some((b) => b.members.includes('allUsers'))).toBe(true);
    expect(h.twin.requests.find((r) => r.path.endsWith('/iam'))?.query).toEqual({
      optionsRequestedPolicyVersion: '3',
    });

    const again = await action.apply(asset, before, ctx);
    expect(again.status).toBe('already_applied');
    expect(patches(h)).toBe(1);

    const after = applied.status === 'applied' ? applied.after : undefined;
    expect(await action.undo(asset, before, after, ctx)).toEqual({ status: 'restored' });
    expect(h.twin.requests.filter((r) => r.method === 'PATCH').at(-1)?.query).toEqual({
      ifMetagenerationMatch: '3',
    });
    const restored = await action.captureBefore(asset, ctx);
    expect(stable(restored?.data)).toEqual(stable(before.data));
    expect(restored?.value).toBe('inherited');

    // Two RESOURCE feed messages: the fix and its undo, each observable as a change.
    expect(h.feed).toHaveLength(2);
  });

  it('reports conflict and clobbers nothing when someone changes the bucket as the patch is sent', async () => {
    await start();
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as BucketBefore<string>;
    h.twin.setFaults([{ match: { method: 'PATCH' }, concurrentModification: true, times: 1 }]);
    const outcome = await action.apply(asset, before, ctx);
    expect(outcome.status).toBe('conflict');
    const data = h.twin.getAsset(NAME)?.resource?.data ?? {};
    expect(data['labels']).toEqual({ team: 'data', 'changed-by': 'someone-else-3' });
    expect((data['iamConfiguration'] as Record<string, unknown>)['publicAccessPrevention']).toBeUndefined();
  });

  it('reports conflict without sending anything when the bucket changed since the before-state', async () => {
    await start();
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as BucketBefore<string>;
    await (await h.cloud.storage()).bucket(BUCKET).setMetadata({ labels: { owner: 'human' } });
    const sent = patches(h);
    const outcome = await action.apply(asset, before, ctx);
    expect(outcome).toEqual({
      status: 'conflict',
      stale: true,
      reason: expect.stringContaining('metageneration 2 → 3'),
    });
    expect(patches(h)).toBe(sent);
  });

  it('refuses to undo after a human changed the bucket, and sends nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as BucketBefore<string>;
    const applied = await action.apply(asset, before, ctx);
    await (await h.cloud.storage()).bucket(BUCKET).setMetadata({ labels: { owner: 'human' } });
    const sent = patches(h);
    const undo = await action.undo(asset, before, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo.status).toBe('refused');
    expect(patches(h)).toBe(sent);
    const iam = h.twin.getAsset(NAME)?.resource?.data['iamConfiguration'] as Record<string, unknown>;
    expect(iam['publicAccessPrevention']).toBe('enforced');
  });

  it('surfaces an injected 503 as a retryable WardenError', async () => {
    await start({ faults: [{ match: { method: 'PATCH' }, errorStatus: 503 }] });
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as BucketBefore<string>;
    const err = await rejection(action.apply(asset, before, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(true);
    expect((err as WardenError).code).toBe('UNAVAILABLE');
  });

  it('surfaces a 429 on read as retryable and returns null / gone for a deleted bucket', async () => {
    await start({ faults: [{ match: { method: 'GET' }, errorStatus: 429, times: 1 }] });
    const ctx = actionContext(h);
    const err = await rejection(action.captureBefore(asset, ctx));
    expect((err as WardenError).retryable).toBe(true);
    const gone = bucketAsset('deleted-bucket');
    expect(await action.captureBefore(gone, ctx)).toBeNull();
    expect(await action.readLive(gone, ctx)).toBeNull();
    const before = { bucket: 'deleted-bucket', metageneration: '1', value: 'inherited', data: {} };
    expect(await action.apply(gone, before, ctx)).toEqual({ status: 'gone' });
  });

  it('rejects a recorded state it did not write as a non-retryable error', async () => {
    await start();
    const err = await rejection(
      action.undo(
        asset,
        { bucket: BUCKET } as unknown as BucketBefore<string>,
        { nope: true },
        actionContext(h),
      ),
    );
    expect((err as WardenError).retryable).toBe(false);
    expect((err as WardenError).code).toBe('invalid_state');
  });
});

describe('storage.bucket.enable-uniform-access', () => {
  const action = enableUniformAccess;
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('is medium risk and says in its plan that undo is possible for 90 days only', async () => {
    const asset = bucketAsset(BUCKET);
    h = await startHarness([asset]);
    const plan = action.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(action.risk).toBe('medium');
    expect(plan.description).toContain('90 days');
    expect(plan.requests[1]).toEqual({
      method: 'PATCH',
      url: `https://storage.googleapis.com/storage/v1/b/${BUCKET}?ifMetagenerationMatch=2`,
      body: { iamConfiguration: { uniformBucketLevelAccess: { enabled: true } } },
    });
  });

  it('enables UBLA, is a no-op twice, and undo within 90 days restores exactly the before-state', async () => {
    const asset = bucketAsset(BUCKET);
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as BucketBefore<boolean>;
    expect(before.value).toBe(false);
    const applied = await action.apply(asset, before, ctx);
    expect(applied.status).toBe('applied');
    const live = await action.readLive(asset, ctx);
    const iam = live?.resource?.data['iamConfiguration'] as Record<string, Record<string, unknown>>;
    expect(iam['uniformBucketLevelAccess']?.['enabled']).toBe(true);
    expect(iam['bucketPolicyOnly']?.['enabled']).toBe(true);
    expect((await action.apply(asset, before, ctx)).status).toBe('already_applied');

    h.clock.advance(30 * 24 * 3600 * 1000);
    expect(
      await action.undo(asset, before, applied.status === 'applied' ? applied.after : null, ctx),
    ).toEqual({
      status: 'restored',
    });
    const restored = await action.captureBefore(asset, ctx);
    expect(stable(restored?.data)).toEqual(stable(before.data));
  });

  it('refuses undo once GCS has locked UBLA (90 days), without sending a patch', async () => {
    const asset = bucketAsset(BUCKET);
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as BucketBefore<boolean>;
    const applied = await action.apply(asset, before, ctx);
    h.clock.advance(91 * 24 * 3600 * 1000);
    const sent = patches(h);
    const undo = await action.undo(asset, before, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo).toEqual({ status: 'refused', reason: expect.stringContaining('locked since') });
    expect(patches(h)).toBe(sent);
  });

  it('reports conflict when someone changes the bucket as the patch is sent', async () => {
    const asset = bucketAsset(BUCKET);
    h = await startHarness([asset], {
      faults: [{ match: { method: 'PATCH' }, concurrentModification: true }],
    });
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as BucketBefore<boolean>;
    expect((await action.apply(asset, before, ctx)).status).toBe('conflict');
    const iam = h.twin.getAsset(NAME)?.resource?.data['iamConfiguration'] as Record<
      string,
      Record<string, unknown>
    >;
    expect(iam['uniformBucketLevelAccess']?.['enabled']).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The buckets.patch remediations named by the data and organization policies, table-driven.

const NOW = '2026-03-01T09:00:00.000Z';
const STORAGE = 'https://storage.googleapis.com/storage/v1';
type Data = Record<string, unknown>;

let policies: PolicySet;
beforeAll(async () => {
  policies = await loadPolicies(path.join(projectRoot(), 'policies'));
});

function verdict(policyId: string, asset: Asset): string {
  const r = policies.evaluate(asset, { now: NOW }).find((x) => x.policy.def.id === policyId);
  if (!r) throw new Error(`policy ${policyId} did not run on ${asset.assetType}`);
  if (r.verdict.kind === 'error') return `error: ${r.verdict.message}`;
  return r.verdict.kind;
}

/** A bucket fixture with some of its REST fields replaced. */
function bucketWith(name: string, fields: Data, over: Parameters<typeof bucketAsset>[1] = {}): Asset {
  const a = bucketAsset(name, over);
  Object.assign(a.resource!.data, fields);
  return a;
}

interface PatchCase {
  title: string;
  action: RemediationAction;
  risk: 'low' | 'medium';
  policyIds: string[];
  asset: () => Asset;
  /** The PATCH body the plan names and apply sends. */
  body: Data;
  /** The part of the bucket the fix changes, and its value once fixed. */
  field: (data: Data) => unknown;
  fixed: unknown;
  /** Words the plan must say. */
  says: RegExp[];
}

const PATCH_CASES: PatchCase[] = [
  {
    title: 'a bucket lacking env and cost-center',
    action: bucketAddRequiredLabels as RemediationAction,
    risk: 'low',
    policyIds: ['labels-storage-bucket-required'],
    asset: () => bucketAsset('unlabelled'),
    body: { labels: { env: 'unassigned', 'cost-center': 'unassigned' } },
    // The labels but those other people add in these tests (owner, changed-by).
    field: (d) => {
      const { owner: _o, 'changed-by': _c, ...rest } = (d['labels'] as Data | undefined) ?? {};
      return rest;
    },
    fixed: { team: 'data', env: 'unassigned', 'cost-center': 'unassigned' },
    says: [/every existing label keeps its value/, /metageneration/],
  },
  {
    title: 'a MULTI_REGIONAL bucket in the US multi-region',
    action: bucketChangeStorageClass as RemediationAction,
    risk: 'low',
    policyIds: ['storage-bucket-legacy-storage-class'],
    asset: () =>
      bucketWith('legacy-exports', {
        location: 'US',
        locationType: 'multi-region',
        storageClass: 'MULTI_REGIONAL',
      }),
    body: { storageClass: 'STANDARD' },
    field: (d) => d['storageClass'],
    fixed: 'STANDARD',
    says: [/existing objects keep their storage class/, /what MULTI_REGIONAL was/],
  },
  {
    title: 'a REGIONAL bucket in a region',
    action: bucketChangeStorageClass as RemediationAction,
    risk: 'low',
    policyIds: ['storage-bucket-legacy-storage-class'],
    asset: () => bucketWith('regional', { locationType: 'region', storageClass: 'REGIONAL' }),
    body: { storageClass: 'STANDARD' },
    field: (d) => d['storageClass'],
    fixed: 'STANDARD',
    says: [/existing objects keep their storage class/, /what REGIONAL was/],
  },
  {
    title: 'a DURABLE_REDUCED_AVAILABILITY bucket',
    action: bucketChangeStorageClass as RemediationAction,
    risk: 'low',
    policyIds: ['storage-bucket-legacy-storage-class'],
    asset: () => bucketWith('dra', { locationType: 'region', storageClass: 'DURABLE_REDUCED_AVAILABILITY' }),
    body: { storageClass: 'STANDARD' },
    field: (d) => d['storageClass'],
    fixed: 'STANDARD',
    says: [/99% SLA/],
  },
  {
    title: 'a bucket with soft delete turned off',
    action: bucketEnableSoftDelete as RemediationAction,
    risk: 'low',
    policyIds: ['storage-bucket-soft-delete-disabled'],
    asset: () => bucketWith('no-soft-delete', { softDeletePolicy: { retentionDurationSeconds: '0' } }),
    body: { softDeletePolicy: { retentionDurationSeconds: '604800' } },
    field: (d) => (d['softDeletePolicy'] as Data | undefined)?.['retentionDurationSeconds'],
    fixed: '604800',
    says: [/billed/, /7 days/],
  },
];

function bucketName(a: Asset): string {
  return a.name.slice('//storage.googleapis.com/'.length);
}

function patchCount(h: TwinHarness): number {
  return h.twin.requests.filter((r) => r.method === 'PATCH').length;
}

describe('the new storage actions are registered with the policies that use them', () => {
  it('registers each with its risk, reversible, for a policy that names it', () => {
    for (const [id, risk] of [
      ['storage.bucket.remove-public-members', 'low'],
      ['storage.bucket.add-required-labels', 'low'],
      ['storage.bucket.change-storage-class', 'low'],
      ['storage.bucket.enable-soft-delete', 'low'],
    ] as const) {
      expect(getAction(id)).toMatchObject({
        id,
        risk,
        reversible: true,
        assetTypes: ['storage.googleapis.com/Bucket'],
      });
      expect(
        policies.policies.some(
          (p) =>
            p.def.remediation !== undefined &&
            'action' in p.def.remediation &&
            p.def.remediation.action === id,
        ),
      ).toBe(true);
    }
  });
});

describe.each(PATCH_CASES)('$action.id on $title', (c) => {
  let h: TwinHarness;
  let asset: Asset;
  let bucket: string;
  afterEach(async () => {
    await h.close();
  });
  const start = async (opts: Parameters<typeof startHarness>[1] = {}): Promise<void> => {
    asset = c.asset();
    bucket = bucketName(asset);
    h = await startHarness([asset], opts);
  };

  it('plans the exact guarded request and says what it changes', async () => {
    await start();
    const plan = c.action.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.requests).toEqual([
      { method: 'GET', url: `${STORAGE}/b/${bucket}?projection=full` },
      { method: 'PATCH', url: `${STORAGE}/b/${bucket}?ifMetagenerationMatch=2`, body: c.body },
    ]);
    for (const re of c.says) expect(plan.description).toMatch(re);
    expect(c.action.risk).toBe(c.risk);
    expect(c.action.reversible).toBe(true);
  });

  it('fixes, so that the policies pass on the live bucket; twice is a no-op; undo restores exactly the before-state', async () => {
    await start();
    const ctx = actionContext(h);
    for (const p of c.policyIds) expect(verdict(p, asset)).toBe('violation');
    const before = (await c.action.captureBefore(asset, ctx)) as BucketBefore<unknown>;
    const applied = await c.action.apply(asset, before, ctx);
    expect(applied).toEqual({ status: 'applied', after: { bucket, metageneration: '3' } });
    expect(h.twin.requests.filter((r) => r.method === 'PATCH')).toEqual([
      expect.objectContaining({
        path: `/storage/v1/b/${bucket}`,
        query: { ifMetagenerationMatch: '2' },
        body: c.body,
      }),
    ]);

    const live = await c.action.readLive(asset, ctx);
    expect(live).toMatchObject({ name: asset.name, assetType: asset.assetType, ancestors: asset.ancestors });
    expect(c.field(live?.resource?.data ?? {})).toEqual(c.fixed);
    for (const p of c.policyIds) expect(verdict(p, live as Asset)).toBe('pass');

    expect((await c.action.apply(asset, before, ctx)).status).toBe('already_applied');
    expect(patchCount(h)).toBe(1);

    const after = applied.status === 'applied' ? applied.after : null;
    expect(await c.action.undo(asset, before, after, ctx)).toEqual({ status: 'restored' });
    expect(h.twin.requests.filter((r) => r.method === 'PATCH').at(-1)?.query).toEqual({
      ifMetagenerationMatch: '3',
    });
    const restored = (await c.action.captureBefore(asset, ctx)) as BucketBefore<unknown>;
    expect(stable(restored.data)).toEqual(stable(before.data));
    const restoredLive = await c.action.readLive(asset, ctx);
    for (const p of c.policyIds) expect(verdict(p, restoredLive as Asset)).toBe('violation');
    // Undo twice: the bucket changed since the fix (by the undo itself), so nothing is sent.
    expect((await c.action.undo(asset, before, after, ctx)).status).toBe('refused');
    expect(patchCount(h)).toBe(2);
    // The fix and its undo, each a RESOURCE feed message.
    expect(h.feed).toHaveLength(2);
  });

  it('reports conflict and clobbers nothing when someone changes the bucket as the patch is sent', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    h.twin.setFaults([{ match: { method: 'PATCH' }, concurrentModification: true, times: 1 }]);
    const outcome = await c.action.apply(asset, before, ctx);
    expect(outcome).toEqual({ status: 'conflict', stale: true, reason: expect.stringContaining('412') });
    const data = h.twin.getAsset(asset.name)?.resource?.data ?? {};
    expect((data['labels'] as Data)['changed-by']).toBe('someone-else-3');
    expect(c.field(data)).toEqual(c.field(asset.resource?.data ?? {}));
  });

  it('reports conflict without sending anything when the bucket changed since the before-state', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    await (await h.cloud.storage()).bucket(bucket).setMetadata({ labels: { owner: 'human' } });
    const sent = patchCount(h);
    expect(await c.action.apply(asset, before, ctx)).toEqual({
      status: 'conflict',
      stale: true,
      reason: expect.stringContaining('metageneration 2 → 3'),
    });
    expect(patchCount(h)).toBe(sent);
  });

  it('refuses to undo after a human changed the bucket, and sends nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const applied = await c.action.apply(asset, before, ctx);
    await (await h.cloud.storage()).bucket(bucket).setMetadata({ labels: { owner: 'human' } });
    const sent = patchCount(h);
    const undo = await c.action.undo(asset, before, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo).toEqual({ status: 'refused', reason: expect.stringContaining('changed after the fix') });
    expect(patchCount(h)).toBe(sent);
    expect(c.field(h.twin.getAsset(asset.name)?.resource?.data ?? {})).toEqual(c.fixed);
  });

  it('surfaces an injected 503 and a 429 as retryable WardenErrors', async () => {
    await start({ faults: [{ match: { method: 'PATCH' }, errorStatus: 503 }] });
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const err = await rejection(c.action.apply(asset, before, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(true);
    expect((err as WardenError).code).toBe('UNAVAILABLE');
    h.twin.setFaults([{ match: { method: 'GET' }, errorStatus: 429, times: 1 }]);
    const limited = await rejection(c.action.captureBefore(asset, ctx));
    expect((limited as WardenError).retryable).toBe(true);
    expect(c.field(h.twin.getAsset(asset.name)?.resource?.data ?? {})).toEqual(c.field(asset.resource!.data));
  });

  it('returns null and gone for a bucket that no longer exists', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    await h.close();
    h = await startHarness([]);
    const ctx2 = actionContext(h);
    expect(await c.action.captureBefore(asset, ctx2)).toBeNull();
    expect(await c.action.readLive(asset, ctx2)).toBeNull();
    expect(await c.action.apply(asset, before, ctx2)).toEqual({ status: 'gone' });
    expect(await c.action.undo(asset, before, { bucket, metageneration: '3' }, ctx2)).toEqual({
      status: 'gone',
    });
    void ctx;
  });
});

describe('what the bucket patch actions leave alone', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });
  const withSettings = (ctx: ActionContext, settings: Partial<ActionSettings>): ActionContext => ({
    ...ctx,
    settings: { ...ctx.settings, ...settings },
  });

  it("add-required-labels adds only the missing keys: a human's value is never overwritten", async () => {
    const asset = bucketWith('half-labelled', { labels: { team: 'data', env: 'prod-eu' } });
    h = await startHarness([asset]);
    const ctx = withSettings(actionContext(h), { labelDefaults: { 'cost-center': 'cc-0000' } });
    expect(bucketAddRequiredLabels.plan(asset, ctx.settings).requests[1]?.body).toEqual({
      labels: { 'cost-center': 'cc-0000' },
    });
    const before = await bucketAddRequiredLabels.captureBefore(asset, ctx);
    expect((await bucketAddRequiredLabels.apply(asset, before!, ctx)).status).toBe('applied');
    expect(h.twin.getAsset(asset.name)?.resource?.data['labels']).toEqual({
      team: 'data',
      env: 'prod-eu',
      'cost-center': 'cc-0000',
    });
  });

  it('add-required-labels: a value GCS rejects is a permanent, non-retryable error and the bucket is unchanged', async () => {
    const asset = bucketAsset('unlabelled');
    h = await startHarness([asset]);
    const ctx = withSettings(actionContext(h), { labelDefaultValue: 'Not Valid' });
    const before = await bucketAddRequiredLabels.captureBefore(asset, ctx);
    const err = await rejection(bucketAddRequiredLabels.apply(asset, before!, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(false);
    expect((err as WardenError).code).toBe('INVALID_ARGUMENT');
    expect((err as WardenError).message).toMatch(/patching bucket unlabelled: .*400.*labels/);
    expect(h.twin.getAsset(asset.name)?.resource?.data['labels']).toEqual({ team: 'data' });
  });

  it('change-storage-class and enable-soft-delete leave current classes and a human duration alone, sending nothing', async () => {
    const nearline = bucketWith('cold', { storageClass: 'NEARLINE' });
    const thirtyDays = bucketWith('kept-30d', { softDeletePolicy: { retentionDurationSeconds: '2592000' } });
    const absent = bucketAsset('no-policy-reported');
    h = await startHarness([nearline, thirtyDays, absent]);
    const ctx = actionContext(h);
    for (const [action, a] of [
      [bucketChangeStorageClass, nearline],
      [bucketEnableSoftDelete, thirtyDays],
      [bucketEnableSoftDelete, absent],
    ] as const) {
      const before = await (action as RemediationAction).captureBefore(a, ctx);
      expect((await (action as RemediationAction).apply(a, before, ctx)).status).toBe('already_applied');
    }
    expect(patchCount(h)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
// storage.bucket.remove-public-members: the bucket IAM policy, etag-guarded.

const PUBLIC_BUCKET = 'press-kit';
const PUBLIC_NAME = `//storage.googleapis.com/${PUBLIC_BUCKET}`;
const IAM_PATH = `/storage/v1/b/${PUBLIC_BUCKET}/iam`;
const CONDITION = {
  title: 'public-prefix',
  expression: 'resource.name.startsWith("projects/_/buckets/press-kit/objects/public/")',
};

/** The landing zone's press kit: public access prevention enforces, yet allUsers is still bound (latent). */
function pressKit(over: { pap?: string; ubla?: boolean } = {}): Asset {
  const a = bucketAsset(PUBLIC_BUCKET, { pap: over.pap ?? 'enforced', ubla: over.ubla ?? true });
  a.iamPolicy = {
    version: 3,
    etag: 'BwZsicR3HbM=',
    bindings: [
      { role: 'roles/storage.legacyBucketOwner', members: ['projectOwner:warden-demo'] },
      { role: 'roles/storage.objectViewer', members: ['allUsers', 'group:press@example.com'] },
      { role: 'roles/storage.legacyObjectReader', members: ['allAuthenticatedUsers'] },
      {
        role: 'roles/storage.objectViewer',
        members: ['allUsers', 'user:auditor@example.com'],
        condition: CONDITION,
      },
    ],
  };
  return a;
}

const KEPT = [
  { role: 'roles/storage.legacyBucketOwner', members: ['projectOwner:warden-demo'] },
  { role: 'roles/storage.objectViewer', members: ['group:press@example.com'] },
  { role: 'roles/storage.objectViewer', members: ['user:auditor@example.com'], condition: CONDITION },
];

function puts(h: TwinHarness): number {
  return h.twin.requests.filter((r) => r.method === 'PUT' && r.path === IAM_PATH).length;
}

describe('storage.bucket.remove-public-members', () => {
  const action = bucketRemovePublicMembers;
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('plans the exact etag-guarded read-modify-write, keeping every other member and conditional binding', async () => {
    const asset = pressKit();
    h = await startHarness([asset]);
    const plan = action.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.requests).toEqual([
      { method: 'GET', url: `${STORAGE}/b/${PUBLIC_BUCKET}/iam?optionsRequestedPolicyVersion=3` },
      {
        method: 'PUT',
        url: `${STORAGE}/b/${PUBLIC_BUCKET}/iam`,
        body: { bindings: KEPT, etag: 'BwZsicR3HbM=', version: 3 },
      },
    ]);
    expect(plan.description).toMatch(/allUsers from roles\/storage.objectViewer/);
    expect(plan.description).toMatch(/ACLs are not changed/);
    expect(action.risk).toBe('low');
    expect(action.reversible).toBe(true);
  });

  it('fixes the latent grant so the policy passes; twice is a no-op; undo is refused while prevention is enforced, then restores exactly', async () => {
    const asset = pressKit();
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    expect(verdict('storage-bucket-public-iam-members', asset)).toBe('violation');
    expect(verdict('storage-bucket-public', asset)).toBe('pass');
    const before = (await action.captureBefore(asset, ctx)) as BucketPolicyState;
    expect(before).toMatchObject({ bucket: PUBLIC_BUCKET, etag: 'BwZsicR3HbM=', version: 3 });

    const applied = await action.apply(asset, before, ctx);
    expect(applied.status).toBe('applied');
    const sent = h.twin.requests.find((r) => r.method === 'PUT');
    expect(sent).toMatchObject({
      path: IAM_PATH,
      body: { bindings: KEPT, etag: 'BwZsicR3HbM=', version: 3 },
    });
    expect(
      h.twin.requests
        .filter((r) => r.path === IAM_PATH && r.method === 'GET')
        .every((r) => r.query['optionsRequestedPolicyVersion'] === '3'),
    ).toBe(true);

    const live = (await action.readLive(asset, ctx)) as Asset;
    expect(live.iamPolicy?.bindings).toEqual(KEPT);
    expect(verdict('storage-bucket-public-iam-members', live)).toBe('pass');
    expect(verdict('storage-bucket-public', live)).toBe('pass');
    expect(h.feed).toHaveLength(1);
    expect((h.feed[0] as Record<string, unknown>)['asset']).toMatchObject({ iamPolicy: { bindings: KEPT } });

    expect((await action.apply(asset, before, ctx)).status).toBe('already_applied');
    expect(puts(h)).toBe(1);

    const after = applied.status === 'applied' ? applied.after : null;
    const refused = await action.undo(asset, before, after, ctx);
    expect(refused).toEqual({
      status: 'refused',
      reason: expect.stringContaining('public access prevention is enforced'),
    });
    expect(puts(h)).toBe(1);

    // A human lifts prevention (bucket metadata: the IAM policy and its etag stay): now undo re-adds the members.
    await (
      await h.cloud.storage()
    )
      .bucket(PUBLIC_BUCKET)
      .setMetadata({ iamConfiguration: { publicAccessPrevention: 'inherited' } });
    expect(await action.undo(asset, before, after, ctx)).toEqual({ status: 'restored' });
    expect(puts(h)).toBe(2);
    const restored = (await action.captureBefore(asset, ctx)) as BucketPolicyState;
    expect(restored.bindings).toEqual(before.bindings);
    expect(restored.version).toBe(3);
    expect((await action.undo(asset, before, after, ctx)).status).toBe('refused');
    expect(puts(h)).toBe(2);
  });

  it('removes members whatever their casing', async () => {
    const asset = pressKit();
    asset.iamPolicy!.bindings = [
      { role: 'roles/storage.legacyBucketOwner', members: ['projectOwner:warden-demo'] },
      {
        role: 'roles/storage.objectViewer',
        members: ['AllUsers', 'ALLAUTHENTICATEDUSERS', 'group:allusers@example.com'],
      },
    ];
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    expect(verdict('storage-bucket-public-iam-members', asset)).toBe('violation');
    const before = await action.captureBefore(asset, ctx);
    expect((await action.apply(asset, before!, ctx)).status).toBe('applied');
    expect(h.twin.getAsset(PUBLIC_NAME)?.iamPolicy?.bindings).toEqual([
      { role: 'roles/storage.legacyBucketOwner', members: ['projectOwner:warden-demo'] },
      { role: 'roles/storage.objectViewer', members: ['group:allusers@example.com'] },
    ]);
  });

  it('reports conflict and clobbers nothing when someone changes the policy as it is written (412)', async () => {
    const asset = pressKit();
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    h.twin.setFaults([{ match: { method: 'PUT' }, concurrentModification: true, times: 1 }]);
    const outcome = await action.apply(asset, before!, ctx);
    expect(outcome).toEqual({ status: 'conflict', stale: true, reason: expect.stringContaining('412') });
    const bindings = h.twin.getAsset(PUBLIC_NAME)?.iamPolicy?.bindings ?? [];
    expect(bindings.some((b) => b.members.includes('allUsers'))).toBe(true);
    expect(bindings.some((b) => b.members.includes('user:someone-else@example.com'))).toBe(true);
  });

  it('reports conflict without sending anything when the policy changed since the before-state', async () => {
    const asset = pressKit();
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: IAM_PATH }, concurrentModification: true, times: 1 },
    ]);
    expect(await action.apply(asset, before!, ctx)).toEqual({
      status: 'conflict',
      stale: true,
      reason: expect.stringContaining('changed since it was captured'),
    });
    expect(puts(h)).toBe(0);
  });

  it('refuses to undo after someone changed the policy, and sends nothing', async () => {
    const asset = pressKit({ pap: 'inherited' });
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    const applied = await action.apply(asset, before!, ctx);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: IAM_PATH }, concurrentModification: true, times: 1 },
    ]);
    const undo = await action.undo(asset, before!, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo).toEqual({ status: 'refused', reason: expect.stringContaining('changed after the fix') });
    expect(puts(h)).toBe(1);
    expect(
      h.twin.getAsset(PUBLIC_NAME)?.iamPolicy?.bindings.some((b) => b.members.includes('allUsers')),
    ).toBe(false);
  });

  it('surfaces an injected 503 and 429 as retryable, a 400 from GCS as permanent, the policy unchanged', async () => {
    const asset = pressKit();
    h = await startHarness([asset], { faults: [{ match: { method: 'PUT' }, errorStatus: 503, times: 1 }] });
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    const unavailable = await rejection(action.apply(asset, before!, ctx));
    expect(unavailable).toBeInstanceOf(WardenError);
    expect((unavailable as WardenError).retryable).toBe(true);
    expect((unavailable as WardenError).code).toBe('UNAVAILABLE');
    h.twin.setFaults([{ match: { method: 'GET', pathPattern: IAM_PATH }, errorStatus: 429, times: 1 }]);
    expect(((await rejection(action.captureBefore(asset, ctx))) as WardenError).retryable).toBe(true);
    await h.close();

    // GCS refuses conditional bindings on a bucket without uniform bucket-level access: a 400, not retried.
    const noUbla = pressKit({ ubla: false });
    h = await startHarness([noUbla]);
    const ctx2 = actionContext(h);
    const before2 = await action.captureBefore(noUbla, ctx2);
    const invalid = await rejection(action.apply(noUbla, before2!, ctx2));
    expect(invalid).toBeInstanceOf(WardenError);
    expect((invalid as WardenError).retryable).toBe(false);
    expect((invalid as WardenError).message).toMatch(
      /setting the IAM policy of bucket press-kit: .*400.*uniform bucket-level access/,
    );
    expect(h.twin.getAsset(PUBLIC_NAME)?.iamPolicy).toEqual(noUbla.iamPolicy);
  });

  it('returns null and gone for a bucket that no longer exists', async () => {
    const asset = pressKit();
    h = await startHarness([asset]);
    const before = await action.captureBefore(asset, actionContext(h));
    await h.close();
    h = await startHarness([]);
    const ctx = actionContext(h);
    expect(await action.captureBefore(asset, ctx)).toBeNull();
    expect(await action.readLive(asset, ctx)).toBeNull();
    expect(await action.apply(asset, before!, ctx)).toEqual({ status: 'gone' });
    expect(await action.undo(asset, before!, before, ctx)).toEqual({ status: 'gone' });
  });
});
