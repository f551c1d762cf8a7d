import { afterEach, describe, expect, it } from '@jest/globals';
import { AssetSchema } from '../../shared/model/asset.js';
import { isGaxPath } from '../../shared/twin/api-shapes.js';
import {
  KEY_ID,
  KEY_NAME,
  KEY_PATH,
  SA_EMAIL,
  SA_UNIQUE_ID,
  serviceAccountKeyAsset,
} from './iam-admin-fixtures.js';
import { PROJECT_ID, PROJECT_NUMBER, startHarness, type TwinHarness } from './twin-fixtures.js';

const ASSET_NAME = serviceAccountKeyAsset().name;

/** One raw call, to see exactly what the twin answers (status and body). */
async function call(
  h: TwinHarness,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${h.twin.url}${path}`, {
    method,
    headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function googleError(code: number, status: string, message: RegExp | string): unknown {
  const m = typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message);
  return {
    error: {
      code,
      status,
      message: m,
      errors: [{ domain: 'global', reason: expect.any(String), message: m }],
    },
  };
}

describe('twin: IAM Admin v1 service account keys', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('gets a key by email or unique id, project id or number, as REST renders it (no public key by default)', async () => {
    h = await startHarness([serviceAccountKeyAsset()]);
    const iamAdmin = await h.cloud.iamAdmin();
    const key = await iamAdmin.getServiceAccountKey(KEY_NAME);
    const { publicKeyData: _public, ...rest } = serviceAccountKeyAsset().resource?.data ?? {};
    expect(key).toEqual(rest);
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'GET', path: KEY_PATH, query: {} });
    for (const name of [
      `projects/${PROJECT_ID}/serviceAccounts/${SA_UNIQUE_ID}/keys/${KEY_ID}`,
      `projects/${PROJECT_NUMBER}/serviceAccounts/${SA_EMAIL}/keys/${KEY_ID}`,
    ]) {
      expect(await iamAdmin.getServiceAccountKey(name)).toEqual(rest);
    }
    const withKey = await call(h, 'GET', `${KEY_PATH}?publicKeyType=TYPE_X509_PEM_FILE`);
    expect(withKey.body['publicKeyData']).toBe(serviceAccountKeyAsset().resource?.data['publicKeyData']);
  });

  it('answers enum names and leaves a false `disabled` out, whatever spelling CAI kept', async () => {
    h = await startHarness([
      serviceAccountKeyAsset({
        keyType: 1,
        keyOrigin: 2,
        keyAlgorithm: 2,
        privateKeyType: 2,
        disabled: false,
      }),
    ]);
    const { body } = await call(h, 'GET', KEY_PATH);
    expect(body).toMatchObject({
      keyType: 'USER_MANAGED',
      keyOrigin: 'GOOGLE_PROVIDED',
      keyAlgorithm: 'KEY_ALG_RSA_2048',
      privateKeyType: 'TYPE_GOOGLE_CREDENTIALS_FILE',
    });
    expect(body).not.toHaveProperty('disabled');
  });

  it("answers 404 NOT_FOUND in Google's error shape for an unknown key, and 403 under the `-` wildcard", async () => {
    h = await startHarness([serviceAccountKeyAsset()]);
    const other = `/v1/projects/${PROJECT_ID}/serviceAccounts/${SA_EMAIL}/keys/0000000000aaaa`;
    expect(await call(h, 'GET', other)).toEqual({
      status: 404,
      body: googleError(404, 'NOT_FOUND', 'does not exist'),
    });
    expect((await call(h, 'POST', `${other}:disable`, {})).status).toBe(404);
    const wildcard = `/v1/projects/-/serviceAccounts/${SA_EMAIL}/keys/0000000000aaaa`;
    expect(await call(h, 'GET', wildcard)).toEqual({
      status: 403,
      body: googleError(403, 'PERMISSION_DENIED', "Permission 'iam.serviceAccountKeys.get' denied"),
    });
    // The wildcard still finds a key that exists.
    expect((await call(h, 'GET', `/v1/projects/-/serviceAccounts/${SA_EMAIL}/keys/${KEY_ID}`)).status).toBe(
      200,
    );
    // And the client's own errors read as Google's.
    const iamAdmin = await h.cloud.iamAdmin();
    await expect(iamAdmin.getServiceAccountKey(other.slice('/v1/'.length))).rejects.toMatchObject({
      status: 404,
    });
  });

  it('answers 400 INVALID_ARGUMENT to a malformed name, query or body', async () => {
    h = await startHarness([serviceAccountKeyAsset()]);
    const badAccount = `/v1/projects/${PROJECT_ID}/serviceAccounts/ci-deployer/keys/${KEY_ID}`;
    expect(await call(h, 'GET', badAccount)).toEqual({
      status: 400,
      body: googleError(400, 'INVALID_ARGUMENT', 'Invalid form of account ID ci-deployer'),
    });
    expect((await call(h, 'GET', `${KEY_PATH}?publicKeyType=PEM`)).status).toBe(400);
    expect((await call(h, 'GET', `${KEY_PATH}?keyTypes=USER_MANAGED`)).status).toBe(400);
    expect((await call(h, 'POST', `${KEY_PATH}:disable`, { disabled: true })).status).toBe(400);
    expect(
      (await call(h, 'POST', `${KEY_PATH}:disable`, { serviceAccountKeyDisableReason: 'NOPE' })).status,
    ).toBe(400);
    expect((await call(h, 'POST', `${KEY_PATH}:enable`, { name: KEY_NAME })).status).toBe(400);
    expect(h.twin.getAsset(ASSET_NAME)).toEqual(AssetSchema.parse(serviceAccountKeyAsset()));
    expect(h.feed).toHaveLength(0);
    // Not a gax path: the JSON-API surface validates it, not the protos of some client.
    expect(isGaxPath(KEY_PATH)).toBe(false);
  });

  it('disables with {} (reason USER_INITIATED) and publishes the change; disabling again is a no-op success', async () => {
    h = await startHarness([serviceAccountKeyAsset()]);
    const iamAdmin = await h.cloud.iamAdmin();
    await iamAdmin.disableServiceAccountKey(KEY_NAME);
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'POST', path: `${KEY_PATH}:disable`, body: {} });
    expect(h.twin.requests.at(-1)?.status).toBe(200);
    expect(await iamAdmin.getServiceAccountKey(KEY_NAME)).toMatchObject({
      disabled: true,
      disableReason: 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED',
    });
    expect(h.feed).toHaveLength(1);
    expect(h.feed[0]).toMatchObject({
      asset: { name: ASSET_NAME, resource: { data: { disabled: true } } },
      priorAsset: { name: ASSET_NAME, resource: { data: { keyType: 'USER_MANAGED' } } },
      priorAssetState: 'PRESENT',
      window: { startTime: '2026-03-01T09:00:00.000Z' },
    });
    expect(AssetSchema.safeParse((h.feed[0] as { asset: unknown }).asset).success).toBe(true);

    expect(await call(h, 'POST', `${KEY_PATH}:disable`, {})).toEqual({ status: 200, body: {} });
    expect(h.feed).toHaveLength(1);
  });

  it('enables again to exactly the exported state; enabling an enabled key changes nothing', async () => {
    h = await startHarness([serviceAccountKeyAsset()]);
    expect((await call(h, 'POST', `${KEY_PATH}:disable`, {})).status).toBe(200);
    expect(await call(h, 'POST', `${KEY_PATH}:enable`, {})).toEqual({ status: 200, body: {} });
    expect(h.twin.getAsset(ASSET_NAME)?.resource?.data).toEqual(serviceAccountKeyAsset().resource?.data);
    expect(h.feed).toHaveLength(2);
    expect((await call(h, 'POST', `${KEY_PATH}:enable`)).status).toBe(200);
    expect(h.feed).toHaveLength(2);
  });

  it('refuses to disable a SYSTEM_MANAGED key (400 FAILED_PRECONDITION), changing nothing', async () => {
    h = await startHarness([serviceAccountKeyAsset({ keyType: 'SYSTEM_MANAGED' })]);
    expect(await call(h, 'POST', `${KEY_PATH}:disable`, {})).toEqual({
      status: 400,
      body: googleError(400, 'FAILED_PRECONDITION', 'system-managed'),
    });
    expect(h.feed).toHaveLength(0);
  });

  it('injects faults: a 503 in Google’s shape, and someone else flagging the key as exposed', async () => {
    h = await startHarness([serviceAccountKeyAsset()], {
      faults: [{ match: { method: 'POST', pathPattern: ':disable' }, errorStatus: 503, times: 1 }],
    });
    expect(await call(h, 'POST', `${KEY_PATH}:disable`, {})).toEqual({
      status: 503,
      body: googleError(503, 'UNAVAILABLE', 'fault injected'),
    });
    expect(h.twin.getAsset(ASSET_NAME)?.resource?.data['disabled']).toBeUndefined();

    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: KEY_PATH }, concurrentModification: true, times: 1 },
    ]);
    const { body } = await call(h, 'GET', KEY_PATH);
    expect(body['extendedStatus']).toEqual([
      { key: 'SERVICE_ACCOUNT_KEY_EXTENDED_STATUS_KEY_EXPOSED', value: 'someone-else-1' },
    ]);
    expect(body).not.toHaveProperty('disabled');
    expect(h.feed).toHaveLength(1);
  });
});
