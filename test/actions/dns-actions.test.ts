import { afterEach, describe, expect, it } from '@jest/globals';
import { zoneEnableDnssec } from '../../shared/actions/dns-managed-zone-enable-dnssec.js';
import { dnsPolicyEnableLogging } from '../../shared/actions/dns-policy-enable-logging.js';
import type { RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { policyAsset, policyPath, zoneAsset, zonePath } from '../twin/dns-fixtures.js';
import { startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, applyFix } from './action-context.js';
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

const API = 'https://dns.googleapis.com';

type Data = Record<string, unknown>;

interface Case extends CaseBasics {
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

const mutations = (h: TwinHarness) => h.twin.requests.filter((r) => r.method !== 'GET');

describe('the Cloud DNS actions are registered with the policies that use them', () => {
  it('registers each action with its risk and reversibility, named by a policy', () => {
    for (const [id, risk, reversible, type] of [
      ['dns.managed-zone.enable-dnssec', 'medium', false, 'dns.googleapis.com/ManagedZone'],
      ['dns.policy.enable-logging', 'low', true, 'dns.googleapis.com/Policy'],
    ] as const) {
      const named = expectRegistered(id, { risk, reversible, assetTypes: [type] });
      expect(named.map((p) => p.def.remediation)).toEqual([{ action: id, risk }]);
    }
  });
});

describeActionContract(
  CASES.map((c): ActionContract => {
    const write = { method: c.write.method, pathPattern: c.write.path };
    const read = { method: 'GET', pathPattern: c.resourcePath };
    return {
      ...basicsOf(c),
      api: 'dns.googleapis.com',
      plan: (_run, plan) => {
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
      },
      field: (a) => c.field(a?.resource?.data ?? {}),
      fixed: c.fixed,
      isWrite: request(c.write.method, c.write.path),
      untouched: sameData,
      fix: {
        readLiveFirst: true,
        sent: ({ h }) => {
          const sent = h.twin.requests.find((r) => r.method === c.write.method && r.path === c.write.path);
          expect(sent?.body).toEqual(c.write.body);
          if (c.operation)
            expect(h.twin.requests.filter((r) => r.path.includes('/operations/')).length).toBeGreaterThan(0);
        },
        feed: 1,
        // CAI holds exactly what it held before (in its own spelling), the API renders what it rendered.
        restored: ({ h, asset, restored, liveBefore }) => {
          expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
          expect(restored.resource?.data).toEqual(liveBefore?.resource?.data);
        },
      },
      conflict: {
        beforeWrite: {
          change: { at: read },
          reason: /changed since/,
          stale: true,
          theirs: (now) => {
            describedBySomeoneElse(now);
            expect(c.field(now?.resource?.data ?? {})).toEqual(c.unfixed);
          },
        },
      },
      undoAfterChange: { change: { at: read } },
      retryable: {
        unavailable: { at: write, times: 1 },
        throttled: { at: read, via: 'apply' },
      },
      ...(c.operation
        ? { failedOperation: { at: write, message: /ended done, but the zone's DNSSEC state is not on/ } }
        : {}),
      ...(c.refused ? { refused: c.refused } : {}),
    };
  }),
);

describe('dns.managed-zone.enable-dnssec: turning DNSSEC off again', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('refuses undo once the DS record may have been published (an hour after the fix), sending nothing', async () => {
    const asset = zoneAsset('shop');
    h = await startHarness([asset], { operationPolls: 0 });
    const ctx = actionContext(h);
    const { before, after } = await applyFix(zoneEnableDnssec, asset, ctx);
    h.clock.advance(61 * 60_000);
    const undo = await zoneEnableDnssec.undo(asset, before, after, ctx);
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
