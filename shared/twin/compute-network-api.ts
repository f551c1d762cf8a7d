import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Asset } from '../model/asset.js';
import { computeOperations, type OperationScope } from './compute-operations.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import { isObject, mergePatch, type JsonObject } from './merge-patch.js';
import { parseBody, type ApiSurface, type Route, type RouteRequest } from './routes.js';

/**
 * Compute Engine v1 network resources that carry a fingerprint (catalog F10): subnetworks (get, patch,
 * setPrivateIpGoogleAccess), backend services and SSL policies, global and regional (get, patch), and the
 * regional operations their changes start (global ones are served by compute-api.ts from the same store).
 *
 * patch takes the resource's current `fingerprint` in the body and answers 412 conditionNotMet when it is
 * missing or stale; every accepted change gives the resource a new fingerprint. The body is a JSON merge
 * patch of the resource as @google-cloud/compute serializes it: unset and empty repeated fields are
 * omitted and nothing can be sent as null, so no patch through the client can clear a field or a list.
 * Numbers travel as JSON numbers (`flowSampling: 1`), enums as names. setPrivateIpGoogleAccess takes no
 * fingerprint at all. Changes land when their operation is DONE and are published as RESOURCE feed messages.
 *
 * Server-side rules modelled from the v1 reference: flow logs "isn't supported" on proxy-only and Private
 * Service Connect subnets; a subnetwork's flow-log details "can only be specified if VPC flow logging ... is
 * enabled" (turning logging off leaves `logConfig: {enable: false}`, the shape CAI shows for such subnets),
 * metadataFields only with CUSTOM_METADATA; the legacy `enableFlowLogs`, where a subnetwork still has it,
 * follows `logConfig.enable`. A backend service's sampleRate and optional fields exist only while logging is
 * on. An SSL policy's customFeatures "must be empty if the profile is not CUSTOM" (and CUSTOM needs some),
 * TLS_1_3 needs RESTRICTED.
 */

const P = '([^/]+)';
const SUBNETWORK = new RegExp(`^/compute/v1/projects/${P}/regions/${P}/subnetworks/${P}$`);
const SUBNETWORK_SET_PGA = new RegExp(
  `^/compute/v1/projects/${P}/regions/${P}/subnetworks/${P}/setPrivateIpGoogleAccess$`,
);
const SUBNETWORK_ANY = new RegExp(
  `^/compute/v1/projects/${P}/regions/${P}/subnetworks/${P}(?:/setPrivateIpGoogleAccess)?$`,
);
const GLOBAL_BACKEND_SERVICE = new RegExp(`^/compute/v1/projects/${P}/global/backendServices/${P}$`);
const REGION_BACKEND_SERVICE = new RegExp(`^/compute/v1/projects/${P}/regions/${P}/backendServices/${P}$`);
const GLOBAL_SSL_POLICY = new RegExp(`^/compute/v1/projects/${P}/global/sslPolicies/${P}$`);
const REGION_SSL_POLICY = new RegExp(`^/compute/v1/projects/${P}/regions/${P}/sslPolicies/${P}$`);

const API_BASE = 'https://www.googleapis.com/compute/v1';

export const SUBNETWORK_TYPE = 'compute.googleapis.com/Subnetwork';
export const BACKEND_SERVICE_TYPES = [
  'compute.googleapis.com/BackendService',
  'compute.googleapis.com/RegionBackendService',
] as const;
export const SSL_POLICY_TYPE = 'compute.googleapis.com/SslPolicy';

/** Subnet purposes that carry no VM traffic: flow logs and Private Google Access are not supported. */
export const NON_VM_SUBNET_PURPOSES = [
  'REGIONAL_MANAGED_PROXY',
  'GLOBAL_MANAGED_PROXY',
  'INTERNAL_HTTPS_LOAD_BALANCER',
  'PRIVATE_SERVICE_CONNECT',
  'PRIVATE_NAT',
  'PEER_MIGRATION',
];

const READ_ONLY = ['id', 'kind', 'selfLink', 'selfLinkWithId', 'creationTimestamp', 'fingerprint'];

const SubnetworkLogConfig = z.looseObject({
  enable: z.boolean().optional(),
  aggregationInterval: z
    .enum([
      'INTERVAL_5_SEC',
      'INTERVAL_30_SEC',
      'INTERVAL_1_MIN',
      'INTERVAL_5_MIN',
      'INTERVAL_10_MIN',
      'INTERVAL_15_MIN',
    ])
    .optional(),
  flowSampling: z.number().min(0).max(1).optional(),
  metadata: z.enum(['INCLUDE_ALL_METADATA', 'EXCLUDE_ALL_METADATA', 'CUSTOM_METADATA']).optional(),
  filterExpr: z.string().optional(),
  metadataFields: z.array(z.string()).optional(),
});
const SubnetworkPatch = z.looseObject({
  fingerprint: z.string().optional(),
  logConfig: SubnetworkLogConfig.optional(),
  enableFlowLogs: z.boolean().optional(),
});
const SetPrivateIpGoogleAccess = z.object({ privateIpGoogleAccess: z.boolean() });

const BackendServicePatch = z.looseObject({
  fingerprint: z.string().optional(),
  logConfig: z
    .looseObject({
      enable: z.boolean().optional(),
      sampleRate: z.number().min(0).max(1).optional(),
      optionalMode: z.enum(['INCLUDE_ALL_OPTIONAL', 'EXCLUDE_ALL_OPTIONAL', 'CUSTOM']).optional(),
      optionalFields: z.array(z.string()).optional(),
    })
    .optional(),
});

const SslPolicyPatch = z.looseObject({
  fingerprint: z.string().optional(),
  profile: z.enum(['COMPATIBLE', 'MODERN', 'RESTRICTED', 'CUSTOM', 'FIPS_202205']).optional(),
  minTlsVersion: z.enum(['TLS_1_0', 'TLS_1_1', 'TLS_1_2', 'TLS_1_3']).optional(),
  customFeatures: z.array(z.string().regex(/^TLS_[A-Z0-9_]+$/, 'Must be a TLS cipher suite name')).optional(),
});

export function subnetworkAssetName(project: string, region: string, subnetwork: string): string {
  return `//compute.googleapis.com/projects/${project}/regions/${region}/subnetworks/${subnetwork}`;
}

function scopePath(project: string, scope: OperationScope): string {
  return scope.kind === 'region'
    ? `projects/${project}/regions/${scope.region}`
    : `projects/${project}/global`;
}

function badField(field: string, value: unknown, why: string): TwinHttpError {
  return new TwinHttpError(400, `Invalid value for field 'resource.${field}': '${String(value)}'. ${why}`, {
    reason: 'invalid',
  });
}

/** What one fingerprinted resource kind needs: its collection, asset types, and the server's own rules. */
interface Kind {
  collection: string;
  computeKind: string;
  assetTypes: readonly string[];
  schema: z.ZodType<JsonObject>;
  /** Fields that cannot change through patch (400 when the body changes them). */
  immutable: string[];
  /** The resource after the merge, as the server keeps it; throws 400 for what it refuses. */
  normalize(merged: JsonObject, patch: JsonObject, prior: JsonObject): JsonObject;
}

const subnetworkKind: Kind = {
  collection: 'subnetworks',
  computeKind: 'compute#subnetwork',
  assetTypes: [SUBNETWORK_TYPE],
  schema: SubnetworkPatch,
  immutable: ['name', 'network', 'region', 'ipCidrRange', 'purpose', 'privateIpGoogleAccess'],
  normalize(merged, patch, prior) {
    const out = structuredClone(merged);
    const patchLog = isObject(patch['logConfig']) ? patch['logConfig'] : undefined;
    const patchEnable = patchLog?.['enable'];
    const patchLegacy = patch['enableFlowLogs'];
    if (typeof patchEnable === 'boolean' && typeof patchLegacy === 'boolean' && patchEnable !== patchLegacy) {
      throw badField('enableFlowLogs', patchLegacy, 'Conflicts with logConfig.enable.');
    }
    // The legacy field and logConfig.enable are one setting.
    if (typeof patchEnable === 'boolean' && 'enableFlowLogs' in prior) out['enableFlowLogs'] = patchEnable;
    if (typeof patchLegacy === 'boolean' && patchEnable === undefined && isObject(out['logConfig'])) {
      out['logConfig'] = { ...out['logConfig'], enable: patchLegacy };
    }
    const log = isObject(out['logConfig']) ? out['logConfig'] : undefined;
    const on = log?.['enable'] === true || (log?.['enable'] === undefined && out['enableFlowLogs'] === true);
    const purpose = String(out['purpose'] ?? 'PRIVATE');
    if (on && NON_VM_SUBNET_PURPOSES.includes(purpose)) {
      throw badField(
        'logConfig.enable',
        true,
        `Flow logging isn't supported for subnetworks with purpose ${purpose}.`,
      );
    }
    if (log && log['enable'] === false) {
      out['logConfig'] = { enable: false };
    } else if (log && log['metadata'] !== 'CUSTOM_METADATA' && log['metadataFields'] !== undefined) {
      throw badField(
        'logConfig.metadataFields',
        JSON.stringify(log['metadataFields']),
        'Can only be specified if metadata is CUSTOM_METADATA.',
      );
    }
    return out;
  },
};

const backendServiceKind: Kind = {
  collection: 'backendServices',
  computeKind: 'compute#backendService',
  assetTypes: BACKEND_SERVICE_TYPES,
  schema: BackendServicePatch,
  immutable: ['name', 'region', 'loadBalancingScheme'],
  normalize(merged) {
    const out = structuredClone(merged);
    const log = isObject(out['logConfig']) ? out['logConfig'] : undefined;
    if (log && log['enable'] !== true) out['logConfig'] = { enable: false };
    return out;
  },
};

const sslPolicyKind: Kind = {
  collection: 'sslPolicies',
  computeKind: 'compute#sslPolicy',
  assetTypes: [SSL_POLICY_TYPE],
  schema: SslPolicyPatch,
  immutable: ['name', 'region'],
  normalize(merged) {
    const profile = String(merged['profile'] ?? 'COMPATIBLE');
    const features = Array.isArray(merged['customFeatures']) ? merged['customFeatures'] : [];
    if (profile === 'CUSTOM' && features.length === 0) {
      throw badField('customFeatures', '[]', 'Must be specified when the profile is CUSTOM.');
    }
    if (profile !== 'CUSTOM' && features.length > 0) {
      throw badField(
        'customFeatures',
        JSON.stringify(features),
        'Must be empty if the profile is not CUSTOM.',
      );
    }
    if (merged['minTlsVersion'] === 'TLS_1_3' && profile !== 'RESTRICTED') {
      throw badField('minTlsVersion', 'TLS_1_3', 'TLS_1_3 requires the RESTRICTED profile.');
    }
    return structuredClone(merged);
  },
};

export function computeNetworkApi(inv: Inventory, operationPolls: number): ApiSurface {
  const operations = computeOperations(inv, operationPolls);
  let seq = 0;

  /** A new opaque 8-byte fingerprint, as compute returns them (base64). Every accepted change gets one. */
  const nextFingerprint = (salt: string): string => {
    seq += 1;
    return createHash('sha256').update(`${salt}/${seq}`).digest().subarray(0, 8).toString('base64');
  };

  const resourceOf = (kind: Kind, project: string, scope: OperationScope, name: string): Asset => {
    const path = `${scopePath(project, scope)}/${kind.collection}/${name}`;
    const asset = inv.get(`//compute.googleapis.com/${path}`);
    if (!asset || !kind.assetTypes.includes(asset.assetType)) {
      throw new TwinHttpError(404, `The resource '${path}' was not found`, { reason: 'notFound' });
    }
    return asset;
  };

  const changeData = (asset: Asset, mutate: (data: JsonObject) => JsonObject): Promise<Asset> =>
    inv.change(asset.name, ['RESOURCE'], (a) => {
      const data = mutate(structuredClone(a.resource?.data ?? {}) as JsonObject);
      data['fingerprint'] = nextFingerprint(a.name);
      a.resource = { ...(a.resource ?? {}), data };
    });

  const scoped = (kind: 'global' | 'region', params: string[]): [string, OperationScope, string] =>
    kind === 'region'
      ? [params[0] as string, { kind: 'region', region: params[1] as string }, params[2] as string]
      : [params[0] as string, { kind: 'global' }, params[1] as string];

  const getRoute = (kind: Kind, scope: 'global' | 'region', pattern: RegExp): Route => ({
    method: 'GET',
    pattern,
    async handle(req) {
      const asset = resourceOf(kind, ...scoped(scope, req.params));
      return {
        status: 200,
        body: { kind: kind.computeKind, ...structuredClone(asset.resource?.data ?? {}) },
      };
    },
  });

  const patchRoute = (kind: Kind, scope: 'global' | 'region', pattern: RegExp): Route => ({
    method: 'PATCH',
    pattern,
    async handle(req: RouteRequest) {
      const [project, opScope, name] = scoped(scope, req.params);
      const asset = resourceOf(kind, project, opScope, name);
      const body = parseBody(kind.schema, req.body, 'resource');
      const data = (asset.resource?.data ?? {}) as JsonObject;
      const sent = body['fingerprint'];
      if (sent !== data['fingerprint']) {
        throw new TwinHttpError(
          412,
          sent === undefined
            ? `Required field 'resource.fingerprint' not specified: an up-to-date fingerprint must be provided.`
            : `Invalid value for field 'resource.fingerprint': '${String(sent)}'. Supplied fingerprint does not match current ${kind.computeKind.slice('compute#'.length)} fingerprint.`,
          { reason: 'conditionNotMet' },
        );
      }
      for (const f of kind.immutable) {
        if (body[f] !== undefined && JSON.stringify(body[f]) !== JSON.stringify(data[f])) {
          throw badField(f, body[f], 'Cannot be changed.');
        }
      }
      const patch: JsonObject = structuredClone(body);
      for (const f of READ_ONLY) delete patch[f];
      // The client sends every map field, empty ones as {} (BackendService.metadatas): merging {} into
      // nothing must not add the field.
      for (const [k, v] of Object.entries(patch)) {
        if (isObject(v) && Object.keys(v).length === 0 && data[k] === undefined) delete patch[k];
      }
      kind.normalize(mergePatch(data, patch) as JsonObject, patch, data); // 400 now, as the API answers
      const path = `${scopePath(project, opScope)}/${kind.collection}/${name}`;
      const op = await operations.start({
        project,
        scope: opScope,
        operationType: 'patch',
        targetLink: `${API_BASE}/${path}`,
        targetId: String(data['id'] ?? ''),
        fail: req.failOperation,
        complete: async () => {
          await changeData(asset, (current) =>
            kind.normalize(mergePatch(current, patch) as JsonObject, patch, current),
          );
        },
      });
      return { status: 200, body: op };
    },
  });

  const concurrentChange = (kind: Kind, scope: 'global' | 'region', pattern: RegExp) => ({
    pattern,
    async apply(params: string[]) {
      const asset = resourceOf(kind, ...scoped(scope, params));
      await changeData(asset, (data) => {
        data['description'] = `changed by someone else (${seq + 1})`;
        return data;
      });
    },
  });

  return {
    routes: [
      getRoute(subnetworkKind, 'region', SUBNETWORK),
      patchRoute(subnetworkKind, 'region', SUBNETWORK),
      {
        method: 'POST',
        pattern: SUBNETWORK_SET_PGA,
        async handle(req) {
          const [project, scope, name] = scoped('region', req.params);
          const asset = resourceOf(subnetworkKind, project, scope, name);
          const { privateIpGoogleAccess } = parseBody(SetPrivateIpGoogleAccess, req.body, 'resource');
          const data = asset.resource?.data ?? {};
          const purpose = String(data['purpose'] ?? 'PRIVATE');
          if (privateIpGoogleAccess && NON_VM_SUBNET_PURPOSES.includes(purpose)) {
            throw badField(
              'privateIpGoogleAccess',
              true,
              `Private Google Access isn't supported for subnetworks with purpose ${purpose}.`,
            );
          }
          const op = await operations.start({
            project,
            scope,
            operationType: 'setPrivateIpGoogleAccess',
            targetLink: `${API_BASE}/${scopePath(project, scope)}/subnetworks/${name}`,
            targetId: String(data['id'] ?? ''),
            fail: req.failOperation,
            complete: async () => {
              await changeData(asset, (current) => ({ ...current, privateIpGoogleAccess }));
            },
          });
          return { status: 200, body: op };
        },
      },
      getRoute(backendServiceKind, 'global', GLOBAL_BACKEND_SERVICE),
      patchRoute(backendServiceKind, 'global', GLOBAL_BACKEND_SERVICE),
      getRoute(backendServiceKind, 'region', REGION_BACKEND_SERVICE),
      patchRoute(backendServiceKind, 'region', REGION_BACKEND_SERVICE),
      getRoute(sslPolicyKind, 'global', GLOBAL_SSL_POLICY),
      patchRoute(sslPolicyKind, 'global', GLOBAL_SSL_POLICY),
      getRoute(sslPolicyKind, 'region', REGION_SSL_POLICY),
      patchRoute(sslPolicyKind, 'region', REGION_SSL_POLICY),
      ...operations.routes('region'),
    ],
    concurrentChanges: [
      concurrentChange(subnetworkKind, 'region', SUBNETWORK_ANY),
      concurrentChange(backendServiceKind, 'global', GLOBAL_BACKEND_SERVICE),
      concurrentChange(backendServiceKind, 'region', REGION_BACKEND_SERVICE),
      concurrentChange(sslPolicyKind, 'global', GLOBAL_SSL_POLICY),
      concurrentChange(sslPolicyKind, 'region', REGION_SSL_POLICY),
    ],
  };
}
