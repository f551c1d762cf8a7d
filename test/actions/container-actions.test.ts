import { afterEach, describe, expect, it } from '@jest/globals';
import { clusterAddRequiredLabels } from '../../shared/actions/container-cluster-add-required-labels.js';
import { clusterDisableKubernetesDashboard } from '../../shared/actions/container-cluster-disable-kubernetes-dashboard.js';
import { clusterDisableLegacyAbac } from '../../shared/actions/container-cluster-disable-legacy-abac.js';
import { clusterEnableNodeAutoRepair } from '../../shared/actions/container-cluster-enable-node-auto-repair.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { clusterAsset, clusterPath, LOCATION, nodePool } from '../twin/container-fixtures.js';
import { PROJECT_ID, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, applyFix, rejection } from './action-context.js';
import {
  basicsOf,
  describeActionContract,
  describedBySomeoneElse,
  request,
  sameData,
  type ActionContract,
  type CaseBasics,
} from './action-contract.js';
import { expectRegistered, verdict } from './policies.js';

const API = 'https://container.googleapis.com';
const OPERATIONS = `/v1/projects/${PROJECT_ID}/locations/${LOCATION}/operations/`;

type Data = Record<string, unknown>;

interface Case extends CaseBasics {
  write: { method: string; path: string };
  field: (data: Data) => unknown;
  fixed: unknown;
  /** The write carries a precondition GKE checks (labelFingerprint); else a re-read guard only. */
  fingerprinted: boolean;
  /** Variants the action must refuse ('conflict', nothing sent). */
  refused?: Array<{ asset: () => Asset; reason: RegExp }>;
}

const DEFAULT_ADDONS = {
  gcePersistentDiskCsiDriverConfig: { enabled: true },
  horizontalPodAutoscaling: {},
  httpLoadBalancing: {},
  networkPolicyConfig: { disabled: true },
};
const management = (d: Data) => (d['nodePools'] as Data[]).map((p) => [p['name'], p['management']]);

const CASES: Case[] = [
  {
    title: 'legacy ABAC on',
    action: clusterDisableLegacyAbac as RemediationAction,
    policyIds: ['gke-legacy-abac-enabled'],
    asset: () => clusterAsset('abac', { legacyAbac: { enabled: true } }),
    write: { method: 'POST', path: `${clusterPath('abac')}:setLegacyAbac` },
    field: (d) => d['legacyAbac'],
    fixed: {},
    fingerprinted: false,
  },
  {
    title: 'Kubernetes Dashboard on (GKE 1.14)',
    action: clusterDisableKubernetesDashboard as RemediationAction,
    policyIds: ['gke-kubernetes-dashboard-enabled'],
    asset: () =>
      clusterAsset('dash', {
        currentMasterVersion: '1.14.10-gke.50',
        currentNodeVersion: '1.14.10-gke.50',
        addonsConfig: { ...DEFAULT_ADDONS, kubernetesDashboard: {} },
      }),
    write: { method: 'POST', path: `${clusterPath('dash')}:setAddons` },
    field: (d) => d['addonsConfig'],
    // setAddons replaces the whole addonsConfig: every other add-on is sent back as it was.
    fixed: { ...DEFAULT_ADDONS, kubernetesDashboard: { disabled: true } },
    fingerprinted: false,
  },
  {
    title: 'a node pool without auto-repair',
    action: clusterEnableNodeAutoRepair as RemediationAction,
    policyIds: ['gke-node-auto-repair-disabled'],
    asset: () =>
      clusterAsset('repair', {
        nodePools: [nodePool('repair', 'default-pool', { management: { autoUpgrade: true } })],
      }),
    write: { method: 'POST', path: `${clusterPath('repair')}/nodePools/default-pool:setManagement` },
    field: management,
    fixed: [['default-pool', { autoRepair: true, autoUpgrade: true }]],
    fingerprinted: false,
    refused: [
      {
        asset: () =>
          clusterAsset('repair', {
            autopilot: { enabled: true },
            nodePools: [nodePool('repair', 'default-pool', { management: {} })],
          }),
        reason: /Autopilot/,
      },
      {
        asset: () =>
          clusterAsset('repair', {
            releaseChannel: { channel: 'REGULAR' },
            nodePools: [nodePool('repair', 'default-pool', { management: {} })],
          }),
        reason: /REGULAR release channel.*default-pool/,
      },
    ],
  },
  {
    title: 'missing required labels',
    action: clusterAddRequiredLabels as RemediationAction,
    policyIds: ['labels-gke-cluster-required'],
    asset: () => clusterAsset('labels', { resourceLabels: { env: 'prod', team: 'web' } }),
    write: { method: 'POST', path: `${clusterPath('labels')}:setResourceLabels` },
    // The concurrent-modification fault adds a changed-by label of its own.
    field: (d) => {
      const { 'changed-by': _c, ...labels } = (d['resourceLabels'] ?? {}) as Data;
      return labels;
    },
    fixed: { env: 'prod', team: 'web', 'cost-center': 'unassigned' },
    fingerprinted: true,
  },
];

/** The cluster without what every labels write bumps. */
function stable(data: Data | undefined): Data {
  const { labelFingerprint: _f, etag: _e, ...rest } = data ?? {};
  return rest;
}

const mutations = (h: TwinHarness) => h.twin.requests.filter((r) => r.method !== 'GET');
describe('the GKE actions are registered with the policies that use them', () => {
  it('registers each action with its risk and reversibility, named by a policy', () => {
    for (const [id, risk, reversible] of [
      ['container.cluster.disable-legacy-abac', 'medium', true],
      ['container.cluster.disable-kubernetes-dashboard', 'low', false],
      ['container.cluster.enable-node-auto-repair', 'medium', true],
      ['container.cluster.add-required-labels', 'low', true],
    ] as const) {
      const named = expectRegistered(id, {
        risk,
        reversible,
        assetTypes: ['container.googleapis.com/Cluster'],
      });
      for (const p of named) expect(p.def.remediation).toMatchObject({ risk });
    }
  });
});

describeActionContract(
  CASES.map((c): ActionContract => {
    const write = { method: c.write.method, pathPattern: c.write.path };
    const read = { method: 'GET', pathPattern: clusterPath(String(c.asset().resource?.data['name'])) };
    return {
      ...basicsOf(c),
      api: 'container.googleapis.com',
      plan: ({ asset }, plan) => {
        const name = asset.name.replace('//container.googleapis.com/', '');
        expect(plan.requests[0]).toEqual({ method: 'GET', url: `${API}/v1/${name}` });
        expect(plan.requests[1]).toMatchObject({ method: c.write.method, url: `${API}${c.write.path}` });
        expect(plan.requests[2]).toEqual({ method: 'GET', url: `${API}${OPERATIONS}{operation}` });
        if (c.fingerprinted)
          expect((plan.requests[1]?.body as Data)['labelFingerprint']).toBe(
            asset.resource?.data['labelFingerprint'],
          );
        expect(plan.description.length).toBeGreaterThan(80);
      },
      field: (a) => c.field(a?.resource?.data ?? {}),
      fixed: c.fixed,
      isWrite: request(c.write.method, c.write.path),
      untouched: sameData,
      fix: {
        sent: ({ h, asset }) => {
          const sent = h.twin.requests.find((r) => r.method === c.write.method && r.path === c.write.path);
          expect(sent?.body).toEqual(c.action.plan(asset, DEFAULT_ACTION_SETTINGS).requests[1]?.body);
          // The operation was waited for: read until DONE before the cluster was read back.
          expect(h.twin.requests.filter((r) => r.path.startsWith(OPERATIONS)).length).toBeGreaterThanOrEqual(
            2,
          );
        },
        // readLive gives the cluster exactly as CAI now holds it (REST JSON, no client defaults).
        live: (live, { h, asset }) =>
          expect(live.resource?.data).toEqual(h.twin.getAsset(asset.name)?.resource?.data),
        feed: 'some',
        restored: ({ h, restored, asset }) => {
          expect(stable(restored.resource?.data)).toEqual(stable(asset.resource?.data));
          expect(stable(h.twin.getAsset(asset.name)?.resource?.data)).toEqual(stable(asset.resource?.data));
        },
      },
      // labelFingerprint is a precondition GKE checks; the other set* calls have only the re-read.
      conflict: c.fingerprinted
        ? {
            atWrite: {
              at: write,
              reason: 'FAILED_PRECONDITION',
              stale: true,
              theirs: describedBySomeoneElse,
            },
          }
        : {
            beforeWrite: {
              change: { at: read },
              reason: /changed since/,
              stale: true,
              theirs: describedBySomeoneElse,
            },
          },
      undoAfterChange: { change: { at: read } },
      retryable: {
        unavailable: { at: write, times: 1 },
        throttled: { at: { method: 'GET', pathPattern: OPERATIONS }, via: 'apply' },
      },
      failedOperation: { at: write, message: /GKE operation operation-\S+ .* failed: The operation failed/ },
      refused: c.refused,
    };
  }),
);

describe('GKE actions: what GKE allows and refuses', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('enable-node-auto-repair: one pool after the other, each operation DONE before the next call, auto-upgrade kept', async () => {
    const asset = clusterAsset('multi', {
      nodePools: [
        nodePool('multi', 'web', { management: { autoUpgrade: true } }),
        nodePool('multi', 'ok', { management: { autoRepair: true, autoUpgrade: true } }),
        nodePool('multi', 'batch', { management: {} }),
      ],
    });
    h = await startHarness([asset], { operationPolls: 3 });
    const ctx = actionContext(h);
    const { before, after } = await applyFix(clusterEnableNodeAutoRepair, asset, ctx);
    const log = h.twin.requests.map(
      (r) => `${r.method} ${r.path.replace(/.*\/(nodePools|operations)\//, '$1/')}`,
    );
    const first = log.indexOf('POST nodePools/web:setManagement');
    const second = log.indexOf('POST nodePools/batch:setManagement');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThan(first);
    expect(log.slice(first + 1, second).filter((l) => l.startsWith('GET operations/'))).toHaveLength(3);
    expect(h.twin.requests.find((r) => r.path.endsWith('batch:setManagement'))?.body).toEqual({
      management: { autoUpgrade: false, autoRepair: true },
    });
    const live = (await clusterEnableNodeAutoRepair.readLive(asset, ctx))!;
    expect(management(live.resource?.data ?? {})).toEqual([
      ['web', { autoRepair: true, autoUpgrade: true }],
      ['ok', { autoRepair: true, autoUpgrade: true }],
      ['batch', { autoRepair: true }],
    ]);
    expect(verdict('gke-node-auto-repair-disabled', live)).toBe('pass');
    // Undo gives each pool its own management back, again one operation at a time.
    expect(await clusterEnableNodeAutoRepair.undo(asset, before, after, ctx)).toEqual({
      status: 'restored',
    });
    expect(management(h.twin.getAsset(asset.name)?.resource?.data ?? {})).toEqual(
      management(asset.resource!.data),
    );
  });

  it('enable-node-auto-repair: resumes a fix interrupted after its first pool without calling it a conflict', async () => {
    const a = nodePool('resume', 'a');
    delete a['management']; // GKE may omit the block altogether
    const asset = clusterAsset('resume', { nodePools: [a, nodePool('resume', 'b', { management: {} })] });
    h = await startHarness([asset], { operationPolls: 0 });
    const ctx = actionContext(h);
    const before = await clusterEnableNodeAutoRepair.captureBefore(asset, ctx);
    // The first pool's call went through before the executor lost its lease.
    const client = await h.cloud.container('ClusterManagerClient');
    await client.setNodePoolManagement({
      name: `projects/${PROJECT_ID}/locations/${LOCATION}/clusters/resume/nodePools/a`,
      management: { autoUpgrade: false, autoRepair: true },
    });
    const applied = await clusterEnableNodeAutoRepair.apply(asset, before!, ctx);
    expect(applied.status).toBe('applied');
    expect(
      h.twin.requests.filter((r) => r.path.endsWith(':setManagement')).map((r) => r.path.split('/').pop()),
    ).toEqual(['a:setManagement', 'b:setManagement']);
    expect(
      await clusterEnableNodeAutoRepair.undo(
        asset,
        before!,
        applied.status === 'applied' ? applied.after : null,
        ctx,
      ),
    ).toEqual({
      status: 'restored',
    });
    expect(management(h.twin.getAsset(asset.name)?.resource?.data ?? {})).toEqual([
      ['a', {}],
      ['b', {}],
    ]);
  });

  it('a cluster busy with another operation answers 400 FAILED_PRECONDITION, surfaced as retryable', async () => {
    const asset = clusterAsset('busy', { legacyAbac: { enabled: true } });
    h = await startHarness([asset], { operationPolls: 5 });
    const ctx = actionContext(h);
    const before = await clusterDisableLegacyAbac.captureBefore(asset, ctx);
    const client = await h.cloud.container('ClusterManagerClient');
    await client.setLabels({
      name: `projects/${PROJECT_ID}/locations/${LOCATION}/clusters/busy`,
      resourceLabels: { env: 'prod' },
      labelFingerprint: String(asset.resource?.data['labelFingerprint']),
    });
    const err = await rejection(clusterDisableLegacyAbac.apply(asset, before!, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(true);
    expect((err as WardenError).code).toBe('cluster_busy');
    expect((err as WardenError).message).toMatch(/running another operation/);
    expect(h.twin.getAsset(asset.name)?.resource?.data['legacyAbac']).toEqual({ enabled: true });
  });

  it('add-required-labels: a label value GKE rejects is a permanent 400 and the cluster is unchanged', async () => {
    const asset = clusterAsset('badlabel', { resourceLabels: { env: 'prod' } });
    h = await startHarness([asset]);
    const ctx = {
      ...actionContext(h),
      settings: { ...DEFAULT_ACTION_SETTINGS, labelDefaultValue: 'Not Valid' },
    };
    const before = await clusterAddRequiredLabels.captureBefore(asset, ctx);
    const err = await rejection(clusterAddRequiredLabels.apply(asset, before!, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(false);
    expect((err as WardenError).code).toBe('INVALID_ARGUMENT');
    expect((err as WardenError).message).toMatch(/setting the resource labels of GKE cluster badlabel.*400/);
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
  });

  it('add-required-labels: never changes an existing value, only adds the missing keys', async () => {
    const asset = clusterAsset('keep', { resourceLabels: { team: '', env: 'prod-1' } });
    h = await startHarness([asset], { operationPolls: 0 });
    const ctx = actionContext(h);
    await applyFix(clusterAddRequiredLabels, asset, ctx);
    expect(h.twin.getAsset(asset.name)?.resource?.data['resourceLabels']).toEqual({
      team: '',
      env: 'prod-1',
      'cost-center': 'unassigned',
    });
  });

  it('disable-kubernetes-dashboard: on GKE 1.15 and later the add-on cannot come back, so undo is refused and sends nothing', async () => {
    const asset = clusterAsset('modern', {
      addonsConfig: { ...DEFAULT_ADDONS, kubernetesDashboard: { disabled: false } },
    });
    h = await startHarness([asset], { operationPolls: 0 });
    const ctx = actionContext(h);
    const { before, after } = await applyFix(clusterDisableKubernetesDashboard, asset, ctx);
    const undo = await clusterDisableKubernetesDashboard.undo(asset, before, after, ctx);
    expect(undo).toMatchObject({
      status: 'refused',
      reason: expect.stringMatching(/cannot be enabled again on GKE 1\.15/),
    });
    expect(mutations(h)).toHaveLength(1);
    // What undo would have sent is refused by GKE itself.
    const client = await h.cloud.container('ClusterManagerClient');
    const refusal = await rejection(
      client.setAddonsConfig({
        name: `projects/${PROJECT_ID}/locations/${LOCATION}/clusters/modern`,
        addonsConfig: { ...DEFAULT_ADDONS, kubernetesDashboard: {} },
      }),
    );
    expect(String((refusal as Error).message)).toMatch(/"code":400.*1\.15/);
  });

  it('enable-node-auto-repair: undo is refused on a release channel, where GKE requires auto-repair', async () => {
    const asset = clusterAsset('channel', {
      releaseChannel: { channel: 'STABLE' },
      nodePools: [nodePool('channel', 'default-pool', { management: { autoUpgrade: true } })],
    });
    h = await startHarness([asset], { operationPolls: 0 });
    const ctx = actionContext(h);
    const { before, after } = await applyFix(clusterEnableNodeAutoRepair, asset, ctx);
    const undo = await clusterEnableNodeAutoRepair.undo(asset, before, after, ctx);
    expect(undo).toMatchObject({
      status: 'refused',
      reason: expect.stringMatching(/STABLE release channel/),
    });
    expect(mutations(h)).toHaveLength(1);
  });
});
