import { z } from 'zod';
import type { Asset } from '../model/asset.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import { isObject, mergePatch, type JsonObject } from './merge-patch.js';
import type { ApiSurface, Route, RouteRequest, SurfaceOptions } from './routes.js';

/**
 * Cloud DNS v1 (dns.googleapis.com/dns/v1), the calls Warden's DNS actions make:
 * - GET/PATCH /dns/v1/projects/P/managedZones/Z           managedZones.get / .patch (→ an Operation)
 * - GET       /dns/v1/projects/P/managedZones/Z/operations/OP   managedZoneOperations.get
 * - GET/PATCH /dns/v1/projects/P/policies/NAME             policies.get / .patch (→ {header, policy})
 *
 * PATCH has JSON merge semantics and no precondition (managed zones and policies carry no etag or
 * fingerprint). The v1 API spells its enums in lower case (visibility public, dnssecConfig.state on/off/transfer,
 * nonExistence nsec3, algorithm rsasha256, keyType keySigning); CAI exports ManagedZone data in v1alpha2 with
 * upper-case enums (PUBLIC, ON, KEY_SIGNING). The twin keeps each asset's data in the casing CAI gave it and
 * renders v1 on the way out; v1 requests must use v1 spellings.
 *
 * DNSSEC: only public zones ("Precondition not met for 'DNSSEC can only be enabled on public zones.'", 412);
 * turning it on fills in the default key specs (KSK rsasha256 2048, ZSK rsasha256 1024) and nonExistence
 * nsec3; the key specs and nonExistence cannot change while the zone is signed (400 immutableField). A
 * managedZones.patch returns a `dns#operation` (status pending → done after `operationPolls` reads) and
 * lands when it is done. DNS operations have no error field: under the failOperation fault the operation
 * ends done with the zone unchanged (zoneContext.newValue = oldValue). policies.patch is synchronous (it
 * answers the patched policy, no operation), so that fault has nothing to fail there.
 */

const ID = '([^/]+)';
const ZONE = new RegExp(`^/dns/v1/projects/${ID}/managedZones/${ID}$`);
const ZONE_OPERATION = new RegExp(`^/dns/v1/projects/${ID}/managedZones/${ID}/operations/${ID}$`);
const POLICY = new RegExp(`^/dns/v1/projects/${ID}/policies/${ID}$`);

export const MANAGED_ZONE_TYPE = 'dns.googleapis.com/ManagedZone';
export const DNS_POLICY_TYPE = 'dns.googleapis.com/Policy';

const KEY_TYPES: Record<string, string> = { KEY_SIGNING: 'keySigning', ZONE_SIGNING: 'zoneSigning' };
const ALGORITHMS = ['rsasha1', 'rsasha256', 'rsasha512', 'ecdsap256sha256', 'ecdsap384sha384'];

/** The key specs Cloud DNS uses when DNSSEC is turned on without any. */
const DEFAULT_KEY_SPECS = [
  { algorithm: 'rsasha256', keyLength: 2048, keyType: 'keySigning', kind: 'dns#dnsKeySpec' },
  { algorithm: 'rsasha256', keyLength: 1024, keyType: 'zoneSigning', kind: 'dns#dnsKeySpec' },
];

const lower = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);
const upper = (v: unknown): unknown => (typeof v === 'string' ? v.toUpperCase() : v);

/** Maps the enum fields of a ManagedZone (v1 ↔ CAI v1alpha2 spelling). */
function mapZoneEnums(
  data: JsonObject,
  plain: (v: unknown) => unknown,
  keyType: (v: unknown) => unknown,
): JsonObject {
  const out = structuredClone(data);
  if (out['visibility'] !== undefined) out['visibility'] = plain(out['visibility']);
  const dnssec = out['dnssecConfig'];
  if (isObject(dnssec)) {
    if (dnssec['state'] !== undefined) dnssec['state'] = plain(dnssec['state']);
    if (dnssec['nonExistence'] !== undefined) dnssec['nonExistence'] = plain(dnssec['nonExistence']);
    if (Array.isArray(dnssec['defaultKeySpecs'])) {
      for (const spec of dnssec['defaultKeySpecs']) {
        if (!isObject(spec)) continue;
        if (spec['algorithm'] !== undefined) spec['algorithm'] = plain(spec['algorithm']);
        if (spec['keyType'] !== undefined) spec['keyType'] = keyType(spec['keyType']);
      }
    }
  }
  const fwd = out['forwardingConfig'];
  if (isObject(fwd) && Array.isArray(fwd['targetNameServers'])) {
    for (const t of fwd['targetNameServers'])
      if (isObject(t) && t['forwardingPath'] !== undefined) t['forwardingPath'] = plain(t['forwardingPath']);
  }
  return out;
}

const toV1KeyType = (v: unknown): unknown => (typeof v === 'string' ? (KEY_TYPES[v.toUpperCase()] ?? v) : v);
const toCaiKeyType = (v: unknown): unknown =>
  v === 'keySigning' ? 'KEY_SIGNING' : v === 'zoneSigning' ? 'ZONE_SIGNING' : upper(v);

/** Whether an asset's data uses CAI's v1alpha2 (upper-case) enum spelling. */
function caiUpperCase(asset: Asset): boolean {
  const data = asset.resource?.data ?? {};
  const state = isObject(data['dnssecConfig']) ? data['dnssecConfig']['state'] : undefined;
  const sample = [data['visibility'], state].find((v) => typeof v === 'string') as string | undefined;
  if (sample !== undefined) return sample === sample.toUpperCase();
  return String(asset.resource?.version ?? '').startsWith('v1alpha');
}

const DnsKeySpec = z.strictObject({
  algorithm: z.enum(ALGORITHMS as [string, ...string[]]).optional(),
  keyLength: z.number().int().positive().optional(),
  keyType: z.enum(['keySigning', 'zoneSigning']).optional(),
  kind: z.literal('dns#dnsKeySpec').optional(),
});
const ZonePatch = z.strictObject({
  kind: z.literal('dns#managedZone').optional(),
  name: z.string().optional(),
  dnsName: z.string().optional(),
  description: z.string().max(1024).optional(),
  id: z.string().optional(),
  nameServers: z.array(z.string()).optional(),
  nameServerSet: z.string().optional(),
  creationTime: z.string().optional(),
  visibility: z.enum(['public', 'private']).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  dnssecConfig: z
    .strictObject({
      kind: z.literal('dns#managedZoneDnsSecConfig').optional(),
      state: z.enum(['on', 'off', 'transfer']).optional(),
      nonExistence: z.enum(['nsec', 'nsec3']).optional(),
      defaultKeySpecs: z.array(DnsKeySpec).optional(),
    })
    .optional(),
  privateVisibilityConfig: z.looseObject({}).optional(),
  forwardingConfig: z.looseObject({}).optional(),
  peeringConfig: z.looseObject({}).optional(),
  reverseLookupConfig: z.looseObject({}).optional(),
  serviceDirectoryConfig: z.looseObject({}).optional(),
  cloudLoggingConfig: z.looseObject({ enableLogging: z.boolean().optional() }).optional(),
});
const PolicyPatch = z.strictObject({
  kind: z.literal('dns#policy').optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  description: z.string().max(1024).optional(),
  enableInboundForwarding: z.boolean().optional(),
  enableLogging: z.boolean().optional(),
  networks: z
    .array(z.strictObject({ kind: z.literal('dns#policyNetwork').optional(), networkUrl: z.string() }))
    .optional(),
  alternativeNameServerConfig: z.looseObject({}).optional(),
  dns64Config: z.looseObject({}).optional(),
});

/** Cloud DNS's 400 for a body that does not match the resource (the field named as the API names it). */
function parse<T>(schema: z.ZodType<T>, body: unknown, entity: string): T {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = [entity, ...(issue?.path ?? []).map(String)];
  if (issue?.code === 'unrecognized_keys') {
    throw new TwinHttpError(
      400,
      `Invalid JSON payload received. Unknown name "${issue.keys[0] ?? ''}": Cannot find field.`,
      {
        reason: 'invalid',
      },
    );
  }
  const value = (issue?.path ?? []).reduce<unknown>(
    (v, p) => (typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[p] : undefined),
    body,
  );
  throw new TwinHttpError(400, `Invalid value for '${at.join('.')}': '${String(value)}'`, {
    reason: 'invalid',
  });
}

const immutable = (field: string): TwinHttpError =>
  new TwinHttpError(400, `The field '${field}' cannot be modified.`, { reason: 'immutableField' });

const signed = (v1: JsonObject): boolean => {
  const d = isObject(v1['dnssecConfig']) ? v1['dnssecConfig'] : {};
  return d['state'] === 'on' || d['state'] === 'transfer';
};

interface ZoneOperation {
  op: JsonObject;
  reads: number;
  complete: () => Promise<void>;
}

export function dnsApi(inv: Inventory, opts: SurfaceOptions): ApiSurface {
  const operations = new Map<string, ZoneOperation>();
  let seq = 0;

  /** An asset by CAI name, or by the zone's/policy's name or id within the project (id or number). */
  const find = (type: string, collection: string, project: string, id: string): Asset | undefined => {
    const direct = inv.get(`//dns.googleapis.com/projects/${project}/${collection}/${id}`);
    if (direct?.assetType === type) return direct;
    const number = inv.projectNumber(project);
    return inv.all().find((a) => {
      if (a.assetType !== type) return false;
      const m = new RegExp(`^//dns\\.googleapis\\.com/projects/([^/]+)/${collection}/([^/]+)$`).exec(a.name);
      if (!m) return false;
      const sameProject =
        m[1] === project ||
        (number !== undefined && (m[1] === number || a.ancestors.includes(`projects/${number}`)));
      const data = a.resource?.data ?? {};
      return sameProject && (m[2] === id || data['name'] === id || String(data['id'] ?? '') === id);
    });
  };

  const zoneAsset = (project: string, zone: string): Asset => {
    const asset = find(MANAGED_ZONE_TYPE, 'managedZones', project, zone);
    if (!asset)
      throw new TwinHttpError(404, `The 'parameters.managedZone' resource named '${zone}' does not exist.`, {
        reason: 'notFound',
      });
    return asset;
  };
  const policyAsset = (project: string, policy: string): Asset => {
    const asset = find(DNS_POLICY_TYPE, 'policies', project, policy);
    if (!asset)
      throw new TwinHttpError(404, `The 'parameters.policy' resource named '${policy}' does not exist.`, {
        reason: 'notFound',
      });
    return asset;
  };

  const zoneV1 = (asset: Asset): JsonObject => {
    const out = mapZoneEnums(structuredClone(asset.resource?.data ?? {}) as JsonObject, lower, toV1KeyType);
    if (out['id'] !== undefined) out['id'] = String(out['id']);
    return { kind: 'dns#managedZone', ...out };
  };
  const policyV1 = (asset: Asset): JsonObject => {
    const out = structuredClone(asset.resource?.data ?? {}) as JsonObject;
    if (out['id'] !== undefined) out['id'] = String(out['id']);
    return { kind: 'dns#policy', ...out };
  };

  /** Stores v1 data on an asset in the casing its CAI data uses; through inv.change (the feed). */
  const storeZone = (asset: Asset, v1: JsonObject): Promise<Asset> =>
    inv.change(asset.name, ['RESOURCE'], (a) => {
      const { kind: _k, ...rest } = v1;
      const data = caiUpperCase(asset) ? mapZoneEnums(rest, upper, toCaiKeyType) : rest;
      if (!('kind' in (a.resource?.data ?? {}))) delete data['kind'];
      else data['kind'] = 'dns#managedZone';
      a.resource = { ...(a.resource ?? {}), data };
    });

  const readOperation = async (project: string, zone: string, id: string): Promise<JsonObject> => {
    const asset = zoneAsset(project, zone);
    const state = operations.get(`${asset.name}/operations/${id}`);
    if (!state)
      throw new TwinHttpError(404, `The 'parameters.operation' resource named '${id}' does not exist.`, {
        reason: 'notFound',
      });
    if (state.op['status'] !== 'done') {
      state.reads += 1;
      if (state.reads >= opts.operationPolls) {
        state.op['status'] = 'done';
        await state.complete();
      }
    }
    return structuredClone(state.op);
  };

  const patchZone = async (req: RouteRequest): Promise<JsonObject> => {
    const [project, zone] = req.params as [string, string];
    const asset = zoneAsset(project, zone);
    const body = parse(ZonePatch, req.body, 'entity.managedZone');
    const current = zoneV1(asset);
    const now: JsonObject = { ...current, visibility: current['visibility'] ?? 'public' };
    for (const f of ['name', 'dnsName', 'visibility'] as const) {
      if (body[f] !== undefined && body[f] !== now[f]) throw immutable(`entity.managedZone.${f}`);
    }
    const patch: JsonObject = structuredClone(body) as JsonObject;
    for (const f of ['kind', 'id', 'nameServers', 'creationTime']) delete patch[f];
    const next = mergePatch(current, patch) as JsonObject;
    const before = isObject(current['dnssecConfig']) ? current['dnssecConfig'] : {};
    const after = isObject(next['dnssecConfig']) ? structuredClone(next['dnssecConfig']) : undefined;
    if (after) {
      const turningOn = signed(next) && !signed(current);
      if (signed(next) && String(next['visibility'] ?? 'public') !== 'public') {
        throw new TwinHttpError(
          412,
          "Precondition not met for 'DNSSEC can only be enabled on public zones.'",
          {
            reason: 'conditionNotMet',
          },
        );
      }
      if (signed(current) && signed(next)) {
        for (const f of ['defaultKeySpecs', 'nonExistence']) {
          if (JSON.stringify(after[f]) !== JSON.stringify(before[f]))
            throw immutable(`entity.managedZone.dnssecConfig.${f}`);
        }
      }
      if (turningOn) {
        after['defaultKeySpecs'] ??= structuredClone(DEFAULT_KEY_SPECS);
        after['nonExistence'] ??= 'nsec3';
      }
      next['dnssecConfig'] = after;
    }
    seq += 1;
    const id = String(seq);
    const fail = req.failOperation;
    const op: JsonObject = {
      kind: 'dns#operation',
      id,
      startTime: inv.now(),
      status: 'pending',
      user: 'warden@gcp-twin.invalid',
      type: 'update',
      zoneContext: { oldValue: current, newValue: fail ? current : next },
    };
    const state: ZoneOperation = {
      op,
      reads: 0,
      // No error field exists on a DNS operation: a failed one ends done with the zone unchanged.
      complete: fail ? async () => undefined : async () => void (await storeZone(asset, next)),
    };
    operations.set(`${asset.name}/operations/${id}`, state);
    if (opts.operationPolls <= 0) {
      op['status'] = 'done';
      await state.complete();
    }
    return structuredClone(op);
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: ZONE,
      async handle(req) {
        return { status: 200, body: zoneV1(zoneAsset(req.params[0] as string, req.params[1] as string)) };
      },
    },
    { method: 'PATCH', pattern: ZONE, handle: async (req) => ({ status: 200, body: await patchZone(req) }) },
    {
      method: 'GET',
      pattern: ZONE_OPERATION,
      async handle(req) {
        const [project, zone, id] = req.params as [string, string, string];
        return { status: 200, body: await readOperation(project, zone, id) };
      },
    },
    {
      method: 'GET',
      pattern: POLICY,
      async handle(req) {
        return { status: 200, body: policyV1(policyAsset(req.params[0] as string, req.params[1] as string)) };
      },
    },
    {
      method: 'PATCH',
      pattern: POLICY,
      async handle(req) {
        const [project, name] = req.params as [string, string];
        const asset = policyAsset(project, name);
        const body = parse(PolicyPatch, req.body, 'entity.policy');
        const current = policyV1(asset);
        if (body.name !== undefined && body.name !== current['name']) throw immutable('entity.policy.name');
        const patch: JsonObject = structuredClone(body) as JsonObject;
        for (const f of ['kind', 'id']) delete patch[f];
        const next = await inv.change(asset.name, ['RESOURCE'], (a) => {
          const data = mergePatch(a.resource?.data ?? {}, patch) as JsonObject;
          a.resource = { ...(a.resource ?? {}), data };
        });
        seq += 1;
        // policies.patch answers PoliciesPatchResponse: the policy as it now is, under a response header.
        return { status: 200, body: { header: { operationId: String(seq) }, policy: policyV1(next) } };
      },
    },
  ];

  const describeChange = (type: 'zone' | 'policy', pattern: RegExp) => ({
    pattern,
    async apply(params: string[]) {
      const [project, id] = params as [string, string];
      const asset = type === 'zone' ? zoneAsset(project, id) : policyAsset(project, id);
      seq += 1;
      const n = seq;
      await inv.change(asset.name, ['RESOURCE'], (a) => {
        a.resource = {
          ...(a.resource ?? {}),
          data: { ...(a.resource?.data ?? {}), description: `changed by someone else (${n})` },
        };
      });
    },
  });

  return {
    routes,
    concurrentChanges: [
      describeChange('zone', new RegExp(`^/dns/v1/projects/${ID}/managedZones/${ID}(?:/operations/[^/]+)?$`)),
      describeChange('policy', POLICY),
    ],
  };
}
