import type { protos } from '@google-cloud/compute';
import { canonicalJson } from '../util/canonical-json.js';
import {
  fingerprintPatchAction,
  rec,
  startedOperation,
  type ResourceJson,
} from './compute-fingerprint-patch.js';

type ISubnetwork = protos.google.cloud.compute.v1.ISubnetwork;

export const SUBNETWORK_TYPE = 'compute.googleapis.com/Subnetwork';

/**
 * Subnet purposes without VM traffic. Flow logs "isn't supported" on proxy-only subnets (catalog F4) nor on
 * Private Service Connect, NAT or migration subnets; the policies skip them and the action refuses them.
 */
export const NON_VM_SUBNET_PURPOSES = [
  'REGIONAL_MANAGED_PROXY',
  'GLOBAL_MANAGED_PROXY',
  'INTERNAL_HTTPS_LOAD_BALANCER',
  'PRIVATE_SERVICE_CONNECT',
  'PRIVATE_NAT',
  'PEER_MIGRATION',
];

export function nonVmSubnetRefusal(data: ResourceJson, what: string): string | undefined {
  const purpose = String(data['purpose'] ?? 'PRIVATE');
  return NON_VM_SUBNET_PURPOSES.includes(purpose)
    ? `${what} is not supported on a subnet with purpose ${purpose}`
    : undefined;
}

/** The CIS 3.10 settings (catalog F4); the API's defaults when a field is absent: 5 s, 0.5, all metadata. */
export const CIS_FLOW_LOGS = {
  enable: true,
  aggregationInterval: 'INTERVAL_5_SEC',
  flowSampling: 1,
  metadata: 'INCLUDE_ALL_METADATA',
} as const;
const DEFAULTS = {
  aggregationInterval: 'INTERVAL_5_SEC',
  flowSampling: 0.5,
  metadata: 'INCLUDE_ALL_METADATA',
};

const lowerString = (v: unknown): string => String(v).toLowerCase();

/** On, as subnet-flow-logs-disabled reads it: logConfig.enable or the legacy enableFlowLogs. */
function flowLogsOn(data: ResourceJson): boolean {
  return (
    lowerString(rec(data['logConfig'])?.['enable'] ?? false) === 'true' ||
    lowerString(data['enableFlowLogs'] ?? false) === 'true'
  );
}

function filtersNothing(log: ResourceJson): boolean {
  return ['', 'true'].includes(String(log['filterExpr'] ?? '').trim());
}

/** Passes both subnet-flow-logs-disabled and subnet-flow-logs-not-cis-grade. */
export function flowLogsCisGrade(data: ResourceJson): boolean {
  if (!flowLogsOn(data)) return false;
  const log = rec(data['logConfig']) ?? {};
  return (
    lowerString(log['aggregationInterval'] ?? DEFAULTS.aggregationInterval) === 'interval_5_sec' &&
    Number(log['flowSampling'] ?? DEFAULTS.flowSampling) >= 1 &&
    lowerString(log['metadata'] ?? DEFAULTS.metadata) === 'include_all_metadata' &&
    filtersNothing(log)
  );
}

/** The logConfig that fixes `data`: the CIS settings, and a filterExpr that filters nothing if one filters. */
function fixedLogConfig(data: ResourceJson): ResourceJson {
  const log = rec(data['logConfig']) ?? {};
  // compute's client cannot send null, so a filter cannot be removed: it is replaced by "true" (no filter).
  return filtersNothing(log) ? { ...CIS_FLOW_LOGS } : { ...CIS_FLOW_LOGS, filterExpr: 'true' };
}

/**
 * Turns VPC Flow Logs on at the CIS-grade settings (subnet-flow-logs-disabled, subnet-flow-logs-not-cis-grade):
 * subnetworks.patch {fingerprint, logConfig: {enable, aggregationInterval INTERVAL_5_SEC, flowSampling 1,
 * metadata INCLUDE_ALL_METADATA}}, then the region operation.
 *
 * Undo sends back the captured logConfig. What compute's client cannot express is approximated by its
 * meaning: a subnet that had no logConfig at all gets `logConfig: {enable: false}` (the client cannot send
 * null to remove the field), and fields an enabled config lacked get the API's defaults.
 */
export const enableSubnetworkFlowLogs = fingerprintPatchAction({
  id: 'compute.subnetwork.enable-flow-logs',
  title: 'Turn on VPC Flow Logs on a subnet at the CIS-grade settings',
  risk: 'low',
  assetTypes: [SUBNETWORK_TYPE],
  collection: 'subnetworks',
  scopes: 'region',
  what: 'subnetwork',
  get: async (ctx, ref) => {
    const client = await ctx.cloud.compute('SubnetworksClient');
    const [data] = await client.get({ project: ref.project, region: ref.region ?? '', subnetwork: ref.name });
    return data;
  },
  patch: async (ctx, ref, body) => {
    const client = await ctx.cloud.compute('SubnetworksClient');
    const [lro] = await client.patch({
      project: ref.project,
      region: ref.region ?? '',
      subnetwork: ref.name,
      subnetworkResource: body as ISubnetwork,
    });
    return startedOperation(lro);
  },
  refusal(data) {
    const purpose = nonVmSubnetRefusal(data, 'VPC Flow Logs');
    if (purpose) return purpose;
    const log = rec(data['logConfig']) ?? {};
    if (Array.isArray(log['metadataFields']) && log['metadataFields'].length > 0) {
      return "its flow logs use CUSTOM_METADATA fields, which compute's client cannot clear to switch to INCLUDE_ALL_METADATA";
    }
    return undefined;
  },
  isFixed: flowLogsCisGrade,
  fixBody: (data) => ({ logConfig: fixedLogConfig(data) }),
  undoBody(before, live) {
    const was = rec(before['logConfig']) ?? {};
    let logConfig: ResourceJson;
    if (!flowLogsOn(before)) {
      logConfig = { enable: false };
    } else {
      logConfig = {
        enable: true,
        aggregationInterval: was['aggregationInterval'] ?? DEFAULTS.aggregationInterval,
        flowSampling: was['flowSampling'] ?? DEFAULTS.flowSampling,
        metadata: was['metadata'] ?? DEFAULTS.metadata,
      };
      if (was['filterExpr'] !== undefined) logConfig['filterExpr'] = was['filterExpr'];
    }
    const now = rec(live['logConfig']) ?? {};
    const differs = Object.entries(logConfig).some(([k, v]) => canonicalJson(now[k]) !== canonicalJson(v));
    return differs || Object.keys(now).length !== Object.keys(logConfig).length ? { logConfig } : null;
  },
  describe(ref, data) {
    return (
      `Turn on VPC Flow Logs of subnet ${ref.name} (project ${ref.project}, region ${String(ref.region)}) at ` +
      `the CIS-grade settings ${JSON.stringify(fixedLogConfig(data))} with subnetworks.patch carrying the ` +
      "subnet's current fingerprint (412 if anyone changed it since), then wait for the region operation. " +
      'Only adds log volume (cost). Reversible: undo restores the previous logConfig if the subnet is still as ' +
      'the fix left it.'
    );
  },
});
