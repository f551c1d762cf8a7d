import { afterEach, describe, expect, it } from '@jest/globals';
import type { protos } from '@google-cloud/compute';
import { AssetSchema } from '../../shared/model/asset.js';
import { backendServiceAsset, REGION, sslPolicyAsset, subnetworkAsset } from './compute-network-fixtures.js';
import { PROJECT_ID, startHarness, type TwinHarness } from './twin-fixtures.js';

type IOperation = protos.google.cloud.compute.v1.IOperation;

const SUBNET = 'dev-web';
const SUBNET_NAME = `//compute.googleapis.com/projects/${PROJECT_ID}/regions/${REGION}/subnetworks/${SUBNET}`;
const SUBNET_PATH = `/compute/v1/projects/${PROJECT_ID}/regions/${REGION}/subnetworks/${SUBNET}`;

function operationOf(lro: unknown): IOperation {
  return (lro as { latestResponse: IOperation }).latestResponse;
}

async function failure(p: Promise<unknown>): Promise<{ code?: number; message?: string; status?: number }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as { code?: number; message?: string },
  );
}

describe('twin: Compute Engine v1 subnetworks, backend services, SSL policies and region operations', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('patches a subnetwork with its fingerprint: what the client sends, PENDING → RUNNING → DONE, a new fingerprint, one feed message', async () => {
    h = await startHarness([subnetworkAsset(SUBNET)]);
    const client = await h.cloud.compute('SubnetworksClient');
    const ops = await h.cloud.compute('RegionOperationsClient');
    const [subnet] = await client.get({ project: PROJECT_ID, region: REGION, subnetwork: SUBNET });
    expect(subnet.kind).toBe('compute#subnetwork');
    expect(subnet.fingerprint).toBe('GSU0Q+kRUiU=');
    expect(subnet.logConfig?.enable).toBe(false);

    const [lro] = await client.patch({
      project: PROJECT_ID,
      region: REGION,
      subnetwork: SUBNET,
      subnetworkResource: {
        fingerprint: subnet.fingerprint ?? '',
        logConfig: {
          enable: true,
          aggregationInterval: 'INTERVAL_5_SEC',
          flowSampling: 1,
          metadata: 'INCLUDE_ALL_METADATA',
          metadataFields: [],
        },
        secondaryIpRanges: [],
      },
    });
    // What @google-cloud/compute really sends: a plain path, the enum names, flowSampling as the JSON number
    // 1, and no trace of the empty lists (so a patch through the client can never clear one).
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'PATCH', path: SUBNET_PATH, query: {} });
    expect(h.twin.requests.at(-1)?.body).toEqual({
      fingerprint: 'GSU0Q+kRUiU=',
      logConfig: {
        enable: true,
        aggregationInterval: 'INTERVAL_5_SEC',
        flowSampling: 1,
        metadata: 'INCLUDE_ALL_METADATA',
      },
    });
    const started = operationOf(lro);
    expect(started).toMatchObject({
      status: 'PENDING',
      operationType: 'patch',
      region: `https://www.googleapis.com/compute/v1/projects/${PROJECT_ID}/regions/${REGION}`,
      targetLink: `https://www.googleapis.com/compute/v1/projects/${PROJECT_ID}/regions/${REGION}/subnetworks/${SUBNET}`,
    });
    const [running] = await ops.get({ project: PROJECT_ID, region: REGION, operation: String(started.id) });
    expect(running.status).toBe('RUNNING');
    expect(h.feed).toHaveLength(0);
    const [done] = await ops.wait({ project: PROJECT_ID, region: REGION, operation: started.name ?? '' });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `/compute/v1/projects/${PROJECT_ID}/regions/${REGION}/operations/${started.name}/wait`,
    });
    expect(done.status).toBe('DONE');

    const [after] = await client.get({ project: PROJECT_ID, region: REGION, subnetwork: SUBNET });
    expect(after.logConfig).toMatchObject({
      enable: true,
      flowSampling: 1,
      metadata: 'INCLUDE_ALL_METADATA',
    });
    expect(after.fingerprint).not.toBe(subnet.fingerprint);
    expect(after.secondaryIpRanges).toHaveLength(1); // merge patch: the rest stays
    expect(h.feed).toHaveLength(1);
    const msg = AssetSchema.parse((h.feed[0] as { asset: unknown }).asset);
    expect(msg.resource?.data['fingerprint']).toBe(after.fingerprint);
    expect(msg.resource?.data['logConfig']).toEqual({
      enable: true,
      aggregationInterval: 'INTERVAL_5_SEC',
      flowSampling: 1,
      metadata: 'INCLUDE_ALL_METADATA',
    });
  });

  it('answers 412 conditionNotMet in Google error format for a missing or stale fingerprint', async () => {
    h = await startHarness([subnetworkAsset(SUBNET)]);
    const client = await h.cloud.compute('SubnetworksClient');
    const stale = await failure(
      client.patch({
        project: PROJECT_ID,
        region: REGION,
        subnetwork: SUBNET,
        subnetworkResource: { fingerprint: 'c3RhbGU=', logConfig: { enable: true } },
      }),
    );
    expect(stale.code ?? stale.status).toBe(412);
    expect(stale.message).toContain('conditionNotMet');
    expect(stale.message).toContain('Supplied fingerprint does not match');
    const missing = await failure(
      client.patch({
        project: PROJECT_ID,
        region: REGION,
        subnetwork: SUBNET,
        subnetworkResource: { logConfig: { enable: true } },
      }),
    );
    expect(missing.code ?? missing.status).toBe(412);
    expect(h.twin.getAsset(SUBNET_NAME)?.resource?.data['logConfig']).toEqual({ enable: false });
  });

  it('refuses flow logs on a proxy-only subnet and keeps logConfig {enable: false} only when off', async () => {
    h = await startHarness(
      [
        subnetworkAsset('proxy', { purpose: 'REGIONAL_MANAGED_PROXY', logConfig: undefined }),
        subnetworkAsset(SUBNET, {
          enableFlowLogs: true,
          logConfig: {
            enable: true,
            aggregationInterval: 'INTERVAL_10_MIN',
            flowSampling: 0.5,
            metadata: 'EXCLUDE_ALL_METADATA',
          },
        }),
      ],
      { operationPolls: 0 },
    );
    const client = await h.cloud.compute('SubnetworksClient');
    const bad = await failure(
      client.patch({
        project: PROJECT_ID,
        region: REGION,
        subnetwork: 'proxy',
        subnetworkResource: { fingerprint: 'GSU0Q+kRUiU=', logConfig: { enable: true } },
      }),
    );
    expect(bad.code ?? bad.status).toBe(400);
    expect(bad.message).toContain('REGIONAL_MANAGED_PROXY');

    await client.patch({
      project: PROJECT_ID,
      region: REGION,
      subnetwork: SUBNET,
      subnetworkResource: { fingerprint: 'GSU0Q+kRUiU=', logConfig: { enable: false } },
    });
    const data = h.twin.getAsset(SUBNET_NAME)?.resource?.data ?? {};
    expect(data['logConfig']).toEqual({ enable: false });
    expect(data['enableFlowLogs']).toBe(false); // the legacy field follows logConfig.enable
  });

  it('sets Private Google Access without a fingerprint, through a region operation', async () => {
    h = await startHarness([subnetworkAsset(SUBNET)], { operationPolls: 1 });
    const client = await h.cloud.compute('SubnetworksClient');
    const ops = await h.cloud.compute('RegionOperationsClient');
    const [lro] = await client.setPrivateIpGoogleAccess({
      project: PROJECT_ID,
      region: REGION,
      subnetwork: SUBNET,
      subnetworksSetPrivateIpGoogleAccessRequestResource: { privateIpGoogleAccess: true },
    });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `${SUBNET_PATH}/setPrivateIpGoogleAccess`,
      body: { privateIpGoogleAccess: true },
    });
    expect(operationOf(lro).operationType).toBe('setPrivateIpGoogleAccess');
    await ops.wait({ project: PROJECT_ID, region: REGION, operation: operationOf(lro).name ?? '' });
    const data = h.twin.getAsset(SUBNET_NAME)?.resource?.data ?? {};
    expect(data['privateIpGoogleAccess']).toBe(true);
    expect(data['fingerprint']).not.toBe('GSU0Q+kRUiU=');
  });

  it('patches global and regional backend services with their fingerprint; global operations come from the shared store', async () => {
    h = await startHarness([backendServiceAsset('web'), backendServiceAsset('api', {}, REGION)]);
    const global = await h.cloud.compute('BackendServicesClient');
    const regional = await h.cloud.compute('RegionBackendServicesClient');
    const gops = await h.cloud.globalOperations();
    const rops = await h.cloud.compute('RegionOperationsClient');
    const [g] = await global.patch({
      project: PROJECT_ID,
      backendService: 'web',
      backendServiceResource: { fingerprint: 'h3vPH4bhNzM=', logConfig: { enable: true, sampleRate: 1 } },
    });
    // Map fields travel even when empty: BackendService.metadatas is sent as {}.
    expect(h.twin.requests.at(-1)?.body).toEqual({
      fingerprint: 'h3vPH4bhNzM=',
      logConfig: { enable: true, sampleRate: 1 },
      metadatas: {},
    });
    for (let i = 0; i < 2; i += 1)
      await gops.wait({ project: PROJECT_ID, operation: operationOf(g).name ?? '' });
    const [r] = await regional.patch({
      project: PROJECT_ID,
      region: REGION,
      backendService: 'api',
      backendServiceResource: { fingerprint: 'h3vPH4bhNzM=', logConfig: { enable: true, sampleRate: 0.5 } },
    });
    for (let i = 0; i < 2; i += 1)
      await rops.wait({ project: PROJECT_ID, region: REGION, operation: operationOf(r).name ?? '' });
    const [gs] = await global.get({ project: PROJECT_ID, backendService: 'web' });
    const [rs] = await regional.get({ project: PROJECT_ID, region: REGION, backendService: 'api' });
    expect(gs.logConfig).toMatchObject({ enable: true, sampleRate: 1 });
    expect(rs.logConfig).toMatchObject({ enable: true, sampleRate: 0.5 });
    expect(gs.kind).toBe('compute#backendService');
    expect(h.twin.getAsset(backendServiceAsset('web').name)?.resource?.data['metadatas']).toBeUndefined();
    // a regional service is not found under global, nor the other way round
    const notFound = await failure(global.get({ project: PROJECT_ID, backendService: 'api' }));
    expect(notFound.code ?? notFound.status).toBe(404);
  });

  it('enforces the SSL policy rules: customFeatures only with CUSTOM, TLS_1_3 only with RESTRICTED', async () => {
    h = await startHarness(
      [
        sslPolicyAsset('weak'),
        sslPolicyAsset('custom', { profile: 'CUSTOM', customFeatures: ['TLS_RSA_WITH_AES_128_GCM_SHA256'] }),
      ],
      { operationPolls: 0 },
    );
    const client = await h.cloud.compute('SslPoliciesClient');
    const tls13 = await failure(
      client.patch({
        project: PROJECT_ID,
        sslPolicy: 'weak',
        sslPolicyResource: { fingerprint: 'k1N3ZPxIY0s=', minTlsVersion: 'TLS_1_3' },
      }),
    );
    expect(tls13.code ?? tls13.status).toBe(400);
    // The empty list is omitted by the client, so CUSTOM → MODERN keeps the features and is refused.
    const toModern = await failure(
      client.patch({
        project: PROJECT_ID,
        sslPolicy: 'custom',
        sslPolicyResource: { fingerprint: 'k1N3ZPxIY0s=', profile: 'MODERN', customFeatures: [] },
      }),
    );
    expect(h.twin.requests.at(-1)?.body).toEqual({ fingerprint: 'k1N3ZPxIY0s=', profile: 'MODERN' });
    expect(toModern.code ?? toModern.status).toBe(400);
    expect(toModern.message).toContain('Must be empty if the profile is not CUSTOM');
    await client.patch({
      project: PROJECT_ID,
      sslPolicy: 'weak',
      sslPolicyResource: { fingerprint: 'k1N3ZPxIY0s=', profile: 'MODERN', minTlsVersion: 'TLS_1_2' },
    });
    const [p] = await client.get({ project: PROJECT_ID, sslPolicy: 'weak' });
    expect(p).toMatchObject({ kind: 'compute#sslPolicy', profile: 'MODERN', minTlsVersion: 'TLS_1_2' });
  });

  it('plays faults on these routes: a concurrent change bumps the fingerprint (412), failOperation ends DONE with an error, 503', async () => {
    h = await startHarness([subnetworkAsset(SUBNET)], {
      operationPolls: 1,
      faults: [
        { match: { method: 'PATCH', pathPattern: /subnetworks/ }, concurrentModification: true, times: 1 },
      ],
    });
    const client = await h.cloud.compute('SubnetworksClient');
    const ops = await h.cloud.compute('RegionOperationsClient');
    const body = { fingerprint: 'GSU0Q+kRUiU=', logConfig: { enable: true } };
    const conflict = await failure(
      client.patch({ project: PROJECT_ID, region: REGION, subnetwork: SUBNET, subnetworkResource: body }),
    );
    expect(conflict.code ?? conflict.status).toBe(412);
    const changed = h.twin.getAsset(SUBNET_NAME)?.resource?.data ?? {};
    expect(changed['description']).toMatch(/^changed by someone else/);
    expect(changed['logConfig']).toEqual({ enable: false });

    h.twin.setFaults([
      { match: { method: 'POST', pathPattern: /setPrivateIpGoogleAccess/ }, failOperation: true },
    ]);
    const [lro] = await client.setPrivateIpGoogleAccess({
      project: PROJECT_ID,
      region: REGION,
      subnetwork: SUBNET,
      subnetworksSetPrivateIpGoogleAccessRequestResource: { privateIpGoogleAccess: true },
    });
    const [done] = await ops.wait({
      project: PROJECT_ID,
      region: REGION,
      operation: operationOf(lro).name ?? '',
    });
    expect(done.status).toBe('DONE');
    expect(done.error?.errors?.[0]?.code).toBe('INTERNAL_ERROR');
    expect(h.twin.getAsset(SUBNET_NAME)?.resource?.data['privateIpGoogleAccess']).toBe(false);

    h.twin.setFaults([{ match: { pathPattern: '/regions/' }, errorStatus: 503 }]);
    const unavailable = await failure(
      client.get({ project: PROJECT_ID, region: REGION, subnetwork: SUBNET }),
    );
    expect(unavailable.code ?? unavailable.status).toBe(503);
  });
});
