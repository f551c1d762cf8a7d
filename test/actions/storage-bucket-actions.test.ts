import { afterEach, describe, expect, it } from '@jest/globals';
import type { BucketBefore } from '../../shared/actions/bucket-setting.js';
import { bucketAddRequiredLabels } from '../../shared/actions/storage-bucket-add-required-labels.js';
import { bucketChangeStorageClass } from '../../shared/actions/storage-bucket-change-storage-class.js';
import { enableUniformAccess } from '../../shared/actions/storage-bucket-enable-uniform-access.js';
import { bucketEnableSoftDelete } from '../../shared/actions/storage-bucket-enable-soft-delete.js';
import { enforcePublicAccessPrevention } from '../../shared/actions/storage-bucket-enforce-public-access-prevention.js';
import {
  bucketRemovePublicMembers,
  type BucketPolicyState,
} from '../../shared/actions/storage-bucket-remove-public-members.js';
import type { ActionContext, ActionSettings, RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { bucketAsset, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, applyFix, rejection, stable } from './action-context.js';
import {
  describeActionContract,
  grantedToSomeoneElse,
  request,
  type ActionContract,
  type ContractFixture,
  type FixRun,
  type Run,
} from './action-contract.js';
import { expectRegistered, verdict } from './policies.js';

const BUCKET = 'public-bucket';
const STORAGE = 'https://storage.googleapis.com/storage/v1';
const DAY = 24 * 3600 * 1000;
type Data = Record<string, unknown>;

/** A bucket fixture with some of its REST fields replaced. */
function bucketWith(name: string, fields: Data, over: Parameters<typeof bucketAsset>[1] = {}): Asset {
  const a = bucketAsset(name, over);
  Object.assign(a.resource!.data, fields);
  return a;
}

function bucketName(a: Asset): string {
  return a.name.slice('//storage.googleapis.com/'.length);
}

function patchCount(h: TwinHarness): number {
  return h.twin.requests.filter((r) => r.method === 'PATCH').length;
}

const labelsOf = (a: Asset) => (a.resource?.data['labels'] ?? {}) as Data;
const iamConfigurationOf = (d: Data) => (d['iamConfiguration'] ?? {}) as Record<string, Data | undefined>;

// ---------------------------------------------------------------------------------------------------------
// The buckets.patch remediations named by the data and organization policies, table-driven.

interface PatchCase extends Pick<ActionContract, 'title' | 'action' | 'asset' | 'policyIds'> {
  risk: 'low' | 'medium';
  /** The PATCH body the plan names and apply sends. */
  body: Data;
  /** The part of the bucket the fix changes, and its value once fixed. */
  field: (data: Data) => unknown;
  fixed: unknown;
  /** Words the plan must say. */
  says: RegExp[];
  /** The setting's value in the before-state, where the case pins it. */
  valueBefore?: unknown;
  live?: (live: Asset, run: FixRun) => void;
  beforeUndo?: (run: FixRun) => void;
  more?: (fx: ContractFixture) => void;
}

const PATCH_CASES: PatchCase[] = [
  {
    title: 'a bucket with allUsers bound and public access prevention inherited',
    action: enforcePublicAccessPrevention as RemediationAction,
    risk: 'low',
    policyIds: ['storage-bucket-public'],
    asset: () => bucketAsset(BUCKET),
    body: { iamConfiguration: { publicAccessPrevention: 'enforced' } },
    field: (d) => iamConfigurationOf(d)['publicAccessPrevention'],
    fixed: 'enforced',
    says: [],
    valueBefore: 'inherited',
    live: (live, { h }) => {
      expect(live.resource?.discoveryName).toBe('Bucket');
      // Prevention overrides the binding; the binding itself is left as it is.
      expect(live.iamPolicy?.bindings.some((b) => b.members.includes('allUsers'))).toBe(true);
      expect(h.twin.requests.find((r) => r.path.endsWith('/iam'))?.query).toEqual({
        optionsRequestedPolicyVersion: '3',
      });
    },
    more: ({ start }) => {
      it('rejects a recorded state it did not write as a non-retryable error', async () => {
        const { ctx, asset } = await start();
        const err = await rejection(
          enforcePublicAccessPrevention.undo(
            asset,
            { bucket: BUCKET } as unknown as BucketBefore<string>,
            { nope: true },
            ctx,
          ),
        );
        expect((err as WardenError).retryable).toBe(false);
        expect((err as WardenError).code).toBe('invalid_state');
      });
    },
  },
  {
    title: 'a bucket without uniform bucket-level access',
    action: enableUniformAccess as RemediationAction,
    risk: 'medium',
    policyIds: ['storage-bucket-uniform-access-disabled'],
    asset: () => bucketAsset(BUCKET),
    body: { iamConfiguration: { uniformBucketLevelAccess: { enabled: true } } },
    field: (d) => ({
      uniformBucketLevelAccess: iamConfigurationOf(d)['uniformBucketLevelAccess']?.['enabled'],
      bucketPolicyOnly: iamConfigurationOf(d)['bucketPolicyOnly']?.['enabled'],
    }),
    fixed: { uniformBucketLevelAccess: true, bucketPolicyOnly: true },
    says: [/90 days/],
    valueBefore: false,
    // Undo within the 90 days GCS allows (after them, see below).
    beforeUndo: ({ h }) => h.clock.advance(30 * DAY),
  },
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

describe('the new storage actions are registered with the policies that use them', () => {
  it('registers each with its risk, reversible, for a policy that names it', () => {
    for (const [id, risk] of [
      ['storage.bucket.remove-public-members', 'low'],
      ['storage.bucket.add-required-labels', 'low'],
      ['storage.bucket.change-storage-class', 'low'],
      ['storage.bucket.enable-soft-delete', 'low'],
    ] as const) {
      expectRegistered(id, { risk, reversible: true, assetTypes: ['storage.googleapis.com/Bucket'] });
    }
  });
});

/** Someone changes the bucket's metadata through the API (metageneration 2 → 3, or 3 → 4 after the fix). */
const humanLabelsIt = async ({ h, asset }: Run): Promise<void> => {
  await (await h.cloud.storage()).bucket(bucketName(asset)).setMetadata({ labels: { owner: 'human' } });
};

describeActionContract(
  PATCH_CASES.map((c): ActionContract => ({
    title: c.title,
    action: c.action,
    asset: c.asset,
    api: 'storage.googleapis.com',
    // The guarded request, and what the plan says it changes.
    plan: ({ asset }, plan) => {
      const bucket = bucketName(asset);
      expect(plan.requests).toEqual([
        { method: 'GET', url: `${STORAGE}/b/${bucket}?projection=full` },
        { method: 'PATCH', url: `${STORAGE}/b/${bucket}?ifMetagenerationMatch=2`, body: c.body },
      ]);
      for (const re of c.says) expect(plan.description).toMatch(re);
      expect(c.action.risk).toBe(c.risk);
      expect(c.action.reversible).toBe(true);
    },
    policyIds: c.policyIds,
    field: (a) => c.field(a?.resource?.data ?? {}),
    fixed: c.fixed,
    isWrite: (r) => r.method === 'PATCH',
    fix: {
      captured: (before, { asset }) =>
        expect(before).toMatchObject({
          bucket: bucketName(asset),
          metageneration: '2',
          ...(c.valueBefore === undefined ? {} : { value: c.valueBefore }),
        }),
      sent: ({ h, asset, applied }) => {
        const bucket = bucketName(asset);
        expect(applied).toEqual({ status: 'applied', after: { bucket, metageneration: '3' } });
        expect(h.twin.requests.filter((r) => r.method === 'PATCH')).toEqual([
          expect.objectContaining({
            path: `/storage/v1/b/${bucket}`,
            query: { ifMetagenerationMatch: '2' },
            body: c.body,
          }),
        ]);
      },
      ...(c.live ? { live: c.live } : {}),
      feed: 1,
      ...(c.beforeUndo ? { beforeUndo: c.beforeUndo } : {}),
      restored: async ({ h, ctx, asset, before }) => {
        expect(h.twin.requests.filter((r) => r.method === 'PATCH').at(-1)?.query).toEqual({
          ifMetagenerationMatch: '3',
        });
        const restored = (await c.action.captureBefore(asset, ctx)) as BucketBefore<unknown>;
        expect(stable(restored.data)).toEqual(stable((before as BucketBefore<unknown>).data));
        expect(restored.value).toEqual((before as BucketBefore<unknown>).value);
      },
      undoTwice: 'refused',
      // The fix and its undo, each a RESOURCE feed message.
      feedAfterUndo: 2,
    },
    conflict: {
      beforeWrite: {
        change: { by: humanLabelsIt },
        reason: 'metageneration 2 → 3',
        stale: true,
        theirs: (now) =>
          expect(now?.resource?.data['labels']).toEqual({ ...labelsOf(c.asset()), owner: 'human' }),
      },
      atWrite: {
        at: { method: 'PATCH' },
        reason: '412',
        stale: true,
        theirs: (now) =>
          expect(now?.resource?.data['labels']).toEqual({
            ...labelsOf(c.asset()),
            'changed-by': 'someone-else-3',
          }),
      },
    },
    undoAfterChange: { change: { by: humanLabelsIt }, reason: 'changed after the fix' },
    retryable: {
      unavailable: { at: { method: 'PATCH' } },
      throttled: { at: { method: 'GET' }, via: 'captureBefore' },
    },
    gone: { after: () => ({ bucket: bucketName(c.asset()), metageneration: '3' }) },
    ...(c.more ? { more: c.more } : {}),
  })),
);

describe('storage.bucket.enable-uniform-access once GCS has locked it', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('refuses undo once GCS has locked UBLA (90 days), without sending a patch', async () => {
    const asset = bucketAsset(BUCKET);
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const { before, after } = await applyFix(enableUniformAccess, asset, ctx);
    h.clock.advance(91 * DAY);
    const sent = patchCount(h);
    const undo = await enableUniformAccess.undo(asset, before, after, ctx);
    expect(undo).toEqual({ status: 'refused', reason: expect.stringContaining('locked since') });
    expect(patchCount(h)).toBe(sent);
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
    await applyFix(bucketAddRequiredLabels, asset, ctx);
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

/** The bucket's public members, as "role member" (GCS takes any casing of allUsers and allAuthenticatedUsers). */
const publicMembers = (a: Asset | undefined): string[] =>
  (a?.iamPolicy?.bindings ?? []).flatMap((b) =>
    b.members
      .filter((m) => ['allusers', 'allauthenticatedusers'].includes(m.toLowerCase()))
      .map((m) => `${b.role} ${m}`),
  );

function puts(h: TwinHarness): number {
  return h.twin.requests.filter((r) => r.method === 'PUT' && r.path === IAM_PATH).length;
}

describeActionContract([
  {
    title: 'a latent allUsers grant on a bucket whose public access prevention is enforced',
    action: bucketRemovePublicMembers as RemediationAction,
    asset: () => pressKit(),
    api: 'storage.googleapis.com',
    // The etag-guarded read-modify-write, keeping every other member and conditional binding.
    plan: (_run, plan) => {
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
      expect(bucketRemovePublicMembers.risk).toBe('low');
      expect(bucketRemovePublicMembers.reversible).toBe(true);
    },
    policyIds: ['storage-bucket-public-iam-members'],
    alsoPass: ['storage-bucket-public'],
    field: publicMembers,
    fixed: [],
    isWrite: request('PUT', IAM_PATH),
    untouched: (now, asset) => expect(now?.iamPolicy).toEqual(asset.iamPolicy),
    fix: {
      captured: (before, { asset }) => {
        // Latent: prevention already keeps the bucket private, so only the IAM policy finds it.
        expect(verdict('storage-bucket-public', asset)).toBe('pass');
        expect(before).toMatchObject({ bucket: PUBLIC_BUCKET, etag: 'BwZsicR3HbM=', version: 3 });
      },
      sent: ({ h }) => {
        expect(h.twin.requests.find((r) => r.method === 'PUT')).toMatchObject({
          path: IAM_PATH,
          body: { bindings: KEPT, etag: 'BwZsicR3HbM=', version: 3 },
        });
        expect(
          h.twin.requests
            .filter((r) => r.path === IAM_PATH && r.method === 'GET')
            .every((r) => r.query['optionsRequestedPolicyVersion'] === '3'),
        ).toBe(true);
      },
      live: (live, { h }) => {
        expect(live.iamPolicy?.bindings).toEqual(KEPT);
        expect((h.feed[0] as Record<string, unknown>)['asset']).toMatchObject({
          iamPolicy: { bindings: KEPT },
        });
      },
      feed: 1,
      // While prevention is enforced GCS would refuse the members back: undo refuses, sending nothing, until a
      // human lifts prevention (bucket metadata: the IAM policy and its etag stay).
      beforeUndo: async ({ h, ctx, asset, before, applied }) => {
        const after = applied.status === 'applied' ? applied.after : null;
        expect(await bucketRemovePublicMembers.undo(asset, before as BucketPolicyState, after, ctx)).toEqual({
          status: 'refused',
          reason: expect.stringContaining('public access prevention is enforced'),
        });
        expect(puts(h)).toBe(1);
        await (
          await h.cloud.storage()
        )
          .bucket(PUBLIC_BUCKET)
          .setMetadata({ iamConfiguration: { publicAccessPrevention: 'inherited' } });
      },
      // With prevention lifted, the members back are public access again (no longer latent).
      violatedAfterUndo: ['storage-bucket-public'],
      restored: async ({ ctx, asset, before }) => {
        const restored = (await bucketRemovePublicMembers.captureBefore(asset, ctx)) as BucketPolicyState;
        expect(restored.bindings).toEqual((before as BucketPolicyState).bindings);
        expect(restored.version).toBe(3);
      },
      undoTwice: 'refused',
    },
    conflict: {
      beforeWrite: {
        change: { at: { method: 'GET', pathPattern: IAM_PATH } },
        reason: 'changed since it was captured',
        stale: true,
        theirs: grantedToSomeoneElse,
      },
      atWrite: { at: { method: 'PUT' }, reason: '412', stale: true, theirs: grantedToSomeoneElse },
    },
    undoAfterChange: {
      change: { at: { method: 'GET', pathPattern: IAM_PATH } },
      reason: 'changed after the fix',
    },
    retryable: {
      unavailable: { at: { method: 'PUT' }, times: 1 },
      throttled: { at: { method: 'GET', pathPattern: IAM_PATH }, via: 'captureBefore' },
    },
    more: ({ start }) => {
      it('removes members whatever their casing', async () => {
        const asset = pressKit();
        asset.iamPolicy!.bindings = [
          { role: 'roles/storage.legacyBucketOwner', members: ['projectOwner:warden-demo'] },
          {
            role: 'roles/storage.objectViewer',
            members: ['AllUsers', 'ALLAUTHENTICATEDUSERS', 'group:allusers@example.com'],
          },
        ];
        const { h, ctx } = await start({}, asset);
        expect(verdict('storage-bucket-public-iam-members', asset)).toBe('violation');
        const before = await bucketRemovePublicMembers.captureBefore(asset, ctx);
        expect((await bucketRemovePublicMembers.apply(asset, before!, ctx)).status).toBe('applied');
        expect(h.twin.getAsset(PUBLIC_NAME)?.iamPolicy?.bindings).toEqual([
          { role: 'roles/storage.legacyBucketOwner', members: ['projectOwner:warden-demo'] },
          { role: 'roles/storage.objectViewer', members: ['group:allusers@example.com'] },
        ]);
      });

      it('surfaces a 400 from GCS as a permanent WardenError, the policy unchanged', async () => {
        // GCS refuses conditional bindings on a bucket without uniform bucket-level access: a 400, not retried.
        const noUbla = pressKit({ ubla: false });
        const { h, ctx } = await start({}, noUbla);
        const before = await bucketRemovePublicMembers.captureBefore(noUbla, ctx);
        const invalid = await rejection(bucketRemovePublicMembers.apply(noUbla, before!, ctx));
        expect(invalid).toBeInstanceOf(WardenError);
        expect((invalid as WardenError).retryable).toBe(false);
        expect((invalid as WardenError).message).toMatch(
          /setting the IAM policy of bucket press-kit: .*400.*uniform bucket-level access/,
        );
        expect(h.twin.getAsset(PUBLIC_NAME)?.iamPolicy).toEqual(noUbla.iamPolicy);
      });
    },
  },
]);
