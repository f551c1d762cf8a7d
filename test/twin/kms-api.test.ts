import { afterEach, describe, expect, it } from '@jest/globals';
import { AssetSchema } from '../../shared/model/asset.js';
import {
  CRYPTO_KEY,
  cryptoKeyAsset,
  KEY_RING,
  keyRingAsset,
  publicPolicy,
  SIGNING_KEY,
  signingKeyAsset,
} from './identity-fixtures.js';
import { startHarness, type TwinHarness } from './twin-fixtures.js';

const KEY_NAME = `//cloudkms.googleapis.com/${CRYPTO_KEY}`;
const AT = '2026-05-30T09:00:00Z';

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

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

describe('twin: Cloud KMS v1 key rings and crypto keys', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('gets a crypto key, and answers 404 NOT_FOUND for an unknown one', async () => {
    h = await startHarness([cryptoKeyAsset(), keyRingAsset()]);
    const kms = await h.cloud.kms('KeyManagementServiceClient');
    const [key] = await kms.getCryptoKey({ name: CRYPTO_KEY });
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/${CRYPTO_KEY}` });
    expect(key).toMatchObject({ name: CRYPTO_KEY, purpose: 'ENCRYPT_DECRYPT' });
    expect(key.rotationPeriod ?? undefined).toBeUndefined();
    const [ring] = await kms.getKeyRing({ name: KEY_RING });
    expect(ring.name).toBe(KEY_RING);
    const missing = await failure(kms.getCryptoKey({ name: `${KEY_RING}/cryptoKeys/nope` }));
    expect(missing.code ?? missing.status).toBe(404);
    expect(missing.message).toContain(`CryptoKey ${KEY_RING}/cryptoKeys/nope not found.`);
  });

  it('patches the rotation through updateMask, stores it as REST spells it, and publishes the change', async () => {
    h = await startHarness([cryptoKeyAsset()]);
    const kms = await h.cloud.kms('KeyManagementServiceClient');
    const [key] = await kms.updateCryptoKey({
      cryptoKey: {
        name: CRYPTO_KEY,
        rotationPeriod: { seconds: 7_776_000 },
        nextRotationTime: { seconds: seconds(AT) },
      },
      updateMask: { paths: ['rotationPeriod', 'nextRotationTime'] },
    });
    // What @google-cloud/kms sends: the mask in the query, the Duration and Timestamp as JSON strings, and
    // an empty labels map of its own (outside the mask: ignored).
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: `/v1/${CRYPTO_KEY}`,
      query: { updateMask: 'rotationPeriod,nextRotationTime' },
      body: { rotationPeriod: '7776000s', nextRotationTime: '2026-05-30T09:00:00.000Z', labels: {} },
    });
    expect(key.rotationPeriod).toMatchObject({ seconds: '7776000' });
    const data = h.twin.getAsset(KEY_NAME)?.resource?.data ?? {};
    expect(data).toMatchObject({
      rotationPeriod: '7776000s',
      nextRotationTime: AT,
      purpose: 'ENCRYPT_DECRYPT',
    });
    expect(h.feed).toHaveLength(1);
    expect(AssetSchema.parse((h.feed[0] as { asset: unknown }).asset).resource?.data['rotationPeriod']).toBe(
      '7776000s',
    );

    // A masked field absent from the body is cleared.
    await kms.updateCryptoKey({
      cryptoKey: { name: CRYPTO_KEY },
      updateMask: { paths: ['rotation_period', 'next_rotation_time'] },
    });
    const cleared = h.twin.getAsset(KEY_NAME)?.resource?.data ?? {};
    expect(cleared).not.toHaveProperty('rotationPeriod');
    expect(cleared).not.toHaveProperty('nextRotationTime');
  });

  it('refuses what KMS refuses with 400: no mask, immutable fields, short periods, a period alone, asymmetric keys', async () => {
    h = await startHarness([cryptoKeyAsset(), signingKeyAsset()]);
    const kms = await h.cloud.kms('KeyManagementServiceClient');
    const status = async (p: Promise<unknown>) => {
      const e = await failure(p);
      return e.code ?? e.status;
    };
    expect(
      await status(
        kms.updateCryptoKey({ cryptoKey: { name: CRYPTO_KEY, rotationPeriod: { seconds: 7_776_000 } } }),
      ),
    ).toBe(400);
    expect(
      await status(
        kms.updateCryptoKey({
          cryptoKey: { name: CRYPTO_KEY, purpose: 'MAC' },
          updateMask: { paths: ['purpose'] },
        }),
      ),
    ).toBe(400);
    const short = await failure(
      kms.updateCryptoKey({
        cryptoKey: {
          name: CRYPTO_KEY,
          rotationPeriod: { seconds: 3600 },
          nextRotationTime: { seconds: seconds(AT) },
        },
        updateMask: { paths: ['rotationPeriod', 'nextRotationTime'] },
      }),
    );
    expect(short.message).toContain('at least 24 hours');
    const alone = await failure(
      kms.updateCryptoKey({
        cryptoKey: { name: CRYPTO_KEY, rotationPeriod: { seconds: 7_776_000 } },
        updateMask: { paths: ['rotationPeriod'] },
      }),
    );
    expect(alone.message).toContain('next_rotation_time must be set');
    const asymmetric = await failure(
      kms.updateCryptoKey({
        cryptoKey: {
          name: SIGNING_KEY,
          rotationPeriod: { seconds: 7_776_000 },
          nextRotationTime: { seconds: seconds(AT) },
        },
        updateMask: { paths: ['rotationPeriod', 'nextRotationTime'] },
      }),
    );
    expect(asymmetric.code ?? asymmetric.status).toBe(400);
    expect(asymmetric.message).toContain('only supported for keys with purpose ENCRYPT_DECRYPT');
    expect(h.feed).toHaveLength(0);
  });

  it('serves getIamPolicy as the GET KMS publishes, and 404s the POST the KMS client mixin sends (gax-nodejs#1462)', async () => {
    h = await startHarness([
      cryptoKeyAsset({
        iamPolicy: publicPolicy('roles/cloudkms.cryptoKeyDecrypter', 'roles/cloudkms.viewer'),
      }),
      keyRingAsset(),
    ]);
    const kmsIam = await h.cloud.kmsIam();
    const policy = await kmsIam.getIamPolicy(CRYPTO_KEY);
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: `/v1/${CRYPTO_KEY}:getIamPolicy`,
      query: { 'options.requestedPolicyVersion': '3' },
    });
    expect(policy).toMatchObject({ version: 3, etag: 'BwYPGokQxSI=' });
    expect(policy.bindings).toHaveLength(3);
    // A key ring without a policy of its own reads as IAM's empty policy.
    expect(await kmsIam.getIamPolicy(KEY_RING)).toEqual({ version: 1, etag: 'ACAB' });

    const kms = await h.cloud.kms('KeyManagementServiceClient');
    const post = await failure(kms.getIamPolicy({ resource: CRYPTO_KEY } as never));
    expect(post.code ?? post.status).toBe(404);
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'POST', path: `/v1/${CRYPTO_KEY}:getIamPolicy` });
  });

  it('sets a crypto key policy with its etag (409 ABORTED when stale), and a key ring policy', async () => {
    h = await startHarness([
      cryptoKeyAsset({
        iamPolicy: publicPolicy('roles/cloudkms.cryptoKeyDecrypter', 'roles/cloudkms.viewer'),
      }),
      keyRingAsset(),
    ]);
    const kms = await h.cloud.kms('KeyManagementServiceClient');
    const bindings = [{ role: 'roles/cloudkms.viewer', members: ['group:gcp-security@example.com'] }];
    const [set] = await kms.setIamPolicy({
      resource: CRYPTO_KEY,
      policy: { version: 3, etag: Buffer.from('BwYPGokQxSI=', 'base64'), bindings },
    } as never);
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'POST', path: `/v1/${CRYPTO_KEY}:setIamPolicy` });
    expect(set.bindings).toMatchObject(bindings);
    expect(h.twin.getAsset(KEY_NAME)?.iamPolicy).toMatchObject({ version: 3, bindings });
    expect(h.feed).toHaveLength(1);

    const stale = await failure(
      kms.setIamPolicy({
        resource: CRYPTO_KEY,
        policy: { version: 3, etag: Buffer.from('BwYPGokQxSI=', 'base64'), bindings: [] },
      } as never),
    );
    expect(stale.code ?? stale.status).toBe(409);
    expect(stale.message).toContain('ABORTED');

    const [ring] = await kms.setIamPolicy({
      resource: KEY_RING,
      policy: { version: 3, etag: Buffer.from('ACAB', 'base64'), bindings },
    } as never);
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'POST', path: `/v1/${KEY_RING}:setIamPolicy` });
    expect(ring.bindings).toMatchObject(bindings);
  });

  it('plays a concurrent change on a crypto key: someone else sets a one-year rotation', async () => {
    h = await startHarness([cryptoKeyAsset()], {
      faults: [
        {
          match: { method: 'GET', pathPattern: `/v1/${CRYPTO_KEY}` },
          concurrentModification: true,
          times: 1,
        },
      ],
    });
    const kms = await h.cloud.kms('KeyManagementServiceClient');
    const [key] = await kms.getCryptoKey({ name: CRYPTO_KEY });
    expect(key.rotationPeriod?.seconds).toBe(String(31_536_000 + 86_400));
    expect(key.labels).toMatchObject({ 'changed-by': 'someone-else-1' });
  });
});
