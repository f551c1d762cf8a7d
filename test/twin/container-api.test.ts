import { afterEach, describe, expect, it } from '@jest/globals';
import { AssetSchema } from '../../shared/model/asset.js';
import { clusterAsset, clusterName, clusterPath, LOCATION, nodePool } from './container-fixtures.js';
import { PROJECT_ID, PROJECT_NUMBER, startHarness, type TwinHarness } from './twin-fixtures.js';

const NAME = `projects/${PROJECT_ID}/locations/${LOCATION}/clusters/web`;
const OPS = `projects/${PROJECT_ID}/locations/${LOCATION}/operations`;

async function failure(p: Promise<unknown>): Promise<{ code?: number; message: string; status?: number }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as { code?: number; message: string },
  );
}

/** The Google error body a gax REST call failed with (its message is the raw JSON). */
function errorBody(e: { message: string }): { code: number; status: string; message: string } {
  return (JSON.parse(e.message) as { error: { code: number; status: string; message: string } }).error;
}

describe('twin: GKE v1 clusters, node pools and operations', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('gets a cluster as the REST API renders it: int64 as strings, a labelFingerprint, enums by name', async () => {
    const asset = clusterAsset('web', {
      nodePools: [nodePool('web', 'default-pool', { maxPodsConstraint: { maxPodsPerNode: 110 } })],
      labelFingerprint: undefined,
    });
    delete asset.resource!.data['labelFingerprint'];
    h = await startHarness([asset]);
    const client = await h.cloud.container('ClusterManagerClient');
    const [cluster] = await client.getCluster({ name: NAME });
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/${NAME}` });
    expect(cluster.name).toBe('web');
    expect(cluster.status).toBe('RUNNING');
    expect(cluster.labelFingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(cluster.nodePools?.[0]?.maxPodsConstraint?.maxPodsPerNode).toBe('110');
    const raw = await fetch(`${h.twin.url}/v1/${NAME}`, { headers: { authorization: 'Bearer t' } });
    const body = (await raw.json()) as { nodePools: Array<{ maxPodsConstraint: unknown }> };
    expect(body.nodePools[0]?.maxPodsConstraint).toEqual({ maxPodsPerNode: '110' });
  });

  it('accepts the project number in the path and answers 404 NOT_FOUND for an unknown cluster', async () => {
    h = await startHarness([clusterAsset('web')]);
    const client = await h.cloud.container('ClusterManagerClient');
    const [byNumber] = await client.getCluster({
      name: `projects/${PROJECT_NUMBER}/locations/${LOCATION}/clusters/web`,
    });
    expect(byNumber.name).toBe('web');
    const e = await failure(
      client.getCluster({ name: `projects/${PROJECT_ID}/locations/${LOCATION}/clusters/nope` }),
    );
    expect(errorBody(e)).toMatchObject({ code: 404, status: 'NOT_FOUND' });
  });

  it('setLegacyAbac: an operation PENDING → RUNNING → DONE, the change landing at DONE with one feed message', async () => {
    h = await startHarness([clusterAsset('web', { legacyAbac: { enabled: true } })]);
    const client = await h.cloud.container('ClusterManagerClient');
    const [op] = await client.setLegacyAbac({ name: NAME, enabled: false });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `/v1/${NAME}:setLegacyAbac`,
      body: { enabled: false },
    });
    expect(op).toMatchObject({
      status: 'PENDING',
      operationType: 'UPDATE_CLUSTER',
      targetLink: `https://container.googleapis.com/v1/projects/${PROJECT_NUMBER}/locations/${LOCATION}/clusters/web`,
    });
    expect(op.name).toMatch(/^operation-\d+-[0-9a-f]{8}$/);
    const [running] = await client.getOperation({ name: `${OPS}/${op.name}` });
    expect(running.status).toBe('RUNNING');
    expect(h.feed).toHaveLength(0);
    const [done] = await client.getOperation({ name: `${OPS}/${op.name}` });
    expect(done.status).toBe('DONE');
    expect(done.error).toBeNull();
    expect(h.feed).toHaveLength(1);
    const msg = AssetSchema.parse((h.feed[0] as { asset: unknown }).asset);
    expect(msg.name).toBe(clusterName('web'));
    expect(msg.resource?.data['legacyAbac']).toEqual({});
    const e = await failure(client.getOperation({ name: `${OPS}/operation-0-nope` }));
    expect(errorBody(e)).toMatchObject({ code: 404, status: 'NOT_FOUND' });
  });

  it('runs one operation per cluster: a second mutation meanwhile answers 400 FAILED_PRECONDITION', async () => {
    h = await startHarness([clusterAsset('web', { legacyAbac: { enabled: true } })], { operationPolls: 2 });
    const client = await h.cloud.container('ClusterManagerClient');
    const [op] = await client.setLegacyAbac({ name: NAME, enabled: false });
    const e = await failure(
      client.setNodePoolManagement({
        name: `${NAME}/nodePools/default-pool`,
        management: { autoRepair: true, autoUpgrade: true },
      }),
    );
    expect(errorBody(e)).toEqual({
      code: 400,
      status: 'FAILED_PRECONDITION',
      message: `Cluster is running incompatible operation ${op.name}.`,
      errors: [expect.objectContaining({ reason: 'failedPrecondition' })],
    });
    await client.getOperation({ name: `${OPS}/${op.name}` });
    await client.getOperation({ name: `${OPS}/${op.name}` });
    const [next] = await client.setNodePoolManagement({
      name: `${NAME}/nodePools/default-pool`,
      management: { autoRepair: true, autoUpgrade: true },
    });
    expect(next.operationType).toBe('SET_NODE_POOL_MANAGEMENT');
  });

  it('setAddons replaces the whole addonsConfig, stores enums by name and false as absent, refuses unknown add-ons', async () => {
    h = await startHarness([clusterAsset('web')], { operationPolls: 0 });
    const client = await h.cloud.container('ClusterManagerClient');
    await client.setAddonsConfig({
      name: NAME,
      addonsConfig: {
        httpLoadBalancing: { disabled: false },
        cloudRunConfig: { disabled: false, loadBalancerType: 'LOAD_BALANCER_TYPE_INTERNAL' },
      },
    });
    // What the client sends with enum-encoding=int: the enum as its number.
    expect(h.twin.requests.at(-1)?.body).toEqual({
      addonsConfig: {
        httpLoadBalancing: { disabled: false },
        cloudRunConfig: { disabled: false, loadBalancerType: 2 },
      },
    });
    expect(h.twin.getAsset(clusterName('web'))?.resource?.data['addonsConfig']).toEqual({
      httpLoadBalancing: {},
      cloudRunConfig: { loadBalancerType: 'LOAD_BALANCER_TYPE_INTERNAL' },
    });
    const raw = await fetch(`${h.twin.url}/v1/${NAME}:setAddons`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ addonsConfig: { dashboard: {} } }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({
      // Google's ESF refuses a field the request message lacks (the twin's shape check or the surface itself).
      error: {
        status: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/[Uu]nknown (name|field) "dashboard"/),
      },
    });
  });

  it('setResourceLabels takes the current labelFingerprint and answers 400 FAILED_PRECONDITION to a stale one', async () => {
    h = await startHarness([clusterAsset('web')], { operationPolls: 0 });
    const client = await h.cloud.container('ClusterManagerClient');
    const e = await failure(
      client.setLabels({ name: NAME, resourceLabels: { env: 'dev' }, labelFingerprint: 'deadbeef' }),
    );
    expect(errorBody(e)).toMatchObject({
      code: 400,
      status: 'FAILED_PRECONDITION',
      message:
        'Labels could not be set due to fingerprint mismatch; try again with the proper fingerprint: incorrect fingerprint supplied was "deadbeef", the expected one is "6c6165b4".',
    });
    await client.setLabels({ name: NAME, resourceLabels: { env: 'dev' }, labelFingerprint: '6c6165b4' });
    expect(h.twin.requests.at(-1)?.body).toEqual({
      resourceLabels: { env: 'dev' },
      labelFingerprint: '6c6165b4',
    });
    const [cluster] = await client.getCluster({ name: NAME });
    expect(cluster.resourceLabels).toEqual({ env: 'dev' });
    expect(cluster.labelFingerprint).not.toBe('6c6165b4');
    const bad = await failure(
      client.setLabels({
        name: NAME,
        resourceLabels: { Env: 'x' },
        labelFingerprint: cluster.labelFingerprint ?? '',
      }),
    );
    expect(errorBody(bad)).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
  });

  it('setManagement replaces a pool’s management; 404 for an unknown pool; release channels require both flags', async () => {
    const pools = [
      nodePool('web', 'default-pool', {
        management: { autoUpgrade: true, upgradeOptions: { description: 'x' } },
      }),
    ];
    h = await startHarness([clusterAsset('web', { nodePools: pools })], { operationPolls: 0 });
    const client = await h.cloud.container('ClusterManagerClient');
    await client.setNodePoolManagement({
      name: `${NAME}/nodePools/default-pool`,
      management: { autoRepair: true, autoUpgrade: false },
    });
    const data = h.twin.getAsset(clusterName('web'))?.resource?.data ?? {};
    expect((data['nodePools'] as Array<Record<string, unknown>>)[0]?.['management']).toEqual({
      autoRepair: true,
    });
    const e = await failure(
      client.setNodePoolManagement({ name: `${NAME}/nodePools/nope`, management: { autoRepair: true } }),
    );
    expect(errorBody(e)).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    await h.close();

    h = await startHarness([clusterAsset('web', { releaseChannel: { channel: 'REGULAR' } })], {
      operationPolls: 0,
    });
    const c2 = await h.cloud.container('ClusterManagerClient');
    const refused = await failure(
      c2.setNodePoolManagement({
        name: `${NAME}/nodePools/default-pool`,
        management: { autoRepair: false, autoUpgrade: true },
      }),
    );
    expect(errorBody(refused)).toMatchObject({
      code: 400,
      message: 'Auto_upgrade and auto_repair cannot be false when release_channel REGULAR is set.',
    });
  });

  it('failOperation: the operation ends DONE with an error, nothing changes, the cluster is free again', async () => {
    h = await startHarness([clusterAsset('web', { legacyAbac: { enabled: true } })], {
      operationPolls: 1,
      faults: [{ match: { method: 'POST', pathPattern: ':setLegacyAbac' }, failOperation: true, times: 1 }],
    });
    const client = await h.cloud.container('ClusterManagerClient');
    const [op] = await client.setLegacyAbac({ name: NAME, enabled: false });
    const [done] = await client.getOperation({ name: `${OPS}/${op.name}` });
    expect(done.status).toBe('DONE');
    expect(done.error).toMatchObject({ code: 13, message: expect.stringContaining('fault injected') });
    expect(h.feed).toHaveLength(0);
    expect(h.twin.getAsset(clusterName('web'))?.resource?.data['legacyAbac']).toEqual({ enabled: true });
    const [again] = await client.setLegacyAbac({ name: NAME, enabled: false });
    expect(again.status).toBe('PENDING');
  });

  it('plays a concurrent modification on any cluster path: new labels and labelFingerprint, a description', async () => {
    h = await startHarness([clusterAsset('web')], {
      faults: [
        { match: { method: 'GET', pathPattern: clusterPath('web') }, concurrentModification: true, times: 1 },
      ],
    });
    const client = await h.cloud.container('ClusterManagerClient');
    const [cluster] = await client.getCluster({ name: NAME });
    expect(cluster.description).toMatch(/^changed by someone else/);
    expect(cluster.resourceLabels?.['changed-by']).toMatch(/^someone-else-/);
    expect(cluster.labelFingerprint).not.toBe('6c6165b4');
    expect(h.feed).toHaveLength(1);
  });
});
