import { afterEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_ACTION_SETTINGS } from '../../shared/actions/types.js';
import { enforcePublicAccessPrevention } from '../../shared/actions/storage-bucket-enforce-public-access-prevention.js';
import { enableUniformAccess } from '../../shared/actions/storage-bucket-enable-uniform-access.js';
import type { BucketBefore } from '../../shared/actions/bucket-setting.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
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
    expect(outcome).toEqual({ status: 'conflict', reason: expect.stringContaining('metageneration 2 → 3') });
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
