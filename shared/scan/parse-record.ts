import { parseExportRecord, type AssetParse } from '../contracts/cai.js';
import { canonicalAssetInput, withoutNullFields } from '../contracts/cai-canonical.js';
import { isStructMessage } from '../contracts/protobuf-shapes.js';
import { rfc3339Nanos } from '../contracts/rfc3339.js';
import { isPlainObject } from '../contracts/zod-reason.js';
import type { Asset } from '../model/asset.js';

/*
 * One raw inventory record to a model asset. Most records of an export are RESOURCE-only, and the others
 * mostly IAM_POLICY-only; validating those with zod was the largest cost of a scan after the conditions
 * themselves, so they take structural checks written out by hand that accept exactly what AssetSchema
 * accepts for those shapes and yield the same object (same keys in the same order, defaults applied).
 * Anything else, and anything a check doubts, goes through the contract (parseExportRecord), which also
 * words the errors.
 */

/** AssetSchema's assetType pattern (shared/model/asset.ts); test/scan checks the two agree. */
const ASSET_TYPE = /^[a-z0-9.-]+\.(googleapis\.com|k8s\.io)\/[A-Za-z0-9]+$|^k8s\.io\/[A-Za-z0-9]+$/;
const RESOURCE_STRINGS = ['version', 'discoveryDocumentUri', 'discoveryName', 'parent', 'location'] as const;
/** IamPolicySchema's AuditLogConfig.logType values. */
const LOG_TYPES: ReadonlySet<unknown> = new Set([
  'ADMIN_READ',
  'DATA_WRITE',
  'DATA_READ',
  'LOG_TYPE_UNSPECIFIED',
]);

function optionalString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

/** The last updateTime found valid: records of one export often share it, and checking it is not free. */
let lastValidTime: string | undefined;

function validTime(updateTime: unknown): boolean {
  if (updateTime === undefined || updateTime === lastValidTime) return true;
  if (typeof updateTime !== 'string' || rfc3339Nanos(updateTime) === undefined) return false;
  lastValidTime = updateTime;
  return true;
}

/** Asset types found valid (an inventory has a few dozen); bounded all the same. */
const validTypes = new Set<string>();

function validType(assetType: unknown): assetType is string {
  if (typeof assetType !== 'string') return false;
  if (validTypes.has(assetType)) return true;
  if (!ASSET_TYPE.test(assetType)) return false;
  if (validTypes.size >= 1024) validTypes.clear();
  validTypes.add(assetType);
  return true;
}

/** What every asset shape checks the same way: name, type, ancestors and update time. */
function validHead(v: Record<string, unknown>): boolean {
  const { name, ancestors } = v;
  return (
    typeof name === 'string' &&
    name.length >= 3 &&
    validType(v['assetType']) &&
    (ancestors === undefined || isStringArray(ancestors)) &&
    validTime(v['updateTime'])
  );
}

/** The canonical input as an Asset when it is a plain RESOURCE-only record, else undefined. */
export function fastResourceAsset(v: Record<string, unknown>): Asset | undefined {
  if (
    v['iamPolicy'] !== undefined ||
    v['orgPolicy'] !== undefined ||
    v['accessPolicy'] !== undefined ||
    v['accessLevel'] !== undefined ||
    v['servicePerimeter'] !== undefined
  )
    return undefined;
  const { resource } = v;
  if (!isPlainObject(resource)) return undefined;
  for (const key of RESOURCE_STRINGS) if (!optionalString(resource[key])) return undefined;
  const data = resource['data'];
  if (data !== undefined && !isPlainObject(data)) return undefined;
  if (!validHead(v)) return undefined;
  return {
    ...v,
    ancestors: (v['ancestors'] as string[] | undefined) ?? [],
    resource: { ...resource, data: (data as Record<string, unknown> | undefined) ?? {} },
  } as Asset;
}

/** `present(o[camel]) ?? present(o[snake])`, as canonicalAssetInput picks a field in either casing. */
function pick2(o: Record<string, unknown>, camel: string, snake: string): unknown {
  const v = o[camel];
  if (v !== undefined && v !== null) return v;
  const s = o[snake];
  return s === null ? undefined : s;
}

/** Keys that make a record more than RESOURCE content (or need canonicalAssetInput's ancestry path). */
const NOT_DIRECT = [
  'iamPolicy',
  'iam_policy',
  'orgPolicy',
  'org_policy',
  'accessPolicy',
  'access_policy',
  'accessLevel',
  'access_level',
  'servicePerimeter',
  'service_perimeter',
  'ancestryPath',
  'ancestry_path',
] as const;

/**
 * A JSON-parsed RESOURCE-only record straight to its Asset: what canonicalAssetInput then fastResourceAsset
 * yield, built in one step (same keys in the same order); undefined when the record is anything else
 * (another part, a null or odd field, data as a JSON string or a Struct message, an ancestry path).
 */
export function directResourceAsset(
  raw: Record<string, unknown>,
  /** The record's text may hold a null (when false, resource.data surely has none to drop). */
  mayHoldNull = true,
): Asset | undefined {
  for (const key of NOT_DIRECT) if (raw[key] !== undefined) return undefined;
  const resource = raw['resource'];
  if (!isPlainObject(resource)) return undefined;
  const name = raw['name'];
  if (typeof name !== 'string' || name.length < 3) return undefined;
  const assetType = pick2(raw, 'assetType', 'asset_type');
  if (!validType(assetType)) return undefined;
  const ancestors = raw['ancestors'];
  if (ancestors !== undefined && !isStringArray(ancestors)) return undefined;
  const updateTime = pick2(raw, 'updateTime', 'update_time');
  if (typeof updateTime === 'object' || !validTime(updateTime)) return undefined;
  const version = resource['version'];
  const discoveryDocumentUri = pick2(resource, 'discoveryDocumentUri', 'discovery_document_uri');
  const discoveryName = pick2(resource, 'discoveryName', 'discovery_name');
  const parent = resource['parent'];
  const location = resource['location'];
  if (
    !optionalString(version) ||
    !optionalString(discoveryDocumentUri) ||
    !optionalString(discoveryName) ||
    !optionalString(parent) ||
    !optionalString(location)
  )
    return undefined;
  let data = resource['data'];
  if (data === null) data = undefined;
  if (data !== undefined) {
    if (!isPlainObject(data)) return undefined;
    // A Struct message has the one key `fields`; canonicalAssetInput converts it.
    if (data['fields'] !== undefined && isStructMessage(data)) return undefined;
    if (mayHoldNull) data = withoutNullFields(data);
  }
  return {
    name,
    assetType,
    ancestors: ancestors ?? [],
    resource: {
      version,
      discoveryDocumentUri,
      discoveryName,
      parent,
      location,
      data: (data as Record<string, unknown> | undefined) ?? {},
    },
    iamPolicy: undefined,
    orgPolicy: undefined,
    accessPolicy: undefined,
    accessLevel: undefined,
    servicePerimeter: undefined,
    updateTime,
  } as Asset;
}

/** IamPolicySchema's check of a canonical policy, applying its defaults in place; false when it would fail. */
function validIamPolicy(p: unknown): boolean {
  if (!isPlainObject(p)) return false;
  const { version, etag, auditConfigs } = p;
  if (version !== undefined && !Number.isSafeInteger(version)) return false;
  if (!optionalString(etag)) return false;
  let bindings = p['bindings'];
  if (bindings === undefined) bindings = p['bindings'] = [];
  if (!Array.isArray(bindings)) return false;
  for (const b of bindings as unknown[]) {
    if (!isPlainObject(b) || typeof b['role'] !== 'string') return false;
    let members = b['members'];
    if (members === undefined) members = b['members'] = [];
    if (!isStringArray(members)) return false;
    const condition = b['condition'];
    if (condition !== undefined) {
      if (!isPlainObject(condition) || typeof condition['expression'] !== 'string') return false;
      if (!optionalString(condition['title']) || !optionalString(condition['description'])) return false;
    }
  }
  if (auditConfigs !== undefined) {
    if (!Array.isArray(auditConfigs)) return false;
    for (const ac of auditConfigs as unknown[]) {
      if (!isPlainObject(ac) || typeof ac['service'] !== 'string') return false;
      let configs = ac['auditLogConfigs'];
      if (configs === undefined) configs = ac['auditLogConfigs'] = [];
      if (!Array.isArray(configs)) return false;
      for (const c of configs as unknown[]) {
        if (!isPlainObject(c) || !LOG_TYPES.has(c['logType'])) return false;
        const exempted = c['exemptedMembers'];
        if (exempted !== undefined && !isStringArray(exempted)) return false;
      }
    }
  }
  return true;
}

/**
 * The canonical input as an Asset when it is a plain IAM_POLICY-only record (the bulk of pass 1), else
 * undefined. The canonical objects are fresh and hold only the schema's keys in its order, so they are
 * the result once checked.
 */
export function fastIamAsset(v: Record<string, unknown>): Asset | undefined {
  if (
    v['resource'] !== undefined ||
    v['iamPolicy'] === undefined ||
    v['orgPolicy'] !== undefined ||
    v['accessPolicy'] !== undefined ||
    v['accessLevel'] !== undefined ||
    v['servicePerimeter'] !== undefined
  )
    return undefined;
  if (!validHead(v)) return undefined;
  if (!validIamPolicy(v['iamPolicy'])) return undefined;
  if (v['ancestors'] === undefined) v['ancestors'] = [];
  return v as Asset;
}

export function parseRecordText(text: string): AssetParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  if (isPlainObject(value)) {
    const direct = directResourceAsset(value, text.includes('null'));
    if (direct) return { ok: true, asset: direct };
    const canonical = canonicalAssetInput(value);
    if (canonical.ok) {
      const asset = fastResourceAsset(canonical.value) ?? fastIamAsset(canonical.value);
      if (asset) return { ok: true, asset };
    }
  }
  return parseExportRecord(value);
}
