import { parseExportRecord, type AssetParse } from '../contracts/cai.js';
import { canonicalAssetInput } from '../contracts/cai-canonical.js';
import { rfc3339Nanos } from '../contracts/rfc3339.js';
import { isPlainObject, parseJson } from '../contracts/zod-reason.js';
import type { Asset } from '../model/asset.js';

/*
 * One raw inventory record to a model asset. Most records of an export are RESOURCE-only; validating those
 * with zod was the largest cost of a scan after the conditions themselves, so they take a structural check
 * written out by hand that accepts exactly what AssetSchema accepts for that shape and yields the same
 * object (same keys, defaults applied). Anything else, and anything the check doubts, goes through the
 * contract (parseExportRecord), which also words the errors.
 */

/** AssetSchema's assetType pattern (shared/model/asset.ts); test/scan checks the two agree. */
const ASSET_TYPE = /^[a-z0-9.-]+\.(googleapis\.com|k8s\.io)\/[A-Za-z0-9]+$|^k8s\.io\/[A-Za-z0-9]+$/;
const RESOURCE_STRINGS = ['version', 'discoveryDocumentUri', 'discoveryName', 'parent', 'location'] as const;

function optionalString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

/** The last updateTime found valid: records of one export often share it, and checking it is not free. */
let lastValidTime: string | undefined;

/** The canonical input as an Asset when it is a plain RESOURCE-only record, else undefined. */
export function fastResourceAsset(v: Record<string, unknown>): Asset | undefined {
  const { name, assetType, ancestors, resource, updateTime } = v;
  if (typeof name !== 'string' || name.length < 3) return undefined;
  if (typeof assetType !== 'string' || !ASSET_TYPE.test(assetType)) return undefined;
  if (
    v['iamPolicy'] !== undefined ||
    v['orgPolicy'] !== undefined ||
    v['accessPolicy'] !== undefined ||
    v['accessLevel'] !== undefined ||
    v['servicePerimeter'] !== undefined
  )
    return undefined;
  if (ancestors !== undefined && !(Array.isArray(ancestors) && ancestors.every((a) => typeof a === 'string')))
    return undefined;
  if (!isPlainObject(resource)) return undefined;
  for (const key of RESOURCE_STRINGS) if (!optionalString(resource[key])) return undefined;
  const data = resource['data'];
  if (data !== undefined && !isPlainObject(data)) return undefined;
  if (updateTime !== undefined && updateTime !== lastValidTime) {
    if (typeof updateTime !== 'string' || rfc3339Nanos(updateTime) === undefined) return undefined;
    lastValidTime = updateTime;
  }
  return {
    ...v,
    ancestors: (ancestors as string[] | undefined) ?? [],
    resource: { ...resource, data: (data as Record<string, unknown> | undefined) ?? {} },
  } as Asset;
}

export function parseRecordText(text: string): AssetParse {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, reason: json.reason };
  if (isPlainObject(json.value)) {
    const canonical = canonicalAssetInput(json.value);
    if (canonical.ok) {
      const asset = fastResourceAsset(canonical.value);
      if (asset) return { ok: true, asset };
    }
  }
  return parseExportRecord(json.value);
}
