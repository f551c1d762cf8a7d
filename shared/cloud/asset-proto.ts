import type { protos } from '@google-cloud/asset';
import { AssetSchema, type Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';

type IAsset = protos.google.cloud.asset.v1.IAsset;
type IValue = protos.google.protobuf.IValue;
type IStruct = protos.google.protobuf.IStruct;
type ITimestamp = protos.google.protobuf.ITimestamp;

/**
 * @google-cloud/asset decodes the REST JSON into protobuf objects: `resource.data` arrives as a
 * google.protobuf.Struct (`{fields:{k:{stringValue,kind}}}`), timestamps as `{seconds, nanos}`, bytes
 * (policy etags) as Buffers, and every unset field as a default ('' , [], null). This turns one back into
 * the Asset model, the shape a feed message has.
 */

function valueToJson(v: IValue | null | undefined): unknown {
  if (!v) return null;
  if (v.structValue) return structToJson(v.structValue);
  if (v.listValue) return (v.listValue.values ?? []).map(valueToJson);
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.numberValue !== undefined && v.numberValue !== null) return v.numberValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  return null;
}

export function structToJson(s: IStruct | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = valueToJson(v);
  return out;
}

/** RFC 3339 in UTC with the fraction CAI itself prints (microseconds in practice), trailing zeros trimmed. */
export function timestampToRfc3339(t: ITimestamp | null | undefined): string | undefined {
  if (!t || t.seconds === undefined || t.seconds === null) return undefined;
  const seconds = Number(t.seconds);
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  const nanos = Number(t.nanos ?? 0);
  const frac = nanos > 0 ? `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${base}${frac}Z`;
}

function bytesToBase64(b: unknown): string | undefined {
  if (b === null || b === undefined) return undefined;
  if (typeof b === 'string') return b;
  if (b instanceof Uint8Array) return Buffer.from(b).toString('base64');
  return undefined;
}

const LOG_TYPES = ['LOG_TYPE_UNSPECIFIED', 'ADMIN_READ', 'DATA_WRITE', 'DATA_READ'];

/** Generic cleanup of decoded messages that Warden treats as opaque (org and access policies). */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (
      typeof o['seconds'] !== 'undefined' &&
      Object.keys(o).every((k) => k === 'seconds' || k === 'nanos')
    ) {
      return timestampToRfc3339(o as ITimestamp);
    }
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(o)) {
      // protobufjs marks the set member of a oneof with a `_field: "field"` entry.
      if (k.startsWith('_') && typeof val === 'string') continue;
      const p = plain(val);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  return v;
}

export function assetFromProto(a: IAsset): Asset {
  const out: Record<string, unknown> = {
    name: a.name ?? '',
    assetType: a.assetType ?? '',
    ancestors: [...(a.ancestors ?? [])],
  };
  const r = a.resource;
  if (r) {
    const resource: Record<string, unknown> = { data: structToJson(r.data) };
    for (const k of ['version', 'discoveryDocumentUri', 'discoveryName', 'parent', 'location'] as const) {
      if (r[k]) resource[k] = r[k];
    }
    out['resource'] = resource;
  }
  const p = a.iamPolicy;
  if (p) {
    const policy: Record<string, unknown> = {
      bindings: (p.bindings ?? []).map((b) => {
        const binding: Record<string, unknown> = { role: b.role ?? '', members: [...(b.members ?? [])] };
        if (b.condition) {
          const c: Record<string, unknown> = { expression: b.condition.expression ?? '' };
          if (b.condition.title) c['title'] = b.condition.title;
          if (b.condition.description) c['description'] = b.condition.description;
          binding['condition'] = c;
        }
        return binding;
      }),
    };
    if (p.version !== undefined && p.version !== null) policy['version'] = p.version;
    const etag = bytesToBase64(p.etag);
    if (etag !== undefined) policy['etag'] = etag;
    if (p.auditConfigs && p.auditConfigs.length > 0) {
      policy['auditConfigs'] = p.auditConfigs.map((ac) => ({
        service: ac.service ?? '',
        auditLogConfigs: (ac.auditLogConfigs ?? []).map((lc) => {
          const logType = typeof lc.logType === 'number' ? LOG_TYPES[lc.logType] : lc.logType;
          const c: Record<string, unknown> = { logType: logType ?? 'LOG_TYPE_UNSPECIFIED' };
          if (lc.exemptedMembers && lc.exemptedMembers.length > 0)
            c['exemptedMembers'] = [...lc.exemptedMembers];
          return c;
        }),
      }));
    }
    out['iamPolicy'] = policy;
  }
  if (a.orgPolicy && a.orgPolicy.length > 0) out['orgPolicy'] = plain(a.orgPolicy);
  const access = a.accessPolicy ?? a.accessLevel ?? a.servicePerimeter;
  if (access) out['accessPolicy'] = plain(access);
  const updateTime = timestampToRfc3339(a.updateTime);
  if (updateTime) out['updateTime'] = updateTime;

  const parsed = AssetSchema.safeParse(out);
  if (!parsed.success) {
    throw new WardenError(
      `Cloud Asset Inventory returned an asset Warden cannot read (${String(a.name)}): ${parsed.error.message}`,
      {
        retryable: false,
        code: 'invalid_asset',
      },
    );
  }
  return parsed.data;
}
