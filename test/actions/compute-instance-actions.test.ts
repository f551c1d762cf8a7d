import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { diskAddRequiredLabels } from '../../shared/actions/compute-disk-add-required-labels.js';
import { instanceAddRequiredLabels } from '../../shared/actions/compute-instance-add-required-labels.js';
import { instanceBlockProjectSshKeys } from '../../shared/actions/compute-instance-block-project-ssh-keys.js';
import { instanceDisableSerialPort } from '../../shared/actions/compute-instance-disable-serial-port.js';
import { instanceEnableDeletionProtection } from '../../shared/actions/compute-instance-enable-deletion-protection.js';
import { instanceEnableOsLogin } from '../../shared/actions/compute-instance-enable-os-login.js';
import { withItem } from '../../shared/actions/compute-metadata-setting.js';
import { missingLabels } from '../../shared/actions/compute-labels.js';
import { projectDisableSerialPort } from '../../shared/actions/compute-project-disable-serial-port.js';
import { projectEnableOsLogin } from '../../shared/actions/compute-project-enable-os-login.js';
import { getAction } from '../../shared/actions/registry.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import { projectRoot } from '../../shared/util/project-root.js';
import {
  computeProjectAsset,
  diskAsset,
  instanceAsset,
  ZONE,
  type MetadataItem,
} from '../twin/compute-instance-fixtures.js';
import { PROJECT_ID, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';

const NOW = '2026-03-01T09:00:00.000Z';
const BASE_ITEMS: MetadataItem[] = [
  { key: 'startup-script', value: '#!/bin/bash\necho hello' },
  { key: 'ssh-keys', value: 'alice:ssh-ed25519 AAAA alice' },
];

interface Case {
  action: RemediationAction;
  policyId: string;
  /** A resource the policy flags. */
  asset: () => Asset;
  /** The REST path of the resource (twin side) and of the write apply sends. */
  resourcePath: string;
  writePath: string;
  /** The part of the resource data the fix changes, as the test compares it before / after / undone. */
  field: (data: Record<string, unknown>) => unknown;
  fixed: unknown;
  /** Whether the write carries a fingerprint (412 on a concurrent change), else a re-read guard only. */
  fingerprinted: boolean;
  /** A GKE-managed variant the action must refuse (none for project-level actions). */
  gke?: () => Asset;
}

const I = 'web-1';
const instancePath = (name = I) => `/compute/v1/projects/${PROJECT_ID}/zones/${ZONE}/instances/${name}`;
const diskPath = (name: string) => `/compute/v1/projects/${PROJECT_ID}/zones/${ZONE}/disks/${name}`;
const projectPath = `/compute/v1/projects/${PROJECT_ID}`;
const items =
  (key: string, metadataField = 'metadata') =>
  (data: Record<string, unknown>) => {
    const list = ((data[metadataField] as { items?: MetadataItem[] } | undefined)?.items ?? []).find(
      (i) => i.key === key,
    );
    return list?.value ?? null;
  };
const allItems = (metadataField: string) => (data: Record<string, unknown>) =>
  (data[metadataField] as { items?: MetadataItem[] } | undefined)?.items ?? [];
const labelsOf = (data: Record<string, unknown>) => data['labels'];

const gkeNode = (over: Parameters<typeof instanceAsset>[1] = {}) =>
  instanceAsset('gke-prod-pool-1-abcd', over);

const CASES: Case[] = [
  {
    action: instanceDisableSerialPort as RemediationAction,
    policyId: 'vm-serial-port-enabled',
    asset: () => instanceAsset(I, { items: [...BASE_ITEMS, { key: 'serial-port-enable', value: 'true' }] }),
    resourcePath: instancePath(),
    writePath: `${instancePath()}/setMetadata`,
    field: items('serial-port-enable'),
    fixed: 'FALSE',
    fingerprinted: true,
    gke: () => gkeNode({ items: [{ key: 'serial-port-enable', value: 'TRUE' }] }),
  },
  {
    action: instanceBlockProjectSshKeys as RemediationAction,
    policyId: 'vm-block-project-ssh-keys-disabled',
    asset: () => instanceAsset(I),
    resourcePath: instancePath(),
    writePath: `${instancePath()}/setMetadata`,
    field: items('block-project-ssh-keys'),
    fixed: 'TRUE',
    fingerprinted: true,
    // Not gke-* by name: recognised by its metadata alone.
    gke: () =>
      instanceAsset('pool-node-7', { items: [...BASE_ITEMS, { key: 'cluster-name', value: 'prod-gke' }] }),
  },
  {
    action: instanceEnableOsLogin as RemediationAction,
    policyId: 'vm-os-login-disabled',
    asset: () => instanceAsset(I, { items: [{ key: 'enable-oslogin', value: 'false' }, ...BASE_ITEMS] }),
    resourcePath: instancePath(),
    writePath: `${instancePath()}/setMetadata`,
    field: items('enable-oslogin'),
    fixed: 'TRUE',
    fingerprinted: true,
    gke: () =>
      instanceAsset('pool-node-8', {
        items: [{ key: 'enable-oslogin', value: 'false' }],
        labels: { 'goog-gke-node': '' },
      }),
  },
  {
    action: projectEnableOsLogin as RemediationAction,
    policyId: 'compute-project-os-login-disabled',
    asset: () => computeProjectAsset([...BASE_ITEMS, { key: 'enable-oslogin', value: 'FALSE' }]),
    resourcePath: projectPath,
    writePath: `${projectPath}/setCommonInstanceMetadata`,
    field: items('enable-oslogin', 'commonInstanceMetadata'),
    fixed: 'TRUE',
    fingerprinted: true,
  },
  {
    action: projectDisableSerialPort as RemediationAction,
    policyId: 'compute-project-serial-port-enabled',
    asset: () => computeProjectAsset([{ key: 'serial-port-enable', value: '1' }, ...BASE_ITEMS]),
    resourcePath: projectPath,
    writePath: `${projectPath}/setCommonInstanceMetadata`,
    field: items('serial-port-enable', 'commonInstanceMetadata'),
    fixed: 'FALSE',
    fingerprinted: true,
  },
  {
    action: instanceEnableDeletionProtection as RemediationAction,
    policyId: 'vm-deletion-protection-disabled',
    asset: () => instanceAsset(I),
    resourcePath: instancePath(),
    writePath: `${instancePath()}/setDeletionProtection`,
    field: (d) => d['deletionProtection'],
    fixed: true,
    fingerprinted: false,
    gke: () => gkeNode(),
  },
  {
    action: instanceAddRequiredLabels as RemediationAction,
    policyId: 'labels-compute-instance-required',
    asset: () => instanceAsset(I, { labels: { app: 'storefront', env: 'dev' } }),
    resourcePath: instancePath(),
    writePath: `${instancePath()}/setLabels`,
    field: labelsOf,
    fixed: { app: 'storefront', env: 'dev', team: 'unassigned', 'cost-center': 'unassigned' },
    fingerprinted: true,
    gke: () => gkeNode({ labels: { 'goog-gke-node': '' } }),
  },
  {
    action: diskAddRequiredLabels as RemediationAction,
    policyId: 'labels-compute-disk-required',
    asset: () => diskAsset('data-1', { team: 'web' }),
    resourcePath: diskPath('data-1'),
    writePath: `${diskPath('data-1')}/setLabels`,
    field: labelsOf,
    fixed: { team: 'web', env: 'unassigned', 'cost-center': 'unassigned' },
    fingerprinted: true,
    gke: () => diskAsset('pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', {}),
  },
];

let policies: PolicySet;
beforeAll(async () => {
  policies = await loadPolicies(path.join(projectRoot(), 'policies'));
});

function verdict(policyId: string, asset: Asset): string {
  const r = policies.evaluate(asset, { now: NOW }).find((x) => x.policy.def.id === policyId);
  if (!r) throw new Error(`policy ${policyId} did not run on ${asset.assetType}`);
  if (r.verdict.kind === 'error') return `error: ${r.verdict.message}`;
  return r.verdict.kind;
}

function writes(h: TwinHarness, writePath: string): number {
  return h.twin.requests.filter((r) => r.method === 'POST' && r.path === writePath).length;
}

describe('helpers', () => {
  it('withItem sets one key and keeps every other item in place', () => {
    expect(withItem(BASE_ITEMS, 'ssh-keys', 'x')).toEqual([BASE_ITEMS[0], { key: 'ssh-keys', value: 'x' }]);
    expect(withItem([], 'enable-oslogin', 'TRUE')).toEqual([{ key: 'enable-oslogin', value: 'TRUE' }]);
  });
  it('missingLabels adds only the absent required keys', () => {
    expect(missingLabels({ env: 'prod', team: '' }, DEFAULT_ACTION_SETTINGS)).toEqual({
      'cost-center': 'unassigned',
    });
    expect(
      missingLabels(
        {},
        { ...DEFAULT_ACTION_SETTINGS, labelDefaults: { env: 'dev' }, requiredLabels: ['env'] },
      ),
    ).toEqual({ env: 'dev' });
  });
});

describe.each(CASES)('$action.id', (c) => {
  let h: TwinHarness;
  let asset: Asset;
  afterEach(async () => {
    await h?.close();
  });
  const start = async (opts: Parameters<typeof startHarness>[1] = {}, a = c.asset()): Promise<void> => {
    asset = a;
    h = await startHarness([asset], opts);
  };

  it('is registered, with the risk its policy names', async () => {
    expect(getAction(c.action.id)).toBe(c.action);
    const p = policies.get(c.policyId);
    expect(p?.remediation).toMatchObject({ kind: 'action', action: c.action.id, risk: c.action.risk });
    expect(c.action.reversible).toBe(true);
    expect(c.action.assetTypes).toEqual([c.asset().assetType]);
  });

  it('plans the exact requests against compute.googleapis.com', async () => {
    const plan = c.action.plan(c.asset(), DEFAULT_ACTION_SETTINGS);
    const base = 'https://compute.googleapis.com';
    expect(plan.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${base}${c.resourcePath}`,
      `POST ${base}${c.writePath}${c.writePath.endsWith('setDeletionProtection') ? '?deletionProtection=true' : ''}`,
      c.resourcePath === projectPath
        ? `POST ${base}${projectPath}/global/operations/{operation}/wait`
        : `POST ${base}/compute/v1/projects/${PROJECT_ID}/zones/${ZONE}/operations/{operation}/wait`,
    ]);
    const body = plan.requests[1]?.body as Record<string, unknown> | undefined;
    if (c.writePath.endsWith('setMetadata') || c.writePath.endsWith('setCommonInstanceMetadata')) {
      const data = c.asset().resource?.data ?? {};
      const field = c.resourcePath === projectPath ? 'commonInstanceMetadata' : 'metadata';
      expect(body?.['fingerprint']).toBe((data[field] as { fingerprint: string }).fingerprint);
      expect(c.field({ [field]: body })).toBe(c.fixed);
      expect((body?.['items'] as unknown[]).length).toBeGreaterThanOrEqual(allItems(field)(data).length);
    } else if (c.writePath.endsWith('setLabels')) {
      expect(body).toEqual({ labels: c.fixed, labelFingerprint: 'vFIcoYVs80k=' });
    } else {
      expect(body).toBeUndefined();
    }
  });

  it('applies through the real client, the policy then passes on the live asset, twice is a no-op, undo restores exactly', async () => {
    await start();
    const ctx = actionContext(h);
    expect(verdict(c.policyId, asset)).toBe('violation');
    const original = structuredClone(h.twin.getAsset(asset.name)?.resource?.data ?? {});
    const before = await c.action.captureBefore(asset, ctx);
    expect(before).not.toBeNull();

    const applied = await c.action.apply(asset, before, ctx);
    expect(applied.status).toBe('applied');
    expect(writes(h, c.writePath)).toBe(1);
    const sent = h.twin.requests.find((r) => r.path === c.writePath);
    if (c.fingerprinted && sent?.path.endsWith('etadata')) {
      // The whole list is sent, with the fingerprint read: every other item is kept (catalog F10).
      const field = c.resourcePath === projectPath ? 'commonInstanceMetadata' : 'metadata';
      const body = sent.body as { fingerprint: string; items: MetadataItem[] };
      expect(body.fingerprint).toBe((original[field] as { fingerprint: string }).fingerprint);
      for (const item of allItems(field)(original) as MetadataItem[]) {
        expect(body.items.map((i) => i.key)).toContain(item.key);
      }
      expect(body.items.filter((i) => i.value === c.fixed)).toHaveLength(1);
    }

    const live = await c.action.readLive(asset, ctx);
    expect(live?.name).toBe(asset.name);
    expect(live?.assetType).toBe(asset.assetType);
    expect(live?.ancestors).toEqual(asset.ancestors);
    expect(c.field(live?.resource?.data ?? {})).toEqual(c.fixed);
    expect(verdict(c.policyId, live as Asset)).toBe('pass');
    // The change came back through the CAI feed.
    expect(h.feed.length).toBeGreaterThanOrEqual(1);
    const msg = h.feed.at(-1) as { asset: Asset };
    expect(c.field(msg.asset.resource?.data ?? {})).toEqual(c.fixed);

    const again = await c.action.apply(asset, before, ctx);
    expect(again.status).toBe('already_applied');
    expect(writes(h, c.writePath)).toBe(1);

    const after = applied.status === 'applied' ? applied.after : null;
    expect(await c.action.undo(asset, before, after, ctx)).toEqual({ status: 'restored' });
    const restored = h.twin.getAsset(asset.name)?.resource?.data ?? {};
    expect(c.field(restored)).toEqual(c.field(original));
    for (const f of ['metadata', 'commonInstanceMetadata']) {
      if (original[f]) expect(allItems(f)(restored)).toEqual(allItems(f)(original));
    }
    expect(restored['labels']).toEqual(original['labels']);
    expect(restored['deletionProtection']).toEqual(original['deletionProtection']);
    // (JSON round trip: structuredClone's objects come from outside jest's realm, which CEL rejects.)
    const restoredAsset = JSON.parse(
      JSON.stringify({ ...asset, resource: { ...asset.resource, data: restored } }),
    );
    expect(verdict(c.policyId, restoredAsset as Asset)).toBe('violation');
    // Undo of an undone fix sends nothing more.
    const sentBefore = writes(h, c.writePath);
    expect(await c.action.undo(asset, before, after, ctx)).toEqual({
      status: 'refused',
      reason: expect.any(String),
    });
    expect(writes(h, c.writePath)).toBe(sentBefore);
  });

  it('a concurrent change seen on the re-read: conflict, nothing sent', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: c.resourcePath }, concurrentModification: true, times: 1 },
    ]);
    const outcome = await c.action.apply(asset, before, ctx);
    expect(outcome.status).toBe('conflict');
    expect(writes(h, c.writePath)).toBe(0);
    const data = h.twin.getAsset(asset.name)?.resource?.data ?? {};
    expect(c.field(data)).not.toEqual(c.fixed);
  });

  it('a concurrent change while the write is sent: nobody’s change is clobbered', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    h.twin.setFaults([
      { match: { method: 'POST', pathPattern: c.writePath }, concurrentModification: true, times: 1 },
    ]);
    const outcome = await c.action.apply(asset, before, ctx);
    const data = h.twin.getAsset(asset.name)?.resource?.data ?? {};
    const theirs = JSON.stringify(data);
    expect(theirs).toMatch(/changed-by/); // the other change is there
    if (c.fingerprinted) {
      // compute refused the stale fingerprint with 412: conflict, the fix not applied.
      expect(outcome.status).toBe('conflict');
      expect(c.field(data)).not.toEqual(c.fixed);
    } else {
      // setDeletionProtection has no precondition; it touches only its flag, so the other change stays.
      expect(outcome.status).toBe('applied');
      expect(c.field(data)).toEqual(c.fixed);
    }
  });

  it('refuses to undo after someone changed the resource, and sends nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const applied = await c.action.apply(asset, before, ctx);
    expect(applied.status).toBe('applied');
    const sent = writes(h, c.writePath);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: c.resourcePath }, concurrentModification: true, times: 1 },
    ]);
    const undo = await c.action.undo(asset, before, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo.status).toBe('refused');
    expect(writes(h, c.writePath)).toBe(sent);
    expect(c.field(h.twin.getAsset(asset.name)?.resource?.data ?? {})).toEqual(
      typeof c.fixed === 'object' ? expect.objectContaining(c.fixed as object) : c.fixed,
    );
  });

  it('surfaces an injected 503 as a retryable WardenError', async () => {
    await start({ faults: [{ match: { method: 'POST', pathPattern: c.writePath }, errorStatus: 503 }] });
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const err = await rejection(c.action.apply(asset, before, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(true);
    expect((err as WardenError).code).toBe('UNAVAILABLE');
  });

  it('surfaces a failed operation as a non-retryable WardenError and leaves the resource as it was', async () => {
    await start({ faults: [{ match: { method: 'POST', pathPattern: c.writePath }, failOperation: true }] });
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const err = await rejection(c.action.apply(asset, before, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(false);
    expect((err as WardenError).code).toBe('operation_failed');
    expect(c.field(h.twin.getAsset(asset.name)?.resource?.data ?? {})).toEqual(
      c.field(asset.resource?.data ?? {}),
    );
  });

  it('returns null and gone for a resource that no longer exists', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const other = structuredClone(asset);
    other.name = asset.name.replace(/[^/]+$/, 'deleted-1');
    const missing = await startHarness([]);
    try {
      const mctx = actionContext(missing);
      expect(await c.action.captureBefore(other, mctx)).toBeNull();
      expect(await c.action.readLive(other, mctx)).toBeNull();
      expect(await c.action.apply(other, before, mctx)).toEqual({ status: 'gone' });
      expect(await c.action.undo(other, before, before, mctx)).toEqual({ status: 'gone' });
    } finally {
      await missing.close();
    }
  });

  if (c.gke) {
    const gke = c.gke;
    it('refuses a GKE-managed resource with a conflict naming the reason, and sends nothing', async () => {
      const a = gke();
      await start({}, a);
      const ctx = actionContext(h);
      const before = await c.action.captureBefore(a, ctx);
      const outcome = await c.action.apply(a, before, ctx);
      expect(outcome.status).toBe('conflict');
      expect(outcome.status === 'conflict' ? outcome.reason : '').toMatch(/GKE/);
      expect(h.twin.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    });
  }
});
