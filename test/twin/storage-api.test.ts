import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { AssetSchema } from '../../shared/model/asset.js';
import { TWIN_ACCESS_TOKEN } from '../../shared/cloud/clients.js';
import { bucketAsset, startHarness, type TwinHarness } from './twin-fixtures.js';

const BUCKET = 'logs-bucket';
const NAME = `//storage.googleapis.com/${BUCKET}`;

function statusOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

describe('twin: Cloud Storage JSON API through @google-cloud/storage', () => {
  let h: TwinHarness;
  beforeEach(async () => {
    h = await startHarness([bucketAsset(BUCKET)]);
  });
  afterEach(async () => {
    await h.close();
  });

  it('serves buckets.get with the JSON API encoding and a bearer token from the dummy client', async () => {
    const storage = await h.cloud.storage();
    const [meta] = await storage.bucket(BUCKET).getMetadata();
    expect(meta.metageneration).toBe('2'); // int64 as a string, while CAI data holds the number 2
    expect(meta.etag).toBe('CAI=');
    expect(meta.projectNumber).toBe('123456789012');
    expect(meta.iamConfiguration).toEqual({
      uniformBucketLevelAccess: { enabled: false },
      bucketPolicyOnly: { enabled: false },
      publicAccessPrevention: 'inherited',
    });
    expect(meta.acl).toBeUndefined(); // default projection noAcl
    const [full] = await storage.bucket(BUCKET).getMetadata({ projection: 'full' });
    expect(full.acl).toEqual([]);

    expect(h.twin.requests.map((r) => [r.method, r.path, r.authorization])).toEqual([
      ['GET', `/storage/v1/b/${BUCKET}`, `Bearer ${TWIN_ACCESS_TOKEN}`],
      ['GET', `/storage/v1/b/${BUCKET}`, `Bearer ${TWIN_ACCESS_TOKEN}`],
    ]);
    expect(h.twin.requests[1]?.query).toEqual({ projection: 'full' });
  });

  it('patches with merge semantics, bumps metageneration/etag/updated and publishes one RESOURCE feed message', async () => {
    const storage = await h.cloud.storage();
    h.clock.advance(60_000);
    const [meta] = await storage
      .bucket(BUCKET)
      .setMetadata({ labels: { env: 'prod', team: null } }, { ifMetagenerationMatch: 2 });
    expect(meta.labels).toEqual({ env: 'prod' });
    expect(meta.metageneration).toBe('3');
    expect(meta.etag).toBe('CAM=');
    expect(meta.updated).toBe('2026-03-01T09:01:00.000Z');
    expect(meta.storageClass).toBe('STANDARD'); // untouched fields stay
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: `/storage/v1/b/${BUCKET}`,
      query: { ifMetagenerationMatch: '2' },
      body: { labels: { env: 'prod', team: null } },
    });

    expect(h.feed).toHaveLength(1);
    const msg = h.feed[0] as Record<string, unknown>;
    expect(Object.keys(msg).sort()).toEqual(['asset', 'priorAsset', 'priorAssetState', 'window']);
    expect(msg['priorAssetState']).toBe('PRESENT');
    expect(msg['window']).toEqual({ startTime: '2026-03-01T09:01:00.000Z' });
    const asset = AssetSchema.parse(msg['asset']);
    const prior = AssetSchema.parse(msg['priorAsset']);
    expect(asset.iamPolicy).toBeUndefined(); // a RESOURCE feed carries no IAM
    expect(asset.resource?.data['labels']).toEqual({ env: 'prod' });
    expect(asset.resource?.data['metageneration']).toBe(3);
    expect(asset.updateTime).toBe('2026-03-01T09:01:00.000Z');
    expect(prior.resource?.data['labels']).toEqual({ team: 'data' });
    expect(prior.updateTime).toBe('2024-03-01T10:15:30.123456Z');
  });

  it('answers a stale ifMetagenerationMatch with 412 conditionNotMet and changes nothing', async () => {
    const storage = await h.cloud.storage();
    const err = await storage
      .bucket(BUCKET)
      .setMetadata({ labels: { env: 'prod' } }, { ifMetagenerationMatch: 1 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusOf(err)).toBe(412);
    expect((err as { errors?: Array<{ reason: string }> }).errors?.[0]?.reason).toBe('conditionNotMet');
    expect(h.twin.getAsset(NAME)?.resource?.data['metageneration']).toBe(2);
    expect(h.feed).toHaveLength(0);
  });

  it('enables UBLA with a lockedTime 90 days ahead, mirrors bucketPolicyOnly, and refuses to disable it after', async () => {
    const storage = await h.cloud.storage();
    const [on] = await storage
      .bucket(BUCKET)
      .setMetadata({ iamConfiguration: { uniformBucketLevelAccess: { enabled: true } } });
    expect(on.iamConfiguration?.uniformBucketLevelAccess).toEqual({
      enabled: true,
      lockedTime: '2026-05-30T09:00:00.000Z',
    });
    // @google-cloud/storage's types omit the legacy alias; the API still returns it.
    const legacy = (on.iamConfiguration as Record<string, unknown> | undefined)?.['bucketPolicyOnly'];
    expect(legacy).toEqual(on.iamConfiguration?.uniformBucketLevelAccess);
    expect(on.iamConfiguration?.publicAccessPrevention).toBe('inherited');

    h.clock.advance(91 * 24 * 3600 * 1000);
    const err = await storage
      .bucket(BUCKET)
      .setMetadata({ iamConfiguration: { bucketPolicyOnly: { enabled: false } } } as Record<string, unknown>)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusOf(err)).toBe(400);
  });

  it('lets UBLA be disabled within 90 days, removing lockedTime', async () => {
    const storage = await h.cloud.storage();
    await storage
      .bucket(BUCKET)
      .setMetadata({ iamConfiguration: { uniformBucketLevelAccess: { enabled: true } } });
    h.clock.advance(10 * 24 * 3600 * 1000);
    const [off] = await storage
      .bucket(BUCKET)
      .setMetadata({ iamConfiguration: { uniformBucketLevelAccess: { enabled: false } } });
    expect(off.iamConfiguration?.uniformBucketLevelAccess).toEqual({ enabled: false });
  });

  it('rejects an invalid body with 400 in Google error format', async () => {
    const storage = await h.cloud.storage();
    const err = await storage
      .bucket(BUCKET)
      .setMetadata({ iamConfiguration: { publicAccessPrevention: 'sometimes' } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusOf(err)).toBe(400);
    expect((err as Error).message).toContain('iamConfiguration.publicAccessPrevention');
  });

  it('returns 404 notFound for an unknown bucket', async () => {
    const storage = await h.cloud.storage();
    const err = await storage
      .bucket('nope')
      .getMetadata()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusOf(err)).toBe(404);
  });

  it('reads and writes the bucket IAM policy with etag preconditions and publishes an IAM_POLICY message', async () => {
    const storage = await h.cloud.storage();
    const [policy] = await storage.bucket(BUCKET).iam.getPolicy({ requestedPolicyVersion: 3 });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: `/storage/v1/b/${BUCKET}/iam`,
      query: { optionsRequestedPolicyVersion: '3' },
    });
    expect(policy.version).toBe(1);
    expect(policy.etag).toMatch(/^C[A-Za-z0-9+/]+=*$/);
    expect(policy.bindings.map((b) => b.role)).toEqual([
      'roles/storage.legacyBucketOwner',
      'roles/storage.objectViewer',
    ]);

    const withoutPublic = {
      ...policy,
      bindings: policy.bindings.filter((b) => !b.members.includes('allUsers')),
    };
    h.clock.advance(1000);
    const [written] = await storage.bucket(BUCKET).iam.setPolicy(withoutPublic);
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'PUT', path: `/storage/v1/b/${BUCKET}/iam` });
    expect(written.etag).not.toBe(policy.etag);
    expect(written.version).toBe(1);
    expect(written.bindings).toHaveLength(1);

    // The old etag is stale now: the write is refused and nothing changes.
    const err = await storage
      .bucket(BUCKET)
      .iam.setPolicy(policy)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusOf(err)).toBe(412);
    expect(h.twin.getAsset(NAME)?.iamPolicy?.bindings).toHaveLength(1);

    expect(h.feed).toHaveLength(1);
    const msg = h.feed[0] as Record<string, unknown>;
    const asset = AssetSchema.parse(msg['asset']);
    expect(asset.resource).toBeUndefined(); // an IAM_POLICY feed carries no resource
    expect(asset.iamPolicy?.bindings).toEqual([
      { role: 'roles/storage.legacyBucketOwner', members: ['projectOwner:warden-demo'] },
    ]);
    expect(AssetSchema.parse(msg['priorAsset']).iamPolicy?.bindings).toHaveLength(2);
    expect(msg['window']).toEqual({ startTime: '2026-03-01T09:00:01.000Z' });
  });

  it('requires version 3 and uniform bucket-level access for conditional bindings', async () => {
    const storage = await h.cloud.storage();
    const [policy] = await storage.bucket(BUCKET).iam.getPolicy({ requestedPolicyVersion: 3 });
    const conditional = {
      role: 'roles/storage.objectViewer',
      members: ['group:auditors@example.com'],
      condition: { title: 'until 2027', expression: 'request.time < timestamp("2027-01-01T00:00:00Z")' },
    };
    // GCS: IAM Conditions on a bucket need uniform bucket-level access on.
    const withoutUbla = await storage
      .bucket(BUCKET)
      .iam.setPolicy({ ...policy, version: 3, bindings: [...policy.bindings, conditional] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusOf(withoutUbla)).toBe(400);
    expect((withoutUbla as Error).message).toContain('uniform bucket-level access');
    await storage
      .bucket(BUCKET)
      .setMetadata({ iamConfiguration: { uniformBucketLevelAccess: { enabled: true } } });

    const v1 = await storage
      .bucket(BUCKET)
      .iam.setPolicy({ ...policy, bindings: [...policy.bindings, conditional] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusOf(v1)).toBe(400);

    await storage
      .bucket(BUCKET)
      .iam.setPolicy({ ...policy, version: 3, bindings: [...policy.bindings, conditional] });
    const readV1 = await storage
      .bucket(BUCKET)
      .iam.getPolicy()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusOf(readV1)).toBe(400);
    const [v3] = await storage.bucket(BUCKET).iam.getPolicy({ requestedPolicyVersion: 3 });
    expect(v3.version).toBe(3);
    expect(v3.bindings.at(-1)?.condition).toEqual(conditional.condition);
  });

  it('rejects calls without a bearer token and unknown paths, in Google JSON error format', async () => {
    const anonymous = await fetch(`${h.twin.url}/storage/v1/b/${BUCKET}`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({
      error: {
        code: 401,
        message: expect.any(String),
        status: 'UNAUTHENTICATED',
        errors: [{ domain: 'global', reason: 'required', message: expect.any(String) }],
      },
    });
    const unknown = await fetch(`${h.twin.url}/storage/v1/b/${BUCKET}/o`, {
      headers: { authorization: 'Bearer x' },
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      'does not implement',
    );
  });
});

describe('twin: the bucket fields the storage remediations write', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  const failureOf = (p: Promise<unknown>): Promise<unknown> =>
    p.then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e,
    );

  it('labels: a patch merges key by key (null removes), invalid keys and more than 64 labels answer 400', async () => {
    h = await startHarness([bucketAsset(BUCKET)]);
    const bucket = (await h.cloud.storage()).bucket(BUCKET);
    const [meta] = await bucket.setMetadata({ labels: { env: 'unassigned' } }, { ifMetagenerationMatch: 2 });
    expect(meta.labels).toEqual({ team: 'data', env: 'unassigned' });
    const [removed] = await bucket.setMetadata({ labels: { env: null } }, { ifMetagenerationMatch: 3 });
    expect(removed.labels).toEqual({ team: 'data' });

    const badKey = await failureOf(bucket.setMetadata({ labels: { Env: 'x' } }));
    expect(statusOf(badKey)).toBe(400);
    expect((badKey as Error).message).toContain('resource.labels.Env');
    const badValue = await failureOf(bucket.setMetadata({ labels: { env: 'Prod' } }));
    expect(statusOf(badValue)).toBe(400);
    const many = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v']));
    expect(statusOf(await failureOf(bucket.setMetadata({ labels: many })))).toBe(400);
    expect(h.twin.getAsset(NAME)?.resource?.data['labels']).toEqual({ team: 'data' });
  });

  it('storageClass: any case in, capitals out; a legacy class only where the location type allows it', async () => {
    const legacy = bucketAsset('legacy');
    Object.assign(legacy.resource!.data, {
      location: 'US',
      locationType: 'multi-region',
      storageClass: 'MULTI_REGIONAL',
    });
    h = await startHarness([legacy]);
    const bucket = (await h.cloud.storage()).bucket('legacy');
    const [std] = await bucket.setMetadata({ storageClass: 'standard' }, { ifMetagenerationMatch: 2 });
    expect(std.storageClass).toBe('STANDARD');
    expect(h.twin.requests.at(-1)?.body).toEqual({ storageClass: 'standard' });
    // Back to the legacy class: allowed in a multi-region.
    const [back] = await bucket.setMetadata({ storageClass: 'MULTI_REGIONAL' });
    expect(back.storageClass).toBe('MULTI_REGIONAL');

    const regional = await failureOf(bucket.setMetadata({ storageClass: 'REGIONAL' }));
    expect(statusOf(regional)).toBe(400);
    expect((regional as Error).message).toContain('locationConstraint and storageClass');
    expect(statusOf(await failureOf(bucket.setMetadata({ storageClass: 'HOT' })))).toBe(400);
    expect(h.twin.getAsset('//storage.googleapis.com/legacy')?.resource?.data['storageClass']).toBe(
      'MULTI_REGIONAL',
    );
    expect(h.feed).toHaveLength(2);
  });

  it('softDeletePolicy: int64 as a string, effectiveTime set by GCS, 0 or 7 to 90 days only', async () => {
    const off = bucketAsset('off');
    off.resource!.data['softDeletePolicy'] = { retentionDurationSeconds: 0 };
    h = await startHarness([off]);
    const bucket = (await h.cloud.storage()).bucket('off');
    const [before] = await bucket.getMetadata();
    expect(before.softDeletePolicy).toEqual({ retentionDurationSeconds: '0' });

    h.clock.advance(1000);
    const [on] = await bucket.setMetadata(
      { softDeletePolicy: { retentionDurationSeconds: '604800' } },
      { ifMetagenerationMatch: 2 },
    );
    expect(on.softDeletePolicy).toEqual({
      retentionDurationSeconds: '604800',
      effectiveTime: '2026-03-01T09:00:01.000Z',
    });
    const tooShort = await failureOf(
      bucket.setMetadata({ softDeletePolicy: { retentionDurationSeconds: '86400' } }),
    );
    expect(statusOf(tooShort)).toBe(400);
    expect((tooShort as Error).message).toContain('retentionDurationSeconds');
    const tooLong = await failureOf(
      bucket.setMetadata({ softDeletePolicy: { retentionDurationSeconds: String(91 * 86400) } }),
    );
    expect(statusOf(tooLong)).toBe(400);

    const [offAgain] = await bucket.setMetadata({ softDeletePolicy: { retentionDurationSeconds: 0 } });
    expect(offAgain.softDeletePolicy).toEqual({ retentionDurationSeconds: '0' });
    expect(h.twin.getAsset('//storage.googleapis.com/off')?.resource?.data['softDeletePolicy']).toEqual({
      retentionDurationSeconds: '0',
    });
  });

  it('setIamPolicy: public members answer 412 conditionNotMet while public access prevention is enforced', async () => {
    h = await startHarness([bucketAsset(BUCKET, { pap: 'enforced' })]);
    const bucket = (await h.cloud.storage()).bucket(BUCKET);
    const [policy] = await bucket.iam.getPolicy({ requestedPolicyVersion: 3 });
    // The grant made before prevention was enforced is still there (blocked, not removed).
    expect(policy.bindings.some((b) => b.members.includes('allUsers'))).toBe(true);

    const keep = await failureOf(
      bucket.iam.setPolicy({
        ...policy,
        bindings: [
          ...policy.bindings,
          { role: 'roles/storage.objectViewer', members: ['allAuthenticatedUsers'] },
        ],
      }),
    );
    expect(statusOf(keep)).toBe(412);
    expect((keep as { errors?: Array<{ reason: string }> }).errors?.[0]?.reason).toBe('conditionNotMet');
    expect((keep as Error).message).toContain('public access prevention is enforced');
    expect(h.feed).toHaveLength(0);

    const [written] = await bucket.iam.setPolicy({
      ...policy,
      bindings: policy.bindings.filter((b) => !b.members.includes('allUsers')),
    });
    expect(written.bindings.map((b) => b.role)).toEqual(['roles/storage.legacyBucketOwner']);
    expect(h.feed).toHaveLength(1);
  });
});
