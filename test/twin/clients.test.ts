import { afterEach, describe, expect, it } from '@jest/globals';
import { createCloudClients } from '../../shared/cloud/clients.js';
import { describeCloudError, isRetryableCloudError, toWardenError } from '../../shared/cloud/errors.js';
import { bucketAsset, firewallAsset, PROJECT_ID, startHarness, type TwinHarness } from './twin-fixtures.js';

describe('createCloudClients', () => {
  let h: TwinHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('builds each client once, on first use', async () => {
    h = await startHarness([bucketAsset('b'), firewallAsset('fw')]);
    const cloud = createCloudClients({ target: { kind: 'twin', url: h.twin.url, projectId: PROJECT_ID } });
    const [s1, s2] = await Promise.all([cloud.storage(), cloud.storage()]);
    expect(s1).toBe(s2);
    expect(await cloud.firewalls()).toBe(await cloud.firewalls());
    expect(await cloud.globalOperations()).not.toBe(await cloud.firewalls());
    expect(h.twin.requests).toHaveLength(0); // building a client calls nothing
    await cloud.close();
  });

  it('authenticates storage and gax calls to the twin with the dummy token only', async () => {
    h = await startHarness([bucketAsset('b'), firewallAsset('fw')]);
    await (await h.cloud.storage()).bucket('b').getMetadata();
    await (await h.cloud.firewalls()).get({ project: PROJECT_ID, firewall: 'fw' });
    for await (const _ of (await h.cloud.assets()).listAssetsAsync(
      { parent: `projects/${PROJECT_ID}` },
      { autoPaginate: false },
    )) {
      // listing is enough
    }
    expect(new Set(h.twin.requests.map((r) => r.authorization))).toEqual(
      new Set(['Bearer warden-twin-token']),
    );
    expect(h.twin.requests.map((r) => r.path)).toEqual([
      '/storage/v1/b/b',
      `/compute/v1/projects/${PROJECT_ID}/global/firewalls/fw`,
      `/v1/projects/${PROJECT_ID}/assets`,
    ]);
  });
});

describe('cloud error classification', () => {
  it('reads HTTP statuses from storage ApiErrors and GaxiosErrors, gRPC codes from GoogleErrors', () => {
    const storage404 = Object.assign(new Error('The specified bucket does not exist.'), {
      code: 404,
      errors: [{ reason: 'notFound' }],
    });
    expect(describeCloudError(storage404)).toEqual({
      httpStatus: 404,
      status: 'NOT_FOUND',
      message: 'The specified bucket does not exist.',
      reason: 'notFound',
    });
    const gaxios503 = Object.assign(
      new Error(
        JSON.stringify({ error: { code: 503, message: 'Service Unavailable.', status: 'UNAVAILABLE' } }),
      ),
      { status: 503, code: 503 },
    );
    expect(describeCloudError(gaxios503)).toMatchObject({
      httpStatus: 503,
      status: 'UNAVAILABLE',
      message: 'Service Unavailable.',
    });
    const grpcDeadline = Object.assign(new Error('deadline'), { code: 4 });
    expect(describeCloudError(grpcDeadline).status).toBe('DEADLINE_EXCEEDED');
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

    expect(isRetryableCloudError(describeCloudError(gaxios503))).toBe(true);
    expect(isRetryableCloudError(describeCloudError(grpcDeadline))).toBe(true);
    expect(isRetryableCloudError(describeCloudError(refused))).toBe(true);
    expect(isRetryableCloudError(describeCloudError(storage404))).toBe(false);
    for (const code of [400, 403, 404, 412]) {
      expect(toWardenError(Object.assign(new Error('x'), { code }), 'doing').retryable).toBe(false);
    }
    for (const code of [429, 500, 503]) {
      expect(toWardenError(Object.assign(new Error('x'), { code }), 'doing').retryable).toBe(true);
    }
    expect(toWardenError(gaxios503, 'patching').code).toBe('UNAVAILABLE');
  });
});
