import { afterEach, describe, expect, it } from '@jest/globals';
import { cryptoKeyRemovePublicMembers } from '../../shared/actions/cloudkms-cryptokey-remove-public-members.js';
import { cryptoKeySetRotationPeriod } from '../../shared/actions/cloudkms-cryptokey-set-rotation-period.js';
import { keyRingRemovePublicMembers } from '../../shared/actions/cloudkms-keyring-remove-public-members.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
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
import {
  basicsOf,
  describeActionContract,
  iamEtagConflict,
  request,
  type ActionContract,
  type CaseBasics,
} from './action-contract.js';
import { expectRegistered, verdict } from './policies.js';

const KMS = 'https://cloudkms.googleapis.com';
const IN_90_DAYS = '2026-05-30T09:00:00Z';
const PUBLIC = ['allUsers', 'allAuthenticatedUsers'];

type Data = Record<string, unknown>;

interface Case extends CaseBasics {
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
/** Someone else's one-year rotation (the twin's concurrent change to a key) stays. */
const theirRotation = (now: Asset | undefined) =>
  expect(now?.resource?.data['rotationPeriod']).toBe(`${31_536_000 + 86_400}s`);
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
      const named = expectRegistered(id, { risk: 'low', reversible: true });
      expect(named.map((p) => ('risk' in p.def.remediation ? p.def.remediation.risk : null))).toEqual([
        'low',
      ]);
    }
  });
});

describeActionContract(
  CASES.map((c): ActionContract => {
    const write = { method: c.write.method, pathPattern: c.write.path };
    const read = { method: c.read.method, pathPattern: c.read.path };
    return {
      ...basicsOf(c),
      api: 'cloudkms.googleapis.com',
      // And apply sends exactly that.
      plan: async ({ h, ctx, asset }, plan) => {
        expect(plan.description.length).toBeGreaterThan(80);
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
      },
      field: c.field,
      fixed: c.fixed,
      isWrite: request(c.write.method, c.write.path),
      fix: {
        feed: 1,
        restored: ({ h, asset }) => {
          const restored = h.twin.getAsset(asset.name);
          if (c.guard === 'etag') expect(stableIam(restored)).toEqual(stableIam(asset));
          else expect(restored?.resource?.data).toEqual(asset.resource?.data);
        },
      },
      // The IAM policy's etag is checked by setIamPolicy; the key's PATCH has only the re-read.
      conflict:
        c.guard === 'etag'
          ? iamEtagConflict(write)
          : {
              beforeWrite: {
                // Their one-year rotation is what the fix would change.
                change: { at: read, toField: true },
                reason: /changed since/,
                stale: true,
                theirs: theirRotation,
              },
            },
      undoAfterChange:
        c.guard === 'reread'
          ? {
              change: { at: read, toField: true },
              theirs: theirRotation,
            }
          : { change: { at: read } },
      retryable: { unavailable: { at: write }, throttled: { at: read, via: 'readLive' } },
    };
  }),
);

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
