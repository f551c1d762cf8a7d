import { describe, expect, it } from '@jest/globals';
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
import {
  computeProjectAsset,
  diskAsset,
  instanceAsset,
  ZONE,
  type MetadataItem,
} from '../twin/compute-instance-fixtures.js';
import { PROJECT_ID } from '../twin/twin-fixtures.js';
import { describeActionContract, request, type ActionContract } from './action-contract.js';
import { policySet, verdict } from './policies.js';

const BASE_ITEMS: MetadataItem[] = [
  { key: 'startup-script', value: '#!/bin/bash\necho hello' },
  { key: 'ssh-keys', value: 'alice:ssh-ed25519 AAAA alice' },
];

interface Case {
  title: string;
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
// The label someone else adds in these tests (the twin's concurrent change) is not the fix's.
const labelsOf = (data: Record<string, unknown>) => {
  const { 'changed-by': _c, ...labels } = (data['labels'] ?? {}) as Record<string, unknown>;
  return labels;
};

const gkeNode = (over: Parameters<typeof instanceAsset>[1] = {}) =>
  instanceAsset('gke-prod-pool-1-abcd', over);

const CASES: Case[] = [
  {
    title: 'a VM with its serial port enabled',
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
    title: 'a VM that accepts project-wide SSH keys',
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
    title: 'a VM with OS Login off',
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
    title: 'a project with OS Login off',
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
    title: 'a project with the serial port enabled',
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
    title: 'a VM without deletion protection',
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
    title: 'a VM missing required labels',
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
    title: 'a disk missing required labels',
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

/** The twin's concurrent change to a VM or disk adds a changed-by label (and, on a VM, a metadata item). */
const changedBySomeoneElse = (now: Asset | undefined) => expect(JSON.stringify(now)).toMatch(/changed-by/);

describeActionContract(
  CASES.map((c): ActionContract => {
    const metadataField = c.resourcePath === projectPath ? 'commonInstanceMetadata' : 'metadata';
    const write = { method: 'POST', pathPattern: c.writePath };
    const read = { method: 'GET', pathPattern: c.resourcePath };
    const fieldOf = (a: Asset | undefined) => c.field(a?.resource?.data ?? {});
    return {
      title: c.title,
      action: c.action,
      asset: c.asset,
      api: 'compute.googleapis.com',
      plan: (_run, plan) => {
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
          expect(body?.['fingerprint']).toBe((data[metadataField] as { fingerprint: string }).fingerprint);
          expect(c.field({ [metadataField]: body })).toBe(c.fixed);
          expect((body?.['items'] as unknown[]).length).toBeGreaterThanOrEqual(
            allItems(metadataField)(data).length,
          );
        } else if (c.writePath.endsWith('setLabels')) {
          expect(body).toEqual({ labels: c.fixed, labelFingerprint: 'vFIcoYVs80k=' });
        } else {
          expect(body).toBeUndefined();
        }
      },
      policyIds: [c.policyId],
      field: fieldOf,
      fixed: c.fixed,
      isWrite: request('POST', c.writePath),
      fix: {
        sent: ({ h, twinBefore }) => {
          const sent = h.twin.requests.find((r) => r.path === c.writePath);
          if (c.fingerprinted && sent?.path.endsWith('etadata')) {
            // The whole list is sent, with the fingerprint read: every other item is kept (catalog F10).
            const original = twinBefore?.resource?.data ?? {};
            const body = sent.body as { fingerprint: string; items: MetadataItem[] };
            expect(body.fingerprint).toBe((original[metadataField] as { fingerprint: string }).fingerprint);
            for (const item of allItems(metadataField)(original) as MetadataItem[]) {
              expect(body.items.map((i) => i.key)).toContain(item.key);
            }
            expect(body.items.filter((i) => i.value === c.fixed)).toHaveLength(1);
          }
        },
        // The change came back through the CAI feed.
        live: (_live, { h }) => expect(fieldOf((h.feed.at(-1) as { asset: Asset }).asset)).toEqual(c.fixed),
        feed: 1,
        restored: ({ h, asset, twinBefore }) => {
          const original = twinBefore?.resource?.data ?? {};
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
          ) as Asset;
          expect(verdict(c.policyId, restoredAsset)).toBe('violation');
        },
        undoTwice: 'refused',
      },
      conflict: {
        beforeWrite: {
          change: { at: read },
          reason: /changed since/,
          stale: true,
          theirs: changedBySomeoneElse,
        },
        // compute refuses a stale fingerprint with 412; setDeletionProtection has no precondition, but it
        // touches only its flag, so the other change stays.
        atWrite: c.fingerprinted
          ? { at: write, reason: '412', stale: true, theirs: changedBySomeoneElse }
          : { at: write, unguarded: true, theirs: changedBySomeoneElse },
      },
      undoAfterChange: { change: { at: read } },
      retryable: { unavailable: { at: write } },
      failedOperation: { at: write },
      ...(c.gke ? { refused: [{ asset: c.gke, reason: /GKE/ }] } : {}),
      more: () => {
        it('is registered, with the risk its policy names', () => {
          expect(getAction(c.action.id)).toBe(c.action);
          const p = policySet().get(c.policyId);
          expect(p?.remediation).toMatchObject({ kind: 'action', action: c.action.id, risk: c.action.risk });
          expect(c.action.reversible).toBe(true);
          expect(c.action.assetTypes).toEqual([c.asset().assetType]);
        });
      },
    };
  }),
);
