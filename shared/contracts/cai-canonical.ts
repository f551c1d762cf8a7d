import { bytesToJson, isStructMessage, structToJson, timestampToJson } from './protobuf-shapes.js';
import { isPlainObject, parseJson } from './zod-reason.js';

/*
 * CAI spells one Asset message several ways: feeds in proto3 JSON (camelCase), `gcloud asset export` and
 * exportAssets in the proto field names (snake_case, numeric enums in older protobuf-derived dumps), the Node
 * client as message objects. This rewrites the protobuf-defined keys into the model's camelCase and leaves
 * `resource.data` alone: it is the REST resource in its own API's casing (catalog F8), not a proto message.
 * Validation is left to the model's schema, which then reports paths in the one canonical spelling.
 */

type Obj = Record<string, unknown>;

/** Absent, in every spelling the sources use (proto3 JSON omits; message objects say null). */
function present(v: unknown): unknown {
  return v === null ? undefined : v;
}

function pick(o: Obj, camel: string, snake?: string): unknown {
  const v = present(o[camel]);
  return v !== undefined || snake === undefined ? v : present(o[snake]);
}

function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const LOG_TYPES = ['LOG_TYPE_UNSPECIFIED', 'ADMIN_READ', 'DATA_WRITE', 'DATA_READ'] as const;

/** google.iam.v1.AuditLogConfig.LogType by number, as protobuf-derived exports write it (catalog F9). */
function logTypeOf(v: unknown): unknown {
  return typeof v === 'number' && Number.isInteger(v) ? (LOG_TYPES[v] ?? v) : v;
}

const ALL_VALUES = ['ALL_VALUES_UNSPECIFIED', 'ALLOW', 'DENY'] as const;

/** The enums of org and access-context messages, by number, as protobuf-derived exports write them. */
const ENUMS_BY_KEY: Readonly<Record<string, readonly string[]>> = {
  allValues: ALL_VALUES,
  perimeterType: ['PERIMETER_TYPE_REGULAR', 'PERIMETER_TYPE_BRIDGE'],
  combiningFunction: ['AND', 'OR'],
};

/**
 * Org policies and access-context content (policies, levels, perimeters) are proto messages all the way down
 * (no user-keyed maps), so every key can be camel-cased safely; their times, etags and enums are brought to
 * their JSON form on the way.
 */
function protoJsonDeep(v: unknown, key = ''): unknown {
  if (v instanceof Uint8Array) return bytesToJson(v);
  if (Array.isArray(v)) return v.map((x) => protoJsonDeep(x, key));
  if (!isPlainObject(v)) {
    const names = Object.hasOwn(ENUMS_BY_KEY, key) ? ENUMS_BY_KEY[key] : undefined;
    if (names && typeof v === 'number') return names[v] ?? v;
    return v;
  }
  if (key.endsWith('Time')) {
    const t = timestampToJson(v);
    if (typeof t === 'string') return t;
  }
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined) continue;
    const ck = snakeToCamel(k);
    out[ck] = protoJsonDeep(x, ck);
  }
  return out;
}

function setOwn(o: Obj, k: string, v: unknown): void {
  // A plain assignment of "__proto__" would set the prototype instead of the key JSON.parse made.
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/**
 * resource.data is its API's REST JSON, where an explicit null says no more than an absent field (proto3 JSON
 * maps null to the field's default; Google's APIs omit such fields). Policies test presence with has(), and a
 * null left in place reads as present and breaks string() and comparisons. Null-valued keys are dropped, at
 * any depth; a value without any is returned as it is, not copied (the scan's hot path).
 */
export function withoutNullFields(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      const y = withoutNullFields(x);
      if (y !== x && !out) out = v.slice(0, i);
      if (out) out.push(y);
    }
    return out ?? v;
  }
  const o = v as Obj;
  let out: Obj | undefined;
  for (const k in o) {
    const x = o[k];
    const y = x === null ? undefined : withoutNullFields(x);
    if (y !== x && !out) {
      out = {};
      for (const before in o) {
        if (before === k) break;
        setOwn(out, before, o[before]);
      }
    }
    if (out && y !== undefined) setOwn(out, k, y);
  }
  return out ?? o;
}

function resourceOf(raw: unknown): unknown {
  if (!isPlainObject(raw)) return present(raw);
  let data = pick(raw, 'data');
  if (typeof data === 'string') {
    // BigQuery exports hold resource.data as a JSON string column.
    const parsed = parseJson(data);
    if (parsed.ok) data = parsed.value;
  } else if (isStructMessage(data)) {
    data = structToJson(data);
  }
  data = withoutNullFields(data);
  return {
    version: pick(raw, 'version'),
    discoveryDocumentUri: pick(raw, 'discoveryDocumentUri', 'discovery_document_uri'),
    discoveryName: pick(raw, 'discoveryName', 'discovery_name'),
    parent: pick(raw, 'parent'),
    location: pick(raw, 'location'),
    data,
  };
}

function conditionOf(raw: unknown): unknown {
  if (!isPlainObject(raw)) return present(raw);
  return {
    expression: pick(raw, 'expression'),
    title: pick(raw, 'title'),
    description: pick(raw, 'description'),
  };
}

function iamPolicyOf(raw: unknown): unknown {
  if (!isPlainObject(raw)) return present(raw);
  const bindings = pick(raw, 'bindings');
  const auditConfigs = pick(raw, 'auditConfigs', 'audit_configs');
  return {
    version: pick(raw, 'version'),
    etag: bytesToJson(pick(raw, 'etag')),
    bindings: Array.isArray(bindings)
      ? bindings.map((b) =>
          isPlainObject(b)
            ? {
                role: pick(b, 'role'),
                members: pick(b, 'members') ?? [],
                condition: conditionOf(b['condition']),
              }
            : b,
        )
      : bindings,
    auditConfigs: Array.isArray(auditConfigs)
      ? auditConfigs.map((ac) => {
          if (!isPlainObject(ac)) return ac;
          const configs = pick(ac, 'auditLogConfigs', 'audit_log_configs');
          return {
            service: pick(ac, 'service'),
            auditLogConfigs: Array.isArray(configs)
              ? configs.map((c) =>
                  isPlainObject(c)
                    ? {
                        logType: logTypeOf(pick(c, 'logType', 'log_type')),
                        exemptedMembers: pick(c, 'exemptedMembers', 'exempted_members'),
                      }
                    : c,
                )
              : configs,
          };
        })
      : auditConfigs,
  };
}

/**
 * Older exports give `ancestry_path` ("organizations/1/folders/2/projects/3", root first) where newer ones
 * give `ancestors` (nearest first).
 */
export function ancestorsFromPath(path: string): string[] | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0 || segments.length % 2 !== 0) return undefined;
  const pairs: string[] = [];
  for (let i = 0; i < segments.length; i += 2) pairs.push(`${segments[i]}/${segments[i + 1]}`);
  return pairs.reverse();
}

function ancestorsOf(raw: Obj): { ok: true; value: unknown } | { ok: false; reason: string } {
  const ancestors = pick(raw, 'ancestors');
  if (Array.isArray(ancestors) && ancestors.length > 0) return { ok: true, value: ancestors };
  const path = pick(raw, 'ancestryPath', 'ancestry_path');
  if (path === undefined || path === '') return { ok: true, value: ancestors };
  if (typeof path !== 'string') return { ok: false, reason: 'ancestry_path: expected a string' };
  const parsed = ancestorsFromPath(path);
  if (!parsed) return { ok: false, reason: `ancestry_path: not type/id pairs: ${JSON.stringify(path)}` };
  return { ok: true, value: parsed };
}

/** The asset in the model's spelling, still unvalidated. */
export function canonicalAssetInput(raw: Obj): { ok: true; value: Obj } | { ok: false; reason: string } {
  const ancestors = ancestorsOf(raw);
  if (!ancestors.ok) return ancestors;
  const orgPolicy = pick(raw, 'orgPolicy', 'org_policy');
  return {
    ok: true,
    value: {
      name: pick(raw, 'name'),
      assetType: pick(raw, 'assetType', 'asset_type'),
      ancestors: ancestors.value,
      resource: resourceOf(pick(raw, 'resource')),
      iamPolicy: iamPolicyOf(pick(raw, 'iamPolicy', 'iam_policy')),
      // Message objects carry `orgPolicy: []` on every asset; an empty list says no more than none.
      orgPolicy: Array.isArray(orgPolicy) && orgPolicy.length === 0 ? undefined : protoJsonDeep(orgPolicy),
      // ACCESS_POLICY content is a oneof: the policy itself, or one of its access levels or perimeters.
      accessPolicy: protoJsonDeep(pick(raw, 'accessPolicy', 'access_policy')),
      accessLevel: protoJsonDeep(pick(raw, 'accessLevel', 'access_level')),
      servicePerimeter: protoJsonDeep(pick(raw, 'servicePerimeter', 'service_perimeter')),
      updateTime: timestampToJson(pick(raw, 'updateTime', 'update_time')),
    },
  };
}
