import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { cryptoKeyRemovePublicMembers } from '../../shared/actions/cloudkms-cryptokey-remove-public-members.js';
import { cryptoKeySetRotationPeriod } from '../../shared/actions/cloudkms-cryptokey-set-rotation-period.js';
import { keyRingRemovePublicMembers } from '../../shared/actions/cloudkms-keyring-remove-public-members.js';
import { getAction } from '../../shared/actions/registry.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import { projectRoot } from '../../shared/util/project-root.js';
import {
  CRYPTO_KEY,
  cryptoKeyAsset,
  KEY_RING,
  keyRingAsset,
  publicPolicy,
  signingKeyAsset,
} from '../twin/identity-fixtures.js';
import { startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';

const NOW = '2026-03-01T09:00:00.000Z';
const KMS = 'https://cloudkms.googleapis.com';
const IN_90_DAYS = '2026-05-30T09:00:00Z';
const PUBLIC = ['allUsers', 'allAuthenticatedUsers'];

type Data = Record<string, unknown>;

interface Case {
  title: string;
  action: RemediationAction;
  policyIds: string[];
  asset: () => Asset;
  read: { method: string; path: string };
  write: { method: string; path: string };
  field: (a: Asset | undefined) => unknown;
  fixed: unknown;
  guard: 'etag' | 'reread';
}

const publicGrants = (a: Asset | undefined): string[] =>
  (a?.iamPolicy?.bindings ?? []).flatMap((b) =>
    b.members.filter((m) => PUBLIC.includes(m)).map((m) => `${b.role} ${m}`),
  );
const rotation = (a: Asset | undefined) => ({
  rotationPeriod: a?.resource?.data['rotationPeriod'],
  nextRotationTime: a?.resource?.data['nextRotationTime'],
});
const keyPolicy = () => publicPolicy('roles/cloudkms.cryptoKeyDecrypter', 'roles/cloudkms.viewer');

const CASES: Case[] = [
  {
    title: 'a symmetric key with no rotation (landing zone row 32)',
    action: cryptoKeySetRotationPeriod as RemediationAction,
    policyIds: ['kms-key-rotation'],
    asset: () => cryptoKeyAsset(),
    read: { method: 'GET', path: `/v1/${CRYPTO_KEY}` },
    write: { method: 'PATCH', path: `/v1/${CRYPTO_KEY}` },
    field: rotation,
    fixed: { rotationPeriod: '7776000s', nextRotationTime: IN_90_DAYS },
    guard: 'reread',
  },
  {
    title: 'a key rotated every 365 days',
    action: cryptoKeySetRotationPeriod as RemediationAction,
    policyIds: ['kms-key-rotation'],
    asset: () =>
      cryptoKeyAsset({ data: { rotationPeriod: '31536000s', nextRotationTime: '2026-06-01T00:00:00Z' } }),
    read: { method: 'GET', path: `/v1/${CRYPTO_KEY}` },
    write: { method: 'PATCH', path: `/v1/${CRYPTO_KEY}` },
    field: rotation,
    // A next rotation more than one period away is brought forward to one period from now.
    fixed: { rotationPeriod: '7776000s', nextRotationTime: '2026-05-30T09:00:00Z' },
    guard: 'reread',
  },
  {
    title: 'a public crypto key (allUsers, and allAuthenticatedUsers in a conditional binding)',
    action: cryptoKeyRemovePublicMembers as RemediationAction,
    policyIds: ['kms-cryptokey-public'],
    asset: () => cryptoKeyAsset({ iamPolicy: keyPolicy() }),
    read: { method: 'GET', path: `/v1/${CRYPTO_KEY}:getIamPolicy` },
    write: { method: 'POST', path: `/v1/${CRYPTO_KEY}:setIamPolicy` },
    field: publicGrants,
    fixed: [],
    guard: 'etag',
  },
  {
    title: 'a public key ring',
    action: keyRingRemovePublicMembers as RemediationAction,
    policyIds: ['kms-keyring-public'],
    asset: () => keyRingAsset(keyPolicy()),
    read: { method: 'GET', path: `/v1/${KEY_RING}:getIamPolicy` },
    write: { method: 'POST', path: `/v1/${KEY_RING}:setIamPolicy` },
    field: publicGrants,
    fixed: [],
    guard: 'etag',
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

function writes(h: TwinHarness, w: { method: string; path: string }): number {
  return h.twin.requests.filter((r) => r.method === w.method && r.path === w.path).length;
}

function stableIam(a: Asset | undefined): unknown {
  return { bindings: a?.iamPolicy?.bindings };
}

describe('the KMS actions are registered with the policies that use them', () => {
  it('registers every action, low risk, reversible, each named by a policy', () => {
    for (const id of [
      'cloudkms.cryptokey.set-rotation-period',
      'cloudkms.cryptokey.remove-public-members',
      'cloudkms.keyring.remove-public-members',
    ]) {
      expect(getAction(id)).toMatchObject({ id, risk: 'low', reversible: true });
      const users = policies.policies.filter(
        (p) => 'action' in p.def.remediation && p.def.remediation.action === id,
      );
      expect(users.map((p) => ('risk' in p.def.remediation ? p.def.remediation.risk : null))).toEqual([
        'low',
      ]);
    }
  });
});

describe.each(CASES)('$action.id on $title', (c) => {
  let h: TwinHarness;
  let asset: Asset;
  afterEach(async () => {
    await h.close();
  });
  const start = async (
    opts: Parameters<typeof startHarness>[1] = {},
    a: Asset = c.asset(),
  ): Promise<void> => {
    asset = a;
    h = await startHarness([asset], opts);
  };

  it('plans the exact requests against cloudkms.googleapis.com, and sends that', async () => {
    await start();
    const plan = c.action.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.description.length).toBeGreaterThan(80);
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    expect((await c.action.apply(asset, before, ctx)).status).toBe('applied');
    const sent = h.twin.requests.find((r) => r.method === c.write.method && r.path === c.write.path);
    if (c.guard === 'etag') {
      expect(plan.requests).toEqual([
        { method: 'GET', url: `${KMS}${c.read.path}?options.requestedPolicyVersion=3` },
        { method: 'POST', url: `${KMS}${c.write.path}`, body: expect.anything() },
      ]);
      expect(sent?.body).toEqual(plan.requests[1]?.body);
      expect((sent?.body as { policy: Data }).policy).toMatchObject({ version: 3, etag: 'BwYPGokQxSI=' });
      const read = h.twin.requests.find((r) => r.path === c.read.path);
      expect(read).toMatchObject({ method: 'GET', query: { 'options.requestedPolicyVersion': '3' } });
    } else {
      expect(plan.requests[0]).toEqual({ method: 'GET', url: `${KMS}${c.read.path}` });
      expect(plan.requests[1]).toMatchObject({
        method: 'PATCH',
        url: `${KMS}${c.write.path}?updateMask=rotationPeriod,nextRotationTime`,
        body: { rotationPeriod: '7776000s' },
      });
      expect(sent).toMatchObject({
        query: { updateMask: 'rotationPeriod,nextRotationTime' },
        body: { rotationPeriod: '7776000s' },
      });
      expect(Date.parse(String((sent?.body as Data)['nextRotationTime']))).toBe(
        Date.parse(String((c.fixed as Data)['nextRotationTime'])),
      );
    }
  });

  it('fixes, so that the policies pass on the live resource; twice is a no-op; undo restores exactly the before-state', async () => {
    await start();
    const ctx = actionContext(h);
    for (const p of c.policyIds) expect(verdict(p, asset)).toBe('violation');
    const before = await c.action.captureBefore(asset, ctx);
    const applied = await c.action.apply(asset, before, ctx);
    expect(applied.status).toBe('applied');
    expect(writes(h, c.write)).toBe(1);

    const live = await c.action.readLive(asset, ctx);
    expect(live).toMatchObject({ name: asset.name, assetType: asset.assetType, ancestors: asset.ancestors });
    expect(c.field(live ?? undefined)).toEqual(c.fixed);
    for (const p of c.policyIds) expect(verdict(p, live as Asset)).toBe('pass');
    expect(h.feed).toHaveLength(1);

    expect((await c.action.apply(asset, before, ctx)).status).toBe('already_applied');
    expect(writes(h, c.write)).toBe(1);

    const after = applied.status === 'applied' ? applied.after : null;
    expect(await c.action.undo(asset, before, after, ctx)).toEqual({ status: 'restored' });
    expect(writes(h, c.write)).toBe(2);
    const restored = h.twin.getAsset(asset.name);
    if (c.guard === 'etag') expect(stableIam(restored)).toEqual(stableIam(asset));
    else expect(restored?.resource?.data).toEqual(asset.resource?.data);
    for (const p of c.policyIds)
      expect(verdict(p, (await c.action.readLive(asset, ctx)) as Asset)).toBe('violation');
  });

  it('ends a concurrent modification in a conflict and overwrites nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const at = c.guard === 'etag' ? c.write : c.read;
    h.twin.setFaults([
      { match: { method: at.method, pathPattern: at.path }, concurrentModification: true, times: 1 },
    ]);
    const outcome = await c.action.apply(asset, before, ctx);
    expect(outcome.status).toBe('conflict');
    const now = h.twin.getAsset(asset.name);
    if (c.guard === 'etag') {
      if (outcome.status === 'conflict') expect(outcome.reason).toContain('409 ABORTED');
      expect(c.field(now)).toEqual(c.field(asset));
      expect(now?.iamPolicy?.bindings.some((b) => b.members.includes('user:someone-else@example.com'))).toBe(
        true,
      );
    } else {
      expect(writes(h, c.write)).toBe(0);
      // Someone else's one-year rotation stays.
      expect(now?.resource?.data['rotationPeriod']).toBe(`${31_536_000 + 86_400}s`);
    }
  });

  it('refuses to undo after someone changed the resource, and sends nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const applied = await c.action.apply(asset, before, ctx);
    h.twin.setFaults([
      { match: { method: c.read.method, pathPattern: c.read.path }, concurrentModification: true, times: 1 },
    ]);
    const undo = await c.action.undo(asset, before, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo.status).toBe('refused');
    expect(writes(h, c.write)).toBe(1);
  });

  it('surfaces an injected 503 on the write and 429 on the read as retryable WardenErrors', async () => {
    await start({
      faults: [{ match: { method: c.write.method, pathPattern: c.write.path }, errorStatus: 503 }],
    });
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const err = await rejection(c.action.apply(asset, before, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect(err).toMatchObject({ retryable: true, code: 'UNAVAILABLE' });
    h.twin.setFaults([
      { match: { method: c.read.method, pathPattern: c.read.path }, errorStatus: 429, times: 1 },
    ]);
    expect(await rejection(c.action.readLive(asset, ctx))).toMatchObject({
      retryable: true,
      code: 'RESOURCE_EXHAUSTED',
    });
    expect(c.field(h.twin.getAsset(asset.name))).toEqual(c.field(asset));
  });

  it('returns null and gone for a resource that no longer exists (404 NOT_FOUND)', async () => {
    await start();
    const state = await c.action.captureBefore(asset, actionContext(h));
    await h.close();
    h = await startHarness([]);
    const ctx = actionContext(h);
    expect(await c.action.captureBefore(asset, ctx)).toBeNull();
    expect(await c.action.readLive(asset, ctx)).toBeNull();
    expect(await c.action.apply(asset, state, ctx)).toEqual({ status: 'gone' });
    expect(await c.action.undo(asset, state, state, ctx)).toEqual({ status: 'gone' });
    expect(writes(h, c.write)).toBe(0);
  });
});

describe('cloudkms.cryptokey.set-rotation-period: what it keeps and what it refuses', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  const run = async (asset: Asset, settings = DEFAULT_ACTION_SETTINGS) => {
    h = await startHarness([asset]);
    const ctx = { ...actionContext(h), settings };
    const before = await cryptoKeySetRotationPeriod.captureBefore(asset, ctx);
    return { ctx, before: before!, outcome: await cryptoKeySetRotationPeriod.apply(asset, before!, ctx) };
  };

  it('keeps a shorter period a human chose and only brings a postponed first rotation forward', async () => {
    const asset = cryptoKeyAsset({
      data: { rotationPeriod: '2592000s', nextRotationTime: '2028-01-01T00:00:00Z' },
    });
    expect(verdict('kms-key-rotation', asset)).toBe('violation');
    const { outcome } = await run(asset);
    expect(outcome.status).toBe('applied');
    expect(rotation(h.twin.getAsset(asset.name))).toEqual({
      rotationPeriod: '2592000s',
      nextRotationTime: '2026-03-31T09:00:00Z',
    });
  });

  it.each([
    ['an asymmetric signing key (F15)', signingKeyAsset(), /purpose is ASYMMETRIC_SIGN.*catalog F15/],
    [
      'a Cloud EKM key',
      cryptoKeyAsset({
        data: {
          versionTemplate: { algorithm: 'EXTERNAL_SYMMETRIC_ENCRYPTION', protectionLevel: 'EXTERNAL' },
        },
      }),
      /Cloud EKM key/,
    ],
    ['an import-only key', cryptoKeyAsset({ data: { importOnly: true } }), /import-only/],
  ])('refuses %s with its reason, and sends nothing', async (_what, asset, reason) => {
    const plan = cryptoKeySetRotationPeriod.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.description).toMatch(/^Refused for crypto key/);
    const { outcome } = await run(asset);
    expect(outcome.status).toBe('conflict');
    if (outcome.status === 'conflict') expect(outcome.reason).toMatch(reason);
    expect(h.twin.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  });

  it('surfaces a period KMS refuses (400) as a non-retryable WardenError and leaves the key as it was', async () => {
    const asset = cryptoKeyAsset();
    const settings = { ...DEFAULT_ACTION_SETTINGS, maxKeyAgeDays: 0.5 } as typeof DEFAULT_ACTION_SETTINGS;
    h = await startHarness([asset]);
    const ctx = { ...actionContext(h), settings };
    const before = await cryptoKeySetRotationPeriod.captureBefore(asset, ctx);
    const err = await rejection(cryptoKeySetRotationPeriod.apply(asset, before!, ctx));
    expect(err).toMatchObject({ retryable: false, code: 'INVALID_ARGUMENT' });
    expect((err as Error).message).toContain('at least 24 hours');
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
  });

  it('follows params.maxKeyAgeDays when the settings carry it', async () => {
    const asset = cryptoKeyAsset();
    const settings = { ...DEFAULT_ACTION_SETTINGS, maxKeyAgeDays: 30 } as typeof DEFAULT_ACTION_SETTINGS;
    expect(cryptoKeySetRotationPeriod.plan(asset, settings).requests[1]?.body).toMatchObject({
      rotationPeriod: '2592000s',
    });
    const { outcome } = await run(asset, settings);
    expect(outcome.status).toBe('applied');
    expect(h.twin.getAsset(asset.name)?.resource?.data['rotationPeriod']).toBe('2592000s');
  });
});
