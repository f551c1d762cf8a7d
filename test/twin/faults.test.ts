import { afterEach, describe, expect, it } from '@jest/globals';
import { seededRng, type FaultRule } from '../../shared/twin/faults.js';
import { bucketAsset, firewallAsset, PROJECT_ID, startHarness, type TwinHarness } from './twin-fixtures.js';

const BUCKET = 'faulty';
const NAME = `//storage.googleapis.com/${BUCKET}`;

async function statusOfGet(h: TwinHarness): Promise<number> {
  const storage = await h.cloud.storage();
  return storage
    .bucket(BUCKET)
    .getMetadata()
    .then(
      () => 200,
      (e: unknown) => (e as { code: number }).code,
    );
}

describe('twin: fault injection', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('draws errorRate from the injected seeded rng, so a run repeats exactly', async () => {
    const rule: FaultRule = { match: { method: 'GET' }, errorStatus: 503, errorRate: 0.5 };
    const run = async (): Promise<number[]> => {
      h = await startHarness([bucketAsset(BUCKET)], { faults: [rule], rng: seededRng(42) });
      const out: number[] = [];
      for (let i = 0; i < 12; i += 1) out.push(await statusOfGet(h));
      await h.close();
      return out;
    };
    const first = await run();
    const second = await run();
    expect(second).toEqual(first);
    expect(first).toContain(503);
    expect(first).toContain(200);
    h = await startHarness([bucketAsset(BUCKET)]); // for afterEach
  });

  it('stops after `times` matched calls and leaves other paths alone', async () => {
    h = await startHarness([bucketAsset(BUCKET), bucketAsset('other')], {
      faults: [{ match: { pathPattern: `/b/${BUCKET}` }, errorStatus: 429, times: 2 }],
    });
    const storage = await h.cloud.storage();
    await expect(storage.bucket('other').getMetadata()).resolves.toBeDefined();
    expect([await statusOfGet(h), await statusOfGet(h), await statusOfGet(h)]).toEqual([429, 429, 200]);
  });

  it('lets the storage client ride out a single 503 with its own retry', async () => {
    h = await startHarness([bucketAsset(BUCKET)], {
      storageAutoRetry: true,
      faults: [{ match: { method: 'GET' }, errorStatus: 503, times: 1 }],
    });
    expect(await statusOfGet(h)).toBe(200);
    expect(h.twin.requests.filter((r) => r.path === `/storage/v1/b/${BUCKET}`)).toHaveLength(2);
  });

  it('delays a call by latencyMs', async () => {
    h = await startHarness([bucketAsset(BUCKET)], { faults: [{ match: {}, latencyMs: 150 }] });
    const t0 = Date.now();
    expect(await statusOfGet(h)).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('plays a concurrent change on a bucket just before the call, so a metageneration guard fails', async () => {
    h = await startHarness([bucketAsset(BUCKET)], {
      faults: [{ match: { method: 'PATCH' }, concurrentModification: true, times: 1 }],
    });
    const storage = await h.cloud.storage();
    const err = await storage
      .bucket(BUCKET)
      .setMetadata({ labels: { mine: 'yes' } }, { ifMetagenerationMatch: 2 })
      .then(
        () => undefined,
        (e: unknown) => e as { code: number },
      );
    expect(err?.code).toBe(412);
    const data = h.twin.getAsset(NAME)?.resource?.data ?? {};
    expect(data['metageneration']).toBe(3);
    expect(data['labels']).toEqual({ team: 'data', 'changed-by': 'someone-else-3' });
    expect(h.feed).toHaveLength(1); // the other party's change is a change like any other
  });

  it('plays a concurrent change on a bucket IAM policy, so an etag guard fails', async () => {
    h = await startHarness([bucketAsset(BUCKET)]);
    const storage = await h.cloud.storage();
    const [policy] = await storage.bucket(BUCKET).iam.getPolicy({ requestedPolicyVersion: 3 });
    h.twin.setFaults([{ match: { method: 'PUT', pathPattern: /\/iam$/ }, concurrentModification: true }]);
    const err = await storage
      .bucket(BUCKET)
      .iam.setPolicy({ ...policy, bindings: [] })
      .then(
        () => undefined,
        (e: unknown) => e as { code: number },
      );
    expect(err?.code).toBe(412);
    expect(h.twin.getAsset(NAME)?.iamPolicy?.bindings.map((b) => b.members[0])).toEqual([
      'projectOwner:warden-demo',
      'allUsers',
      'user:someone-else@example.com',
    ]);
  });

  it('plays a concurrent change on a firewall rule (no fingerprint: the change shows on the next read)', async () => {
    h = await startHarness([firewallAsset('fw')], {
      faults: [
        { match: { method: 'GET', pathPattern: /firewalls\/fw$/ }, concurrentModification: true, times: 1 },
      ],
    });
    const client = await h.cloud.firewalls();
    const [first] = await client.get({ project: PROJECT_ID, firewall: 'fw' });
    const [second] = await client.get({ project: PROJECT_ID, firewall: 'fw' });
    expect(first.description).toBe('changed by someone else (1)');
    expect(second.description).toBe(first.description);
  });
});
