import { afterEach, describe, expect, it } from '@jest/globals';
import { AssetSchema } from '../../shared/model/asset.js';
import { publicPolicy, SECRET, secretAsset, SECURITY_PROJECT } from './identity-fixtures.js';
import { startHarness, type TwinHarness } from './twin-fixtures.js';

const SECRET_NAME = `//secretmanager.googleapis.com/${SECRET}`;

interface Failure {
  code?: number;
  status?: number;
  message?: string;
}

async function failure(p: Promise<unknown>): Promise<Failure> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Failure,
  );
}

describe('twin: Secret Manager v1 secrets and their IAM policy', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('gets a secret by project number (as CAI names it), and 404s an unknown one', async () => {
    h = await startHarness([secretAsset()]);
    const secrets = await h.cloud.secretManager('SecretManagerServiceClient');
    const [secret] = await secrets.getSecret({ name: SECRET });
    expect(secret.name).toBe(SECRET);
    const missing = await failure(secrets.getSecret({ name: `projects/${SECURITY_PROJECT}/secrets/nope` }));
    expect(missing.code ?? missing.status).toBe(404);
    expect(missing.message).toContain('not found or has no versions');
  });

  it('reads the policy with the GET the client sends (options.requestedPolicyVersion in the query)', async () => {
    h = await startHarness([
      secretAsset(publicPolicy('roles/secretmanager.secretAccessor', 'roles/secretmanager.viewer')),
    ]);
    const secrets = await h.cloud.secretManager('SecretManagerServiceClient');
    const [v3] = await secrets.getIamPolicy({ resource: SECRET, options: { requestedPolicyVersion: 3 } });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: `/v1/${SECRET}:getIamPolicy`,
      query: { 'options.requestedPolicyVersion': '3' },
    });
    expect(v3.version).toBe(3);
    expect(v3.bindings?.[1]?.condition?.title).toBe('until-2030');
    const [v1] = await secrets.getIamPolicy({ resource: SECRET });
    expect(v1.bindings?.[1]?.role).toContain('_withcond_');
  });

  it('sets the policy with its etag and mask, publishes it, and answers 409 ABORTED to a stale etag', async () => {
    h = await startHarness([
      secretAsset(publicPolicy('roles/secretmanager.secretAccessor', 'roles/secretmanager.viewer')),
    ]);
    const secrets = await h.cloud.secretManager('SecretManagerServiceClient');
    const [policy] = await secrets.getIamPolicy({ resource: SECRET, options: { requestedPolicyVersion: 3 } });
    const bindings = [
      { role: 'roles/secretmanager.secretAccessor', members: ['group:gcp-security@example.com'] },
    ];
    const [set] = await secrets.setIamPolicy({
      resource: SECRET,
      policy: { version: 3, etag: policy.etag, bindings },
      updateMask: { paths: ['bindings', 'etag'] },
    });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `/v1/${SECRET}:setIamPolicy`,
      body: { updateMask: 'bindings,etag', policy: { version: 3, etag: 'BwYPGokQxSI=' } },
    });
    expect(set.bindings).toMatchObject(bindings);
    expect(h.feed).toHaveLength(1);
    expect(AssetSchema.parse((h.feed[0] as { asset: unknown }).asset).iamPolicy?.bindings).toEqual(bindings);

    const stale = await failure(
      secrets.setIamPolicy({ resource: SECRET, policy: { version: 3, etag: policy.etag } }),
    );
    expect(stale.code ?? stale.status).toBe(409);
    expect(h.twin.getAsset(SECRET_NAME)?.iamPolicy?.bindings).toEqual(bindings);
  });

  it('plays a concurrent change on the policy before a write', async () => {
    h = await startHarness([secretAsset()], {
      faults: [{ match: { pathPattern: ':setIamPolicy' }, concurrentModification: true, times: 1 }],
    });
    const secrets = await h.cloud.secretManager('SecretManagerServiceClient');
    const [policy] = await secrets.getIamPolicy({ resource: SECRET, options: { requestedPolicyVersion: 3 } });
    expect(Buffer.from(policy.etag as Uint8Array).toString('base64')).toBe('ACAB');
    const conflict = await failure(
      secrets.setIamPolicy({ resource: SECRET, policy: { version: 3, etag: policy.etag } }),
    );
    expect(conflict.code ?? conflict.status).toBe(409);
    expect(h.twin.getAsset(SECRET_NAME)?.iamPolicy?.bindings).toEqual([
      { role: 'roles/secretmanager.viewer', members: ['user:someone-else@example.com'] },
    ]);
  });
});
