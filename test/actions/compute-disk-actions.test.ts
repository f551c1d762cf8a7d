import { afterEach, describe, expect, it } from '@jest/globals';
import {
  diskAttachSnapshotSchedule,
  type SnapshotScheduleState,
} from '../../shared/actions/compute-disk-attach-snapshot-schedule.js';
import {
  DEFAULT_ACTION_SETTINGS,
  type ActionContext,
  type ActionSettings,
  type RemediationAction,
} from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import type { WardenError } from '../../shared/model/errors.js';
import { diskAsset, ZONE } from '../twin/compute-instance-fixtures.js';
import { ANCESTORS, PROJECT_ID, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';
import { describeActionContract, sameData, type ActionContract } from './action-contract.js';
import { expectRegistered, policySet } from './policies.js';

const POLICY = 'disk-no-snapshot-schedule';
const REGION = 'us-central1';
const API = 'https://www.googleapis.com/compute/v1';
const COMPUTE = 'https://compute.googleapis.com/compute/v1';
const V1 = `/compute/v1/projects/${PROJECT_ID}`;
const action = diskAttachSnapshotSchedule;
type Data = Record<string, unknown>;

const scheduleUrl = (name: string, region = REGION) =>
  `${API}/projects/${PROJECT_ID}/regions/${region}/resourcePolicies/${name}`;

/** The organization's schedules, one per region (snapshot_schedules in params.yaml). */
function settingsWith(schedules: Record<string, string>): ActionSettings {
  return { ...DEFAULT_ACTION_SETTINGS, snapshotSchedules: schedules };
}
const SETTINGS = settingsWith({
  [REGION]: scheduleUrl('daily-14d'),
  'europe-west1': scheduleUrl('eu', 'europe-west1'),
});

function ctxOf(h: TwinHarness, settings: ActionSettings = SETTINGS): ActionContext {
  return { ...actionContext(h), settings };
}

/** A snapshot-schedule resource policy in CAI shape. */
function schedulePolicyAsset(name: string, over: Data = {}, region = REGION): Asset {
  return {
    name: `//compute.googleapis.com/projects/${PROJECT_ID}/regions/${region}/resourcePolicies/${name}`,
    assetType: 'compute.googleapis.com/ResourcePolicy',
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1',
      discoveryName: 'ResourcePolicy',
      location: region,
      data: {
        id: '7411204462291021417',
        name,
        region: `${API}/projects/${PROJECT_ID}/regions/${region}`,
        selfLink: scheduleUrl(name, region),
        status: 'READY',
        snapshotSchedulePolicy: {
          schedule: { dailySchedule: { daysInCycle: 1, startTime: '04:00' } },
          retentionPolicy: { maxRetentionDays: 14, onSourceDiskDelete: 'KEEP_AUTO_SNAPSHOTS' },
        },
        ...over,
      },
    },
  };
}

/** An attached zonal boot/data disk, as in examples/landing-zone. */
function attachedDisk(name: string, over: Data = {}): Asset {
  const a = diskAsset(name, { app: 'storefront', env: 'dev', team: 'web', 'cost-center': 'cc-1' });
  Object.assign(a.resource!.data, {
    lastAttachTimestamp: '2025-04-08T09:16:42.318-07:00',
    users: [`${API}/projects/${PROJECT_ID}/zones/${ZONE}/instances/${name}`],
    ...over,
  });
  return a;
}

/** A regional disk replicated across two zones, attached to a VM. */
function regionalDisk(name: string): Asset {
  const a = attachedDisk(name);
  const data = { ...a.resource!.data };
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
    ...a,
    name: `//compute.googleapis.com/projects/${PROJECT_ID}/regions/${REGION}/disks/${name}`,
    resource: { ...a.resource!, location: REGION, data },
  };
}

/**
 * The disk without what the REST rendering adds (kind) and the empty map fields the gax decoder fills in
 * (asyncSecondaryDisks: {}), which restJson keeps and which say nothing.
 */
function stable(data: Data | undefined): Data {
  const { kind: _k, ...rest } = data ?? {};
  return Object.fromEntries(
    Object.entries(rest).filter(
      ([, v]) => !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0),
    ),
  );
}

interface Case {
  title: string;
  asset: () => Asset;
  diskPath: string;
  operations: string;
}

const CASES: Case[] = [
  {
    title: 'a zonal disk',
    asset: () => attachedDisk('web-1'),
    diskPath: `${V1}/zones/${ZONE}/disks/web-1`,
    operations: `${V1}/zones/${ZONE}/operations`,
  },
  {
    title: 'a regional disk',
    asset: () => regionalDisk('db-data'),
    diskPath: `${V1}/regions/${REGION}/disks/db-data`,
    operations: `${V1}/regions/${REGION}/operations`,
  },
];

function posts(h: TwinHarness): Array<{ path: string; body: unknown }> {
  return h.twin.requests.filter((r) => r.method === 'POST' && !r.path.includes('/operations/'));
}

describe('compute.disk.attach-snapshot-schedule is registered with the policy that uses it', () => {
  it('is medium risk and reversible', () => {
    expectRegistered('compute.disk.attach-snapshot-schedule', {
      risk: 'medium',
      reversible: true,
      assetTypes: ['compute.googleapis.com/Disk'],
    });
    const p = policySet().policies.find((x) => x.def.id === POLICY);
    expect(p?.def.remediation).toEqual({ action: 'compute.disk.attach-snapshot-schedule', risk: 'medium' });
  });
});

describeActionContract(
  CASES.map((c): ActionContract => {
    const attach = { method: 'POST', pathPattern: /addResourcePolicies$/ };
    const read = { method: 'GET', pathPattern: c.diskPath };
    return {
      title: c.title,
      action: action as RemediationAction,
      asset: c.asset,
      alongside: () => [schedulePolicyAsset('daily-14d')],
      context: (h) => ctxOf(h),
      api: 'compute.googleapis.com',
      // Read the disk and the region's schedule, attach it, wait; nothing but the read without a schedule.
      plan: ({ asset }, plan) => {
        expect(plan.requests).toEqual([
          { method: 'GET', url: `https://compute.googleapis.com${c.diskPath}` },
          {
            method: 'GET',
            url: `${COMPUTE}/projects/${PROJECT_ID}/regions/${REGION}/resourcePolicies/daily-14d`,
          },
          {
            method: 'POST',
            url: `https://compute.googleapis.com${c.diskPath}/addResourcePolicies`,
            body: { resourcePolicies: [scheduleUrl('daily-14d')] },
          },
          { method: 'POST', url: `https://compute.googleapis.com${c.operations}/{operation}/wait` },
        ]);
        expect(plan.description).toMatch(/takes no fingerprint/);
        expect(plan.description).toMatch(/snapshot storage/);
        const unconfigured = action.plan(asset, DEFAULT_ACTION_SETTINGS);
        expect(unconfigured.requests).toEqual([
          { method: 'GET', url: `https://compute.googleapis.com${c.diskPath}` },
        ]);
        expect(unconfigured.description).toMatch(/no snapshot schedule is configured for region us-central1/);
      },
      policyIds: [POLICY],
      field: (a) => a?.resource?.data['resourcePolicies'],
      fixed: [scheduleUrl('daily-14d')],
      // Every call but the operation waits: attach and detach alike.
      isWrite: (r) => r.method === 'POST' && !r.path.includes('/operations/'),
      untouched: sameData,
      fix: {
        sent: ({ h }) =>
          expect(posts(h)).toEqual([
            expect.objectContaining({
              path: `${c.diskPath}/addResourcePolicies`,
              body: { resourcePolicies: [scheduleUrl('daily-14d')] },
            }),
          ]),
        feed: 1,
        restored: ({ h, restored, asset }) => {
          expect(posts(h).at(-1)).toMatchObject({
            path: `${c.diskPath}/removeResourcePolicies`,
            body: { resourcePolicies: [scheduleUrl('daily-14d')] },
          });
          expect(stable(restored.resource?.data)).toEqual(stable(asset.resource?.data));
        },
        undoTwice: 'refused',
      },
      conflict: {
        // Disks take no fingerprint on addResourcePolicies: the re-read is the guard.
        beforeWrite: {
          change: { at: read },
          reason: 'changed since its state was captured',
          stale: true,
          theirs: (now) => expect((now?.resource?.data['labels'] as Data)['changed-by']).toMatch(/^someone-/),
        },
      },
      undoAfterChange: { change: { at: read }, reason: 'changed after the fix' },
      retryable: { unavailable: { at: attach } },
      failedOperation: { at: attach, message: /failed: INTERNAL_ERROR/ },
    };
  }),
);

describe('compute.disk.attach-snapshot-schedule: what it refuses, sending nothing', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  async function refusal(asset: Asset, settings: ActionSettings, extra: Asset[]): Promise<string> {
    h = await startHarness([asset, ...extra]);
    const ctx = ctxOf(h, settings);
    const before = await action.captureBefore(asset, ctx);
    const outcome = await action.apply(asset, before!, ctx);
    expect(posts(h)).toHaveLength(0);
    expect(outcome.status).toBe('conflict');
    return outcome.status === 'conflict' ? outcome.reason : '';
  }

  it('with no schedule configured for the disk region', async () => {
    const reason = await refusal(attachedDisk('web-1'), DEFAULT_ACTION_SETTINGS, [
      schedulePolicyAsset('daily-14d'),
    ]);
    expect(reason).toMatch(
      /no snapshot schedule is configured for region us-central1 \(settings.snapshotSchedules/,
    );
    // Only another region's schedule configured is the same.
    h.twin.setFaults([]);
    await h.close();
    const other = await refusal(
      attachedDisk('web-1'),
      settingsWith({ 'europe-west1': scheduleUrl('eu', 'europe-west1') }),
      [],
    );
    expect(other).toMatch(/region us-central1/);
  });

  it('when the configured schedule is in another region, does not exist, is not a snapshot schedule, or is not READY', async () => {
    expect(
      await refusal(attachedDisk('web-1'), settingsWith({ [REGION]: scheduleUrl('eu', 'europe-west1') }), [
        schedulePolicyAsset('eu', {}, 'europe-west1'),
      ]),
    ).toMatch(/is in region europe-west1/);
    await h.close();
    expect(await refusal(attachedDisk('web-1'), SETTINGS, [])).toMatch(/daily-14d does not exist/);
    await h.close();
    const officeHours = schedulePolicyAsset('daily-14d', {
      snapshotSchedulePolicy: undefined,
      instanceSchedulePolicy: { timeZone: 'UTC', vmStartSchedule: { schedule: '0 8 * * 1-5' } },
    });
    delete officeHours.resource!.data['snapshotSchedulePolicy'];
    expect(await refusal(attachedDisk('web-1'), SETTINGS, [officeHours])).toMatch(
      /is not a snapshot schedule/,
    );
    await h.close();
    expect(
      await refusal(attachedDisk('web-1'), SETTINGS, [
        schedulePolicyAsset('daily-14d', { status: 'CREATING' }),
      ]),
    ).toMatch(/is CREATING, not READY/);
  });

  it('a GKE node disk or PersistentVolume (the policy skips them too)', async () => {
    const node = attachedDisk('gke-prod-web-gke-default-pool-5f2c9a1e-x7k2', {
      labels: { 'goog-gke-node': '' },
    });
    expect(await refusal(node, SETTINGS, [schedulePolicyAsset('daily-14d')])).toMatch(/managed by GKE/);
    await h.close();
    const pv = attachedDisk('pvc-data', { description: '{"kubernetes.io/created-for/pvc/name":"data-0"}' });
    expect(await refusal(pv, SETTINGS, [schedulePolicyAsset('daily-14d')])).toMatch(/managed by GKE/);
  });

  it('leaves a disk that already has a resource policy as it is (already_applied)', async () => {
    const scheduled = attachedDisk('web-1', { resourcePolicies: [scheduleUrl('weekly')] });
    h = await startHarness([scheduled, schedulePolicyAsset('daily-14d'), schedulePolicyAsset('weekly')]);
    const ctx = ctxOf(h);
    const before = await action.captureBefore(scheduled, ctx);
    expect((await action.apply(scheduled, before!, ctx)).status).toBe('already_applied');
    expect(posts(h)).toHaveLength(0);
  });

  it('rejects a recorded state it did not write as a non-retryable error', async () => {
    h = await startHarness([]);
    const recorded = { target: {} } as unknown as SnapshotScheduleState;
    const err = await rejection(action.undo(attachedDisk('web-1'), recorded, { nope: true }, ctxOf(h)));
    expect((err as WardenError).retryable).toBe(false);
    expect((err as WardenError).code).toBe('invalid_state');
  });
});
