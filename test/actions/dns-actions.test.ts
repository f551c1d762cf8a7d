import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { zoneEnableDnssec } from '../../shared/actions/dns-managed-zone-enable-dnssec.js';
import { dnsPolicyEnableLogging } from '../../shared/actions/dns-policy-enable-logging.js';
import { getAction } from '../../shared/actions/registry.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import { projectRoot } from '../../shared/util/project-root.js';
import { policyAsset, policyPath, zoneAsset, zonePath } from '../twin/dns-fixtures.js';
import { startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';

const NOW = '2026-03-01T09:00:00.000Z';
const API = 'https://dns.googleapis.com';

type Data = Record<string, unknown>;

interface Case {
  title: string;
  action: RemediationAction;
  policyIds: string[];
  alsoPass?: string[];
  asset: () => Asset;
  resourcePath: string;
  write: { method: string; path: string; body: unknown };
  /** The write starts a zone operation the action waits for. */
  operation: boolean;
  field: (data: Data) => unknown;
  unfixed: unknown;
  fixed: unknown;
  refused?: Array<{ asset: () => Asset; reason: RegExp }>;
}

const dnssecState = (d: Data) =>
  String((d['dnssecConfig'] as Data | undefined)?.['state'] ?? 'off').toLowerCase();

const CASES: Case[] = [
  {
    title: 'a public zone without DNSSEC (CAI v1alpha2 data)',
    action: zoneEnableDnssec as RemediationAction,
    policyIds: ['dns-dnssec-disabled'],
    alsoPass: ['dns-dnssec-rsasha1-ksk', 'dns-dnssec-rsasha1-zsk'],
    asset: () => zoneAsset('shop'),
    resourcePath: zonePath('shop'),
    write: { method: 'PATCH', path: zonePath('shop'), body: { dnssecConfig: { state: 'on' } } },
    operation: true,
    field: dnssecState,
    unfixed: 'off',
    fixed: 'on',
    refused: [
      {
        asset: () => zoneAsset('shop', { visibility: 'PRIVATE', dnssecConfig: undefined }),
        reason: /only be enabled on public zones/,
      },
      {
        asset: () =>
          zoneAsset('shop', {
            dnssecConfig: {
              state: 'OFF',
              defaultKeySpecs: [
                { algorithm: 'RSASHA1', keyLength: 2048, keyType: 'KEY_SIGNING' },
                { algorithm: 'RSASHA256', keyLength: 1024, keyType: 'ZONE_SIGNING' },
              ],
            },
          }),
        reason: /keySigning\) use RSASHA1/,
      },
    ],
  },
  {
    title: 'a server policy bound to a network without query logging',
    action: dnsPolicyEnableLogging as RemediationAction,
    policyIds: ['dns-policy-logging-disabled'],
    asset: () => policyAsset('inbound-fwd'),
    resourcePath: policyPath('inbound-fwd'),
    write: { method: 'PATCH', path: policyPath('inbound-fwd'), body: { enableLogging: true } },
    operation: false,
    field: (d) => d['enableLogging'] ?? false,
    unfixed: false,
    fixed: true,
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

function writes(h: TwinHarness, c: Case): number {
  return h.twin.requests.filter((r) => r.method === c.write.method && r.path === c.write.path).length;
}

const mutations = (h: TwinHarness) => h.twin.requests.filter((r) => r.method !== 'GET');

describe('the Cloud DNS actions are registered with the policies that use them', () => {
  it('registers each action with its risk and reversibility, named by a policy', () => {
    for (const [id, risk, reversible, type] of [
      ['dns.managed-zone.enable-dnssec', 'medium', false, 'dns.googleapis.com/ManagedZone'],
      ['dns.policy.enable-logging', 'low', true, 'dns.googleapis.com/Policy'],
    ] as const) {
      expect(getAction(id)).toMatchObject({ id, risk, reversible, assetTypes: [type] });
      const named = policies.policies.filter(
        (p) =>
          p.def.remediation !== undefined && 'action' in p.def.remediation && p.def.remediation.action === id,
      );
      expect(named.map((p) => p.def.remediation)).toEqual([{ action: id, risk }]);
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

  it('plans the exact requests against dns.googleapis.com', async () => {
    await start();
    const plan = c.action.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.requests[0]).toEqual({ method: 'GET', url: `${API}${c.resourcePath}` });
    expect(plan.requests[1]).toEqual({
      method: c.write.method,
      url: `${API}${c.write.path}`,
      body: c.write.body,
    });
    if (c.operation)
      expect(plan.requests[2]).toEqual({
        method: 'GET',
        url: `${API}${c.resourcePath}/operations/{operation}`,
      });
    else expect(plan.requests).toHaveLength(2);
    expect(plan.description.length).toBeGreaterThan(80);
  });

  it('fixes, so that the policy passes on the live resource; twice is a no-op; undo restores exactly the before-state', async () => {
    await start();
    const ctx = actionContext(h);
    for (const p of c.policyIds) expect(verdict(p, asset)).toBe('violation');
    const before = await c.action.captureBefore(asset, ctx);
    const live0 = await c.action.readLive(asset, ctx);
    const applied = await c.action.apply(asset, before, ctx);
    expect(applied.status).toBe('applied');
    expect(writes(h, c)).toBe(1);
    expect(h.twin.requests.find((r) => r.method === c.write.method && r.path === c.write.path)?.body).toEqual(
      c.write.body,
    );
    if (c.operation)
      expect(h.twin.requests.filter((r) => r.path.includes('/operations/')).length).toBeGreaterThan(0);

    const live = await c.action.readLive(asset, ctx);
    expect(live).toMatchObject({ name: asset.name, assetType: asset.assetType, ancestors: asset.ancestors });
    expect(c.field(live?.resource?.data ?? {})).toEqual(c.fixed);
    for (const p of [...c.policyIds, ...(c.alsoPass ?? [])]) expect(verdict(p, live as Asset)).toBe('pass');
    expect(h.feed).toHaveLength(1);

    expect((await c.action.apply(asset, before, ctx)).status).toBe('already_applied');
    expect(writes(h, c)).toBe(1);

    const after = applied.status === 'applied' ? applied.after : null;
    expect(await c.action.undo(asset, before, after, ctx)).toEqual({ status: 'restored' });
    expect(writes(h, c)).toBe(2);
    // CAI holds exactly what it held before (in its own spelling), the API renders what it rendered.
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
    const restored = await c.action.readLive(asset, ctx);
    expect(restored?.resource?.data).toEqual(live0?.resource?.data);
    for (const p of c.policyIds) expect(verdict(p, restored as Asset)).toBe('violation');
  });

  it('reports conflict on a concurrent change, sends nothing and overwrites nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: c.resourcePath }, concurrentModification: true, times: 1 },
    ]);
    const outcome = await c.action.apply(asset, before, ctx);
    expect(outcome).toMatchObject({
      status: 'conflict',
      stale: true,
      reason: expect.stringMatching(/changed since/),
    });
    expect(writes(h, c)).toBe(0);
    const data = h.twin.getAsset(asset.name)?.resource?.data ?? {};
    expect(data['description']).toMatch(/^changed by someone else/);
    expect(c.field(data)).toEqual(c.unfixed);
  });

  it('refuses to undo after someone changed the resource, and sends nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const applied = await c.action.apply(asset, before, ctx);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: c.resourcePath }, concurrentModification: true, times: 1 },
    ]);
    const undo = await c.action.undo(asset, before, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo.status).toBe('refused');
    expect(writes(h, c)).toBe(1);
    expect(c.field(h.twin.getAsset(asset.name)?.resource?.data ?? {})).toEqual(c.fixed);
  });

  it('surfaces an injected 503 and 429 as retryable WardenErrors, the resource unchanged', async () => {
    await start({
      faults: [{ match: { method: c.write.method, pathPattern: c.write.path }, errorStatus: 503, times: 1 }],
    });
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const err = await rejection(c.action.apply(asset, before, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(true);
    expect((err as WardenError).code).toBe('UNAVAILABLE');
    expect(writes(h, c)).toBe(1); // the client's own retries are off: the executor decides
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
    h.twin.setFaults([{ match: { method: 'GET', pathPattern: c.resourcePath }, errorStatus: 429, times: 1 }]);
    const throttled = await rejection(c.action.apply(asset, before, ctx));
    expect((throttled as WardenError).retryable).toBe(true);
    expect((throttled as WardenError).code).toBe('RESOURCE_EXHAUSTED');
  });

  if (c.operation) {
    it('surfaces an operation that did not take as a non-retryable WardenError and leaves the zone as it was', async () => {
      await start({
        faults: [{ match: { method: c.write.method, pathPattern: c.write.path }, failOperation: true }],
      });
      const ctx = actionContext(h);
      const before = await c.action.captureBefore(asset, ctx);
      const err = await rejection(c.action.apply(asset, before, ctx));
      expect(err).toBeInstanceOf(WardenError);
      expect((err as WardenError).retryable).toBe(false);
      expect((err as WardenError).code).toBe('operation_failed');
      expect((err as WardenError).message).toMatch(/ended done, but the zone's DNSSEC state is not on/);
      expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
    });
  }

  it('returns null and gone for a resource that no longer exists', async () => {
    await start();
    const state = await c.action.captureBefore(asset, actionContext(h));
    await h.close();
    h = await startHarness([]);
    const ctx = actionContext(h);
    expect(await c.action.captureBefore(asset, ctx)).toBeNull();
    expect(await c.action.readLive(asset, ctx)).toBeNull();
    expect(await c.action.apply(asset, state, ctx)).toEqual({ status: 'gone' });
    expect(await c.action.undo(asset, state, state, ctx)).toEqual({ status: 'gone' });
  });

  for (const refused of c.refused ?? []) {
    it(`refuses a resource it must not change (${String(refused.reason)}), and sends nothing`, async () => {
      await start({}, refused.asset());
      const ctx = actionContext(h);
      const before = await c.action.captureBefore(asset, ctx);
      const outcome = await c.action.apply(asset, before, ctx);
      expect(outcome).toMatchObject({ status: 'conflict', reason: expect.stringMatching(refused.reason) });
      expect(mutations(h)).toHaveLength(0);
    });
  }
});

describe('dns.managed-zone.enable-dnssec: turning DNSSEC off again', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('refuses undo once the DS record may have been published (an hour after the fix), sending nothing', async () => {
    const asset = zoneAsset('shop');
    h = await startHarness([asset], { operationPolls: 0 });
    const ctx = actionContext(h);
    const before = await zoneEnableDnssec.captureBefore(asset, ctx);
    const applied = await zoneEnableDnssec.apply(asset, before!, ctx);
    expect(applied.status).toBe('applied');
    h.clock.advance(61 * 60_000);
    const undo = await zoneEnableDnssec.undo(
      asset,
      before!,
      applied.status === 'applied' ? applied.after : null,
      ctx,
    );
    expect(undo).toMatchObject({
      status: 'refused',
      reason: expect.stringMatching(/DS record.*breaks resolution/),
    });
    expect(mutations(h)).toHaveLength(1);
  });

  it('never turns off DNSSEC it did not turn on', async () => {
    const asset = zoneAsset('shop');
    h = await startHarness([asset], { operationPolls: 0 });
    const ctx = actionContext(h);
    const before = await zoneEnableDnssec.captureBefore(asset, ctx);
    await zoneEnableDnssec.apply(asset, before!, ctx);
    // A second run finds it on: already applied, and its after-state has no fix time.
    const again = await zoneEnableDnssec.apply(asset, before!, ctx);
    expect(again.status).toBe('already_applied');
    const undo = await zoneEnableDnssec.undo(
      asset,
      before!,
      again.status === 'already_applied' ? again.after : null,
      ctx,
    );
    expect(undo).toMatchObject({
      status: 'refused',
      reason: expect.stringMatching(/did not turn DNSSEC on/),
    });
    expect(mutations(h)).toHaveLength(1);
  });

  it('a zone in v1 spelling without any dnssecConfig gets Cloud DNS’s default keys, which no RSASHA1 policy flags', async () => {
    const asset = zoneAsset('plain', { visibility: undefined, dnssecConfig: undefined });
    asset.resource!.version = 'v1';
    h = await startHarness([asset], { operationPolls: 1 });
    const ctx = actionContext(h);
    expect(verdict('dns-dnssec-disabled', asset)).toBe('violation');
    const before = await zoneEnableDnssec.captureBefore(asset, ctx);
    expect((await zoneEnableDnssec.apply(asset, before!, ctx)).status).toBe('applied');
    const live = (await zoneEnableDnssec.readLive(asset, ctx))!;
    expect(live.resource?.data['dnssecConfig']).toEqual({
      state: 'on',
      nonExistence: 'nsec3',
      defaultKeySpecs: [
        { algorithm: 'rsasha256', keyLength: 2048, keyType: 'keySigning', kind: 'dns#dnsKeySpec' },
        { algorithm: 'rsasha256', keyLength: 1024, keyType: 'zoneSigning', kind: 'dns#dnsKeySpec' },
      ],
    });
    for (const p of ['dns-dnssec-disabled', 'dns-dnssec-rsasha1-ksk', 'dns-dnssec-rsasha1-zsk'])
      expect(verdict(p, live)).toBe('pass');
  });
});
