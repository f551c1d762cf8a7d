import { afterEach, describe, expect, it } from '@jest/globals';
import type { protos } from '@google-cloud/compute';
import { AssetSchema } from '../../shared/model/asset.js';
import { computeProjectAsset, diskAsset, instanceAsset, ZONE } from './compute-instance-fixtures.js';
import type { Asset } from '../../shared/model/asset.js';
import { ANCESTORS, firewallAsset, PROJECT_ID, startHarness, type TwinHarness } from './twin-fixtures.js';

type IOperation = protos.google.cloud.compute.v1.IOperation;

const VM = 'web-1';
const VM_NAME = `//compute.googleapis.com/projects/${PROJECT_ID}/zones/${ZONE}/instances/${VM}`;
const VM_PATH = `/compute/v1/projects/${PROJECT_ID}/zones/${ZONE}/instances/${VM}`;

function operationOf(lro: unknown): IOperation {
  return (lro as { latestResponse: IOperation }).latestResponse;
}

async function failure(p: Promise<unknown>): Promise<{ code?: number; message?: string }> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as { code?: number; message?: string },
  );
}

describe('twin: Compute Engine v1 instances, disks, project metadata and zone operations', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('setMetadata: the client sends {fingerprint, items}; the change lands at DONE (PENDING → RUNNING → DONE) with a new fingerprint, and is published', async () => {
    h = await startHarness([instanceAsset(VM)]);
    const instances = await h.cloud.compute('InstancesClient');
    const ops = await h.cloud.compute('ZoneOperationsClient');
    const [vm] = await instances.get({ project: PROJECT_ID, zone: ZONE, instance: VM });
    expect(vm.kind).toBe('compute#instance');
    expect(vm.metadata?.fingerprint).toBe('JJwVvefzVCI=');
    const items = [...(vm.metadata?.items ?? []).map((i) => ({ key: i.key, value: i.value }))];
    items.push({ key: 'serial-port-enable', value: 'FALSE' });
    const [lro] = await instances.setMetadata({
      project: PROJECT_ID,
      zone: ZONE,
      instance: VM,
      metadataResource: { fingerprint: vm.metadata?.fingerprint ?? '', items },
    });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `${VM_PATH}/setMetadata`,
      query: {},
      body: { fingerprint: 'JJwVvefzVCI=', items },
    });
    const started = operationOf(lro);
    expect(started).toMatchObject({
      kind: 'compute#operation',
      operationType: 'setMetadata',
      status: 'PENDING',
      zone: `https://www.googleapis.com/compute/v1/projects/${PROJECT_ID}/zones/${ZONE}`,
      targetLink: `https://www.googleapis.com/compute/v1${VM_PATH.slice('/compute/v1'.length)}`,
    });
    const [running] = await ops.get({ project: PROJECT_ID, zone: ZONE, operation: String(started.id) });
    expect(running.status).toBe('RUNNING');
    expect(h.feed).toHaveLength(0);
    h.clock.advance(3000);
    const [done] = await ops.wait({ project: PROJECT_ID, zone: ZONE, operation: started.name ?? '' });
    expect(h.twin.requests.at(-1)?.path).toBe(
      `/compute/v1/projects/${PROJECT_ID}/zones/${ZONE}/operations/${started.name}/wait`,
    );
    expect(done.status).toBe('DONE');
    const [after] = await instances.get({ project: PROJECT_ID, zone: ZONE, instance: VM });
    expect(after.metadata?.items?.map((i) => i.key)).toEqual([
      'startup-script',
      'ssh-keys',
      'serial-port-enable',
    ]);
    expect(after.metadata?.fingerprint).not.toBe('JJwVvefzVCI=');
    expect(after.fingerprint).not.toBe(vm.fingerprint); // the instance's own fingerprint moves too
    expect(h.feed).toHaveLength(1);
    const msg = h.feed[0] as Record<string, unknown>;
    expect(msg['window']).toEqual({ startTime: '2026-03-01T09:00:03.000Z' });
    const asset = AssetSchema.parse(msg['asset']);
    expect(asset.name).toBe(VM_NAME);
    expect((asset.resource?.data['metadata'] as { items: unknown[] }).items).toHaveLength(3);
  });

  it('setMetadata with a stale or missing fingerprint: 412 conditionNotMet in Google’s error body, nothing changed', async () => {
    h = await startHarness([instanceAsset(VM)]);
    const instances = await h.cloud.compute('InstancesClient');
    const stale = await failure(
      instances.setMetadata({
        project: PROJECT_ID,
        zone: ZONE,
        instance: VM,
        metadataResource: { fingerprint: 'c3RhbGUhIQ==', items: [] },
      }),
    );
    expect(stale.code).toBe(412);
    const body = JSON.parse(stale.message ?? '{}') as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({
      code: 412,
      status: 'FAILED_PRECONDITION',
      message: 'Supplied fingerprint does not match current metadata fingerprint.',
      errors: [{ reason: 'conditionNotMet', domain: 'global' }],
    });
    const missing = await failure(
      instances.setMetadata({
        project: PROJECT_ID,
        zone: ZONE,
        instance: VM,
        metadataResource: { items: [] },
      }),
    );
    expect(missing.code).toBe(412);
    expect(h.twin.getAsset(VM_NAME)?.resource?.data['metadata']).toEqual(
      instanceAsset(VM).resource?.data['metadata'],
    );
    expect(h.feed).toHaveLength(0);
  });

  it('an empty item list is omitted by the client and clears every item', async () => {
    h = await startHarness([instanceAsset(VM)], { operationPolls: 0 });
    const instances = await h.cloud.compute('InstancesClient');
    await instances.setMetadata({
      project: PROJECT_ID,
      zone: ZONE,
      instance: VM,
      metadataResource: { fingerprint: 'JJwVvefzVCI=', items: [] },
    });
    expect(h.twin.requests.at(-1)?.body).toEqual({ fingerprint: 'JJwVvefzVCI=' });
    const [vm] = await instances.get({ project: PROJECT_ID, zone: ZONE, instance: VM });
    expect(vm.metadata?.items ?? []).toEqual([]);
  });

  it('setLabels on instances and disks: {labels, labelFingerprint}, 412 on a stale fingerprint, 400 on an invalid key', async () => {
    h = await startHarness([instanceAsset(VM), diskAsset('data-1')], { operationPolls: 0 });
    const instances = await h.cloud.compute('InstancesClient');
    const disks = await h.cloud.compute('DisksClient');
    await instances.setLabels({
      project: PROJECT_ID,
      zone: ZONE,
      instance: VM,
      instancesSetLabelsRequestResource: {
        labels: { env: 'dev', team: 'web' },
        labelFingerprint: 'vFIcoYVs80k=',
      },
    });
    expect(h.twin.requests.at(-1)).toMatchObject({
      path: `${VM_PATH}/setLabels`,
      body: { labels: { env: 'dev', team: 'web' }, labelFingerprint: 'vFIcoYVs80k=' },
    });
    const [vm] = await instances.get({ project: PROJECT_ID, zone: ZONE, instance: VM });
    expect(vm.labels).toEqual({ env: 'dev', team: 'web' });
    expect(vm.labelFingerprint).not.toBe('vFIcoYVs80k=');
    const stale = await failure(
      instances.setLabels({
        project: PROJECT_ID,
        zone: ZONE,
        instance: VM,
        instancesSetLabelsRequestResource: { labels: {}, labelFingerprint: 'vFIcoYVs80k=' },
      }),
    );
    expect(stale.code).toBe(412);

    const [disk] = await disks.get({ project: PROJECT_ID, zone: ZONE, disk: 'data-1' });
    expect(disk.kind).toBe('compute#disk');
    const bad = await failure(
      disks.setLabels({
        project: PROJECT_ID,
        zone: ZONE,
        resource: 'data-1',
        zoneSetLabelsRequestResource: { labels: { Env: 'x' }, labelFingerprint: disk.labelFingerprint ?? '' },
      }),
    );
    expect(bad.code).toBe(400);
    await disks.setLabels({
      project: PROJECT_ID,
      zone: ZONE,
      resource: 'data-1',
      zoneSetLabelsRequestResource: { labels: { env: 'dev' }, labelFingerprint: disk.labelFingerprint ?? '' },
    });
    const [after] = await disks.get({ project: PROJECT_ID, zone: ZONE, disk: 'data-1' });
    expect(after.labels).toEqual({ env: 'dev' });
  });

  it('setDeletionProtection: the flag travels as a query parameter, false included', async () => {
    h = await startHarness([instanceAsset(VM)], { operationPolls: 0 });
    const instances = await h.cloud.compute('InstancesClient');
    await instances.setDeletionProtection({
      project: PROJECT_ID,
      zone: ZONE,
      resource: VM,
      deletionProtection: true,
    });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `${VM_PATH}/setDeletionProtection`,
      query: { deletionProtection: 'true' },
    });
    expect(
      (await instances.get({ project: PROJECT_ID, zone: ZONE, instance: VM }))[0].deletionProtection,
    ).toBe(true);
    await instances.setDeletionProtection({
      project: PROJECT_ID,
      zone: ZONE,
      resource: VM,
      deletionProtection: false,
    });
    expect(h.twin.requests.at(-1)?.query).toEqual({ deletionProtection: 'false' });
    expect(
      (await instances.get({ project: PROJECT_ID, zone: ZONE, instance: VM }))[0].deletionProtection,
    ).toBe(false);
  });

  it('projects.get / setCommonInstanceMetadata: a global operation, next to the firewall surface’s own', async () => {
    h = await startHarness([computeProjectAsset([]), firewallAsset('fw')]);
    const projects = await h.cloud.compute('ProjectsClient');
    const firewalls = await h.cloud.firewalls();
    const ops = await h.cloud.globalOperations();
    const [project] = await projects.get({ project: PROJECT_ID });
    expect(project.kind).toBe('compute#project');
    const [lro] = await projects.setCommonInstanceMetadata({
      project: PROJECT_ID,
      metadataResource: {
        fingerprint: project.commonInstanceMetadata?.fingerprint ?? '',
        items: [{ key: 'enable-oslogin', value: 'TRUE' }],
      },
    });
    expect(h.twin.requests.at(-1)).toMatchObject({
      path: `/compute/v1/projects/${PROJECT_ID}/setCommonInstanceMetadata`,
      body: { fingerprint: 'YxOnpf2JjbY=', items: [{ key: 'enable-oslogin', value: 'TRUE' }] },
    });
    const [fwLro] = await firewalls.patch({
      project: PROJECT_ID,
      firewall: 'fw',
      firewallResource: { priority: 10 },
    });
    for (const op of [operationOf(lro), operationOf(fwLro)]) {
      let done = op;
      while (done.status !== 'DONE')
        [done] = await ops.wait({ project: PROJECT_ID, operation: op.name ?? '' });
      expect(done.error).toBeFalsy();
    }
    const [after] = await projects.get({ project: PROJECT_ID });
    expect(after.commonInstanceMetadata?.items?.map((i) => [i.key, i.value])).toEqual([
      ['enable-oslogin', 'TRUE'],
    ]);
    expect(after.commonInstanceMetadata?.fingerprint).not.toBe('YxOnpf2JjbY=');
    expect((await firewalls.get({ project: PROJECT_ID, firewall: 'fw' }))[0].priority).toBe(10);
  });

  it('faults: failOperation ends the zone operation DONE with errors and changes nothing; 503 answers in Google’s format; unknown resources 404', async () => {
    h = await startHarness([instanceAsset(VM)], {
      operationPolls: 1,
      faults: [{ match: { method: 'POST', pathPattern: /setLabels$/ }, failOperation: true }],
    });
    const instances = await h.cloud.compute('InstancesClient');
    const ops = await h.cloud.compute('ZoneOperationsClient');
    const [lro] = await instances.setLabels({
      project: PROJECT_ID,
      zone: ZONE,
      instance: VM,
      instancesSetLabelsRequestResource: { labels: {}, labelFingerprint: 'vFIcoYVs80k=' },
    });
    const [done] = await ops.wait({
      project: PROJECT_ID,
      zone: ZONE,
      operation: operationOf(lro).name ?? '',
    });
    expect(done.status).toBe('DONE');
    expect(done.error?.errors?.[0]?.code).toBe('INTERNAL_ERROR');
    expect(h.twin.getAsset(VM_NAME)?.resource?.data['labels']).toEqual({ app: 'storefront', env: 'dev' });

    h.twin.setFaults([{ match: { method: 'GET', pathPattern: VM_PATH }, errorStatus: 503, times: 1 }]);
    const unavailable = await failure(instances.get({ project: PROJECT_ID, zone: ZONE, instance: VM }));
    expect(unavailable.code).toBe(503);
    const missing = await failure(instances.get({ project: PROJECT_ID, zone: ZONE, instance: 'nope' }));
    expect(missing.code).toBe(404);
  });

  it('a concurrentModification fault changes the metadata and labels first, so their fingerprints move', async () => {
    h = await startHarness([instanceAsset(VM)], {
      faults: [{ match: { method: 'GET', pathPattern: VM_PATH }, concurrentModification: true, times: 1 }],
    });
    const instances = await h.cloud.compute('InstancesClient');
    const [vm] = await instances.get({ project: PROJECT_ID, zone: ZONE, instance: VM });
    expect(vm.metadata?.fingerprint).not.toBe('JJwVvefzVCI=');
    expect(vm.labelFingerprint).not.toBe('vFIcoYVs80k=');
    expect(vm.metadata?.items?.map((i) => i.key)).toContain('changed-by-someone-else');
    expect(h.feed).toHaveLength(1);
  });
});

const REGION = 'us-central1';
const API = 'https://www.googleapis.com/compute/v1';
const DISK = 'data-1';
const DISK_NAME = `//compute.googleapis.com/projects/${PROJECT_ID}/zones/${ZONE}/disks/${DISK}`;
const DISK_PATH = `/compute/v1/projects/${PROJECT_ID}/zones/${ZONE}/disks/${DISK}`;
const scheduleUrl = (name: string, region = REGION) =>
  `${API}/projects/${PROJECT_ID}/regions/${region}/resourcePolicies/${name}`;

/** A snapshot-schedule resource policy in CAI shape (compute.googleapis.com/ResourcePolicy). */
function schedulePolicyAsset(name: string, region = REGION, snapshot = true): Asset {
  const data: Record<string, unknown> = {
    creationTimestamp: '2025-01-10T08:00:00.000-08:00',
    id: '7411204462291021417',
    name,
    region: `${API}/projects/${PROJECT_ID}/regions/${region}`,
    selfLink: scheduleUrl(name, region),
    status: 'READY',
  };
  if (snapshot) {
    data['snapshotSchedulePolicy'] = {
      schedule: { dailySchedule: { daysInCycle: 1, startTime: '04:00' } },
      retentionPolicy: { maxRetentionDays: 14, onSourceDiskDelete: 'KEEP_AUTO_SNAPSHOTS' },
    };
  } else {
    data['instanceSchedulePolicy'] = { timeZone: 'UTC', vmStartSchedule: { schedule: '0 8 * * 1-5' } };
  }
  return {
    name: `//compute.googleapis.com/projects/${PROJECT_ID}/regions/${region}/resourcePolicies/${name}`,
    assetType: 'compute.googleapis.com/ResourcePolicy',
    ancestors: [...ANCESTORS],
    resource: { version: 'v1', discoveryName: 'ResourcePolicy', location: region, data },
  };
}

/** A regional persistent disk (replicated across two zones of the region). */
function regionDiskAsset(name: string): Asset {
  const base = diskAsset(name);
  const data = { ...base.resource!.data };
  delete data['zone'];
  Object.assign(data, {
    region: `${API}/projects/${PROJECT_ID}/regions/${REGION}`,
    replicaZones: [
      `${API}/projects/${PROJECT_ID}/zones/us-central1-a`,
      `${API}/projects/${PROJECT_ID}/zones/us-central1-b`,
    ],
    selfLink: `${API}/projects/${PROJECT_ID}/regions/${REGION}/disks/${name}`,
  });
  return {
    ...base,
    name: `//compute.googleapis.com/projects/${PROJECT_ID}/regions/${REGION}/disks/${name}`,
    resource: { ...base.resource!, location: REGION, data },
  };
}

describe('twin: Compute Engine v1 disk resource policies (snapshot schedules)', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  async function waitZone(lro: unknown): Promise<IOperation> {
    const ops = await h.cloud.compute('ZoneOperationsClient');
    let op = operationOf(lro);
    while (op.status !== 'DONE')
      [op] = await ops.wait({ project: PROJECT_ID, zone: ZONE, operation: op.name ?? '' });
    return op;
  }

  it('addResourcePolicies / removeResourcePolicies: {resourcePolicies: [url]}, a zone operation, the list lands at DONE and is published', async () => {
    h = await startHarness([diskAsset(DISK), schedulePolicyAsset('daily-14d')]);
    const disks = await h.cloud.compute('DisksClient');
    const policies = await h.cloud.compute('ResourcePoliciesClient');
    const [policy] = await policies.get({ project: PROJECT_ID, region: REGION, resourcePolicy: 'daily-14d' });
    expect(policy.kind).toBe('compute#resourcePolicy');
    expect(policy.status).toBe('READY');
    expect(policy.snapshotSchedulePolicy?.schedule?.dailySchedule?.startTime).toBe('04:00');

    const [lro] = await disks.addResourcePolicies({
      project: PROJECT_ID,
      zone: ZONE,
      disk: DISK,
      disksAddResourcePoliciesRequestResource: { resourcePolicies: [scheduleUrl('daily-14d')] },
    });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `${DISK_PATH}/addResourcePolicies`,
      body: { resourcePolicies: [scheduleUrl('daily-14d')] },
    });
    expect(operationOf(lro)).toMatchObject({ operationType: 'addResourcePolicies', status: 'PENDING' });
    expect(h.twin.getAsset(DISK_NAME)?.resource?.data['resourcePolicies']).toBeUndefined();
    expect((await waitZone(lro)).error).toBeFalsy();
    const [disk] = await disks.get({ project: PROJECT_ID, zone: ZONE, disk: DISK });
    expect(disk.resourcePolicies).toEqual([scheduleUrl('daily-14d')]);
    expect(h.feed).toHaveLength(1);
    expect(
      AssetSchema.parse((h.feed[0] as Record<string, unknown>)['asset']).resource?.data['resourcePolicies'],
    ).toEqual([scheduleUrl('daily-14d')]);

    // A relative path names the same policy.
    const [rm] = await disks.removeResourcePolicies({
      project: PROJECT_ID,
      zone: ZONE,
      disk: DISK,
      disksRemoveResourcePoliciesRequestResource: {
        resourcePolicies: [`projects/${PROJECT_ID}/regions/${REGION}/resourcePolicies/daily-14d`],
      },
    });
    await waitZone(rm);
    expect(h.twin.getAsset(DISK_NAME)?.resource?.data['resourcePolicies']).toBeUndefined();
    expect(h.feed).toHaveLength(2);
  });

  it('refuses what compute refuses: unknown policy 404, other region / malformed / second schedule / not attached 400, unknown disk 404', async () => {
    const withSchedule = diskAsset('scheduled');
    withSchedule.resource!.data['resourcePolicies'] = [scheduleUrl('daily-14d')];
    h = await startHarness([
      diskAsset(DISK),
      withSchedule,
      schedulePolicyAsset('daily-14d'),
      schedulePolicyAsset('weekly'),
      schedulePolicyAsset('eu-daily', 'europe-west1'),
      schedulePolicyAsset('office-hours', REGION, false),
    ]);
    const disks = await h.cloud.compute('DisksClient');
    const policies = await h.cloud.compute('ResourcePoliciesClient');
    const add = (disk: string, url: string) =>
      failure(
        disks.addResourcePolicies({
          project: PROJECT_ID,
          zone: ZONE,
          disk,
          disksAddResourcePoliciesRequestResource: { resourcePolicies: [url] },
        }),
      );
    expect(
      (await failure(policies.get({ project: PROJECT_ID, region: REGION, resourcePolicy: 'nope' }))).code,
    ).toBe(404);
    const unknown = await add(DISK, scheduleUrl('nope'));
    expect(unknown.code).toBe(404);
    expect(unknown.message).toContain(`projects/${PROJECT_ID}/regions/${REGION}/resourcePolicies/nope`);
    const elsewhere = await add(DISK, scheduleUrl('eu-daily', 'europe-west1'));
    expect(elsewhere.code).toBe(400);
    expect(elsewhere.message).toContain('same region as the disk');
    expect((await add(DISK, 'daily-14d')).code).toBe(400);
    const second = await add('scheduled', scheduleUrl('weekly'));
    expect(second.code).toBe(400);
    expect(second.message).toContain('at most one snapshot schedule');
    expect((await add('scheduled', scheduleUrl('daily-14d'))).code).toBe(400);
    expect((await add('nope', scheduleUrl('daily-14d'))).code).toBe(404);
    const notAttached = await failure(
      disks.removeResourcePolicies({
        project: PROJECT_ID,
        zone: ZONE,
        disk: DISK,
        disksRemoveResourcePoliciesRequestResource: { resourcePolicies: [scheduleUrl('daily-14d')] },
      }),
    );
    expect(notAttached.code).toBe(400);
    // A policy that is not a snapshot schedule may sit beside one.
    const [lro] = await disks.addResourcePolicies({
      project: PROJECT_ID,
      zone: ZONE,
      disk: 'scheduled',
      disksAddResourcePoliciesRequestResource: { resourcePolicies: [scheduleUrl('office-hours')] },
    });
    await waitZone(lro);
    expect(h.feed).toHaveLength(1);
  });

  it('regional disks: get and addResourcePolicies through RegionDisksClient, a region operation; failOperation changes nothing', async () => {
    const name = `//compute.googleapis.com/projects/${PROJECT_ID}/regions/${REGION}/disks/db-data`;
    h = await startHarness([regionDiskAsset('db-data'), schedulePolicyAsset('daily-14d')], {
      operationPolls: 1,
      faults: [
        { match: { method: 'POST', pathPattern: /addResourcePolicies$/ }, failOperation: true, times: 1 },
      ],
    });
    const regionDisks = await h.cloud.compute('RegionDisksClient');
    const ops = await h.cloud.compute('RegionOperationsClient');
    const [disk] = await regionDisks.get({ project: PROJECT_ID, region: REGION, disk: 'db-data' });
    expect(disk.kind).toBe('compute#disk');
    const add = () =>
      regionDisks.addResourcePolicies({
        project: PROJECT_ID,
        region: REGION,
        disk: 'db-data',
        regionDisksAddResourcePoliciesRequestResource: { resourcePolicies: [scheduleUrl('daily-14d')] },
      });
    const [failed] = await add();
    const started = operationOf(failed);
    expect(started.region).toBe(`${API}/projects/${PROJECT_ID}/regions/${REGION}`);
    const [done] = await ops.wait({ project: PROJECT_ID, region: REGION, operation: started.name ?? '' });
    expect(done.error?.errors?.[0]?.code).toBe('INTERNAL_ERROR');
    expect(h.twin.getAsset(name)?.resource?.data['resourcePolicies']).toBeUndefined();

    const [ok] = await add();
    expect(h.twin.requests.at(-1)?.path).toBe(
      `/compute/v1/projects/${PROJECT_ID}/regions/${REGION}/disks/db-data/addResourcePolicies`,
    );
    await ops.wait({ project: PROJECT_ID, region: REGION, operation: operationOf(ok).name ?? '' });
    expect(h.twin.getAsset(name)?.resource?.data['resourcePolicies']).toEqual([scheduleUrl('daily-14d')]);
  });

  it('a concurrentModification fault on a regional disk changes its labels first', async () => {
    const path = `/compute/v1/projects/${PROJECT_ID}/regions/${REGION}/disks/db-data`;
    h = await startHarness([regionDiskAsset('db-data')], {
      faults: [{ match: { method: 'GET', pathPattern: path }, concurrentModification: true, times: 1 }],
    });
    const regionDisks = await h.cloud.compute('RegionDisksClient');
    const [disk] = await regionDisks.get({ project: PROJECT_ID, region: REGION, disk: 'db-data' });
    expect(disk.labels?.['changed-by']).toMatch(/^someone-/);
    expect(disk.labelFingerprint).not.toBe('vFIcoYVs80k=');
  });
});
