import { afterEach, describe, expect, it } from '@jest/globals';
import { enableBackendServiceLogging } from '../../shared/actions/compute-backend-service-enable-logging.js';
import { enableFirewallLogging } from '../../shared/actions/compute-firewall-enable-logging.js';
import { requireTls12Modern } from '../../shared/actions/compute-ssl-policy-require-tls12-modern.js';
import { enableSubnetworkFlowLogs } from '../../shared/actions/compute-subnetwork-enable-flow-logs.js';
import { enablePrivateGoogleAccess } from '../../shared/actions/compute-subnetwork-enable-private-google-access.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import {
  backendServiceAsset,
  REGION,
  sslPolicyAsset,
  subnetworkAsset,
} from '../twin/compute-network-fixtures.js';
import { firewallAsset, PROJECT_ID, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
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

const V1 = `/compute/v1/projects/${PROJECT_ID}`;
const CIS_FLOW_LOGS = {
  enable: true,
  aggregationInterval: 'INTERVAL_5_SEC',
  flowSampling: 1,
  metadata: 'INCLUDE_ALL_METADATA',
};

type Data = Record<string, unknown>;

interface Case extends CaseBasics {
  resourcePath: string;
  write: { method: string; path: string };
  /** The part of the resource the fix changes. */
  field: (data: Data) => unknown;
  fixed: unknown;
  /** The write carries a fingerprint (412 on a concurrent change); else a re-read guard only. */
  fingerprinted: boolean;
  /** A variant the action must refuse ('conflict', nothing sent). */
  refused?: { asset: () => Asset; reason: RegExp };
}

const subnetPath = (name: string) => `${V1}/regions/${REGION}/subnetworks/${name}`;
const sslFields = (d: Data) => ({
  profile: d['profile'],
  minTlsVersion: d['minTlsVersion'],
  customFeatures: d['customFeatures'],
});
const proxyOnly = () =>
  subnetworkAsset('proxy-only', { purpose: 'REGIONAL_MANAGED_PROXY', role: 'ACTIVE', logConfig: undefined });

const CASES: Case[] = [
  {
    title: 'flow logs off',
    action: enableSubnetworkFlowLogs as RemediationAction,
    policyIds: ['subnet-flow-logs-disabled'],
    alsoPass: ['subnet-flow-logs-not-cis-grade'],
    asset: () => subnetworkAsset('dev-web'),
    resourcePath: subnetPath('dev-web'),
    write: { method: 'PATCH', path: subnetPath('dev-web') },
    field: (d) => d['logConfig'],
    fixed: CIS_FLOW_LOGS,
    fingerprinted: true,
    refused: { asset: proxyOnly, reason: /not supported on a subnet with purpose REGIONAL_MANAGED_PROXY/ },
  },
  {
    title: 'flow logs on below CIS grade',
    action: enableSubnetworkFlowLogs as RemediationAction,
    policyIds: ['subnet-flow-logs-not-cis-grade'],
    asset: () =>
      subnetworkAsset('dev-web', {
        logConfig: {
          enable: true,
          aggregationInterval: 'INTERVAL_10_MIN',
          flowSampling: 0.5,
          metadata: 'EXCLUDE_ALL_METADATA',
          filterExpr: "inIpRange(connection.src_ip, '10.0.0.0/8')",
        },
      }),
    resourcePath: subnetPath('dev-web'),
    write: { method: 'PATCH', path: subnetPath('dev-web') },
    field: (d) => d['logConfig'],
    fixed: { ...CIS_FLOW_LOGS, filterExpr: 'true' },
    fingerprinted: true,
  },
  {
    title: 'private google access off',
    action: enablePrivateGoogleAccess as RemediationAction,
    policyIds: ['subnet-private-google-access-disabled'],
    asset: () => subnetworkAsset('dev-web'),
    resourcePath: subnetPath('dev-web'),
    write: { method: 'POST', path: `${subnetPath('dev-web')}/setPrivateIpGoogleAccess` },
    field: (d) => d['privateIpGoogleAccess'],
    fixed: true,
    fingerprinted: false,
    refused: { asset: proxyOnly, reason: /not supported on a subnet with purpose REGIONAL_MANAGED_PROXY/ },
  },
  {
    title: 'firewall logging off',
    action: enableFirewallLogging as RemediationAction,
    policyIds: ['firewall-logging-disabled'],
    asset: () => firewallAsset('allow-internal', ['10.0.0.0/8']),
    resourcePath: `${V1}/global/firewalls/allow-internal`,
    write: { method: 'PATCH', path: `${V1}/global/firewalls/allow-internal` },
    field: (d) => d['logConfig'],
    fixed: { enable: true, metadata: 'INCLUDE_ALL_METADATA' },
    fingerprinted: false,
    refused: {
      asset: () => firewallAsset('gke-prod-web-gke-3c7e1a9b-all', ['10.100.0.0/14']),
      reason: /managed by GKE/,
    },
  },
  {
    title: 'global backend service logging off',
    action: enableBackendServiceLogging as RemediationAction,
    policyIds: ['lb-backend-service-logging-disabled'],
    asset: () => backendServiceAsset('web'),
    resourcePath: `${V1}/global/backendServices/web`,
    write: { method: 'PATCH', path: `${V1}/global/backendServices/web` },
    field: (d) => d['logConfig'],
    fixed: { enable: true, sampleRate: 1 },
    fingerprinted: true,
  },
  {
    title: 'regional backend service logging on at sample rate 0',
    action: enableBackendServiceLogging as RemediationAction,
    policyIds: ['lb-backend-service-logging-disabled'],
    asset: () => backendServiceAsset('api', { logConfig: { enable: true, sampleRate: 0 } }, REGION),
    resourcePath: `${V1}/regions/${REGION}/backendServices/api`,
    write: { method: 'PATCH', path: `${V1}/regions/${REGION}/backendServices/api` },
    field: (d) => d['logConfig'],
    fixed: { enable: true, sampleRate: 1 },
    fingerprinted: true,
  },
  {
    title: 'COMPATIBLE SSL policy',
    action: requireTls12Modern as RemediationAction,
    policyIds: ['ssl-policy-weak'],
    asset: () => sslPolicyAsset('weak'),
    resourcePath: `${V1}/global/sslPolicies/weak`,
    write: { method: 'PATCH', path: `${V1}/global/sslPolicies/weak` },
    field: sslFields,
    fixed: { profile: 'MODERN', minTlsVersion: 'TLS_1_2', customFeatures: undefined },
    fingerprinted: true,
  },
  {
    title: 'CUSTOM SSL policy with TLS_RSA suites and TLS 1.1',
    action: requireTls12Modern as RemediationAction,
    policyIds: ['ssl-policy-weak'],
    asset: () =>
      sslPolicyAsset('custom', {
        profile: 'CUSTOM',
        minTlsVersion: 'TLS_1_1',
        customFeatures: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_RSA_WITH_AES_128_GCM_SHA256'],
      }),
    resourcePath: `${V1}/global/sslPolicies/custom`,
    write: { method: 'PATCH', path: `${V1}/global/sslPolicies/custom` },
    field: sslFields,
    fixed: {
      profile: 'CUSTOM',
      minTlsVersion: 'TLS_1_2',
      customFeatures: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
    },
    fingerprinted: true,
    refused: {
      asset: () =>
        sslPolicyAsset('custom', {
          profile: 'CUSTOM',
          minTlsVersion: 'TLS_1_2',
          customFeatures: ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'TLS_RSA_WITH_AES_256_CBC_SHA'],
        }),
      reason: /every custom suite is a TLS_RSA_\* one/,
    },
  },
];

/** The resource without what every write bumps (the fingerprint) or the REST rendering adds (kind). */
function stable(data: Data | undefined): Data {
  const { fingerprint: _f, kind: _k, ...rest } = data ?? {};
  return rest;
}

function withoutEmptyMaps(body: Data): Data {
  return Object.fromEntries(
    Object.entries(body).filter(
      ([, v]) => !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0),
    ),
  );
}

describe('the network actions are registered with the policies that use them', () => {
  it('registers every action, low risk except the SSL policy one, all reversible', () => {
    for (const [id, risk] of [
      ['compute.subnetwork.enable-flow-logs', 'low'],
      ['compute.subnetwork.enable-private-google-access', 'low'],
      ['compute.firewall.enable-logging', 'low'],
      ['compute.backend-service.enable-logging', 'low'],
      ['compute.ssl-policy.require-tls12-modern', 'medium'],
    ] as const) {
      expectRegistered(id, { risk, reversible: true });
    }
  });
});

describeActionContract(
  CASES.map((c): ActionContract => {
    const write = { method: c.write.method, pathPattern: c.write.path };
    const read = { method: 'GET', pathPattern: c.resourcePath };
    return {
      ...basicsOf(c),
      api: 'compute.googleapis.com',
      plan: ({ asset }, plan) => {
        const url = `https://compute.googleapis.com${c.resourcePath}`;
        expect(plan.requests[0]).toEqual({ method: 'GET', url });
        expect(plan.requests[1]).toMatchObject({
          method: c.write.method,
          url: `https://compute.googleapis.com${c.write.path}`,
        });
        const body = plan.requests[1]?.body as Data;
        if (c.fingerprinted) expect(body['fingerprint']).toBe(asset.resource?.data['fingerprint']);
        expect(plan.requests[2]?.url).toMatch(/\/operations\/\{operation\}\/wait$/);
        expect(plan.description.length).toBeGreaterThan(40);
      },
      field: (a) => c.field(a?.resource?.data ?? {}),
      fixed: c.fixed,
      isWrite: request(c.write.method, c.write.path),
      untouched: sameData,
      fix: {
        sent: ({ h, asset }) => {
          const sent = h.twin.requests.find((r) => r.method === c.write.method && r.path === c.write.path);
          // The plan's body is what went on the wire, but for the empty map fields the client adds on its own
          // (BackendService.metadatas: {}), which change nothing.
          expect(withoutEmptyMaps(sent?.body as Data)).toEqual(
            c.action.plan(asset, DEFAULT_ACTION_SETTINGS).requests[1]?.body,
          );
        },
        feed: 1,
        restored: ({ restored, asset }) =>
          expect(stable(restored.resource?.data)).toEqual(stable(asset.resource?.data)),
      },
      // A fingerprinted write is refused by compute (412); the others have only the re-read.
      conflict: c.fingerprinted
        ? { atWrite: { at: write, reason: '412', stale: true, theirs: describedBySomeoneElse } }
        : {
            beforeWrite: {
              change: { at: read },
              reason: /changed since/,
              stale: true,
              theirs: describedBySomeoneElse,
            },
          },
      undoAfterChange: { change: { at: read } },
      retryable: { unavailable: { at: write } },
      failedOperation: { at: write },
      ...(c.refused ? { refused: [c.refused] } : {}),
    };
  }),
);

describe('compute.subnetwork.enable-flow-logs: what the client cannot express', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('undoes a subnet that had no logConfig to logConfig {enable: false}, and a legacy enableFlowLogs with it', async () => {
    const asset = subnetworkAsset('legacy', { logConfig: undefined, enableFlowLogs: false });
    h = await startHarness([asset], { operationPolls: 0 });
    const ctx = actionContext(h);
    const action = enableSubnetworkFlowLogs;
    const { before, after } = await applyFix(action, asset, ctx);
    const live = (await action.readLive(asset, ctx))?.resource?.data ?? {};
    expect(live['enableFlowLogs']).toBe(true);
    expect(verdict('subnet-flow-logs-disabled', (await action.readLive(asset, ctx)) as Asset)).toBe('pass');
    expect(await action.undo(asset, before, after, ctx)).toEqual({
      status: 'restored',
    });
    const undone = (await action.readLive(asset, ctx))?.resource?.data ?? {};
    expect(undone['enableFlowLogs']).toBe(false);
    expect(undone['logConfig']).toEqual({ enable: false });
  });

  it('counts an already CIS-grade subnet as applied without sending anything', async () => {
    const asset = subnetworkAsset('good', { logConfig: CIS_FLOW_LOGS });
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await enableSubnetworkFlowLogs.captureBefore(asset, ctx);
    expect((await enableSubnetworkFlowLogs.apply(asset, before!, ctx)).status).toBe('already_applied');
    expect(h.twin.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  });
});
