import { z } from 'zod';
import { AssetSchema, type Asset, type AssetChange, type ContentType } from '../model/asset.js';
import { canonicalAssetInput } from './cai-canonical.js';
import { compareRfc3339, rfc3339Nanos } from './rfc3339.js';
import { isPlainObject, parseJson, zodReason } from './zod-reason.js';

/** The model's asset, plus what the model cannot say in a schema: a change time must be orderable. */
const ContractAssetSchema = AssetSchema.refine(
  (a) => a.updateTime === undefined || rfc3339Nanos(a.updateTime) !== undefined,
  { path: ['updateTime'], message: 'not an RFC 3339 time' },
);

export type AssetParse = { ok: true; asset: Asset } | { ok: false; reason: string };

function parseAsset(raw: unknown, where: string): AssetParse {
  if (!isPlainObject(raw)) return { ok: false, reason: `${where}: expected an object` };
  const canonical = canonicalAssetInput(raw);
  if (!canonical.ok) return { ok: false, reason: `${where}.${canonical.reason}` };
  const parsed = ContractAssetSchema.safeParse(canonical.value);
  return parsed.success
    ? { ok: true, asset: parsed.data }
    : { ok: false, reason: zodReason(parsed.error, where) };
}

/**
 * One record of an export or a sweep (`gcloud asset export`, exportAssets, listAssets), in either casing.
 * Asset types Warden has no policy for are valid: deciding what to handle is the engine's business.
 */
export function parseExportRecord(obj: unknown): AssetParse {
  return parseAsset(obj, 'asset');
}

const PRIOR_ASSET_STATES = [
  'PRESENT',
  'INVALID',
  'DOES_NOT_EXIST',
  'DELETED',
  'PRIOR_ASSET_STATE_UNSPECIFIED',
] as const;
const RawObjectSchema = z.record(z.string(), z.unknown());

/** TemporalAsset as a real-time feed publishes it (proto3 JSON). */
const TemporalAssetSchema = z.object({
  asset: RawObjectSchema,
  priorAsset: RawObjectSchema.optional(),
  priorAssetState: z.enum(PRIOR_ASSET_STATES).optional(),
  window: z.object({ startTime: z.string().optional() }).optional(),
  deleted: z.boolean().optional(),
});

export type FeedDecode =
  | { kind: 'welcome'; text: string }
  | { kind: 'change'; change: AssetChange }
  | { kind: 'invalid'; reason: string };

const WELCOME = /^You have successfully configured real time feed\b/;

const PARTS: ReadonlyArray<[keyof Asset, ContentType]> = [
  ['resource', 'RESOURCE'],
  ['iamPolicy', 'IAM_POLICY'],
  ['orgPolicy', 'ORG_POLICY'],
  ['accessPolicy', 'ACCESS_POLICY'],
  // The ACCESS_POLICY content type's oneof: an AccessLevel or ServicePerimeter asset carries one of these.
  ['accessLevel', 'ACCESS_POLICY'],
  ['servicePerimeter', 'ACCESS_POLICY'],
];

/** A feed has exactly one content type, so a message carries exactly one part. */
function contentTypeOf(asset: Asset): { ok: true; type: ContentType } | { ok: false; reason: string } {
  const found = PARTS.filter(([key]) => asset[key] !== undefined);
  const only = found[0];
  if (found.length === 1 && only) return { ok: true, type: only[1] };
  if (found.length === 0) {
    return {
      ok: false,
      reason:
        'asset carries no resource, iamPolicy, orgPolicy, accessPolicy, accessLevel or servicePerimeter',
    };
  }
  return {
    ok: false,
    reason: `asset carries ${found.map(([k]) => k).join(' and ')}; a feed message carries one content type`,
  };
}

/** One Pub/Sub message of a CAI real-time feed, already base64-decoded to text. */
export function decodeFeedMessage(text: string): FeedDecode {
  const trimmed = text.trim();
  if (WELCOME.test(trimmed)) return { kind: 'welcome', text: trimmed };
  const json = parseJson(trimmed);
  if (!json.ok) return { kind: 'invalid', reason: json.reason };
  const envelope = TemporalAssetSchema.safeParse(json.value);
  if (!envelope.success) return { kind: 'invalid', reason: zodReason(envelope.error) };
  const msg = envelope.data;

  const asset = parseAsset(msg.asset, 'asset');
  if (!asset.ok) return { kind: 'invalid', reason: asset.reason };
  let priorAsset: Asset | undefined;
  if (msg.priorAsset !== undefined) {
    const prior = parseAsset(msg.priorAsset, 'priorAsset');
    if (!prior.ok) return { kind: 'invalid', reason: prior.reason };
    priorAsset = prior.asset;
  }
  const changeTime = msg.window?.startTime ?? asset.asset.updateTime;
  if (changeTime === undefined) {
    return { kind: 'invalid', reason: 'neither window.startTime nor asset.updateTime is set' };
  }
  // asset.updateTime was checked with the asset, so only the window can be at fault here.
  if (rfc3339Nanos(changeTime) === undefined) {
    return { kind: 'invalid', reason: 'window.startTime: not an RFC 3339 time' };
  }

  const { name, assetType, ancestors } = asset.asset;
  if (msg.deleted === true) {
    return {
      kind: 'change',
      change: {
        kind: 'delete',
        name,
        assetType,
        ancestors,
        changeTime,
        ...(priorAsset ? { priorAsset } : {}),
      },
    };
  }
  const content = contentTypeOf(asset.asset);
  if (!content.ok) return { kind: 'invalid', reason: content.reason };
  return {
    kind: 'change',
    change: {
      kind: 'upsert',
      asset: asset.asset,
      contentType: content.type,
      changeTime,
      ...(priorAsset ? { priorAsset } : {}),
      ...(msg.priorAssetState ? { priorAssetState: msg.priorAssetState } : {}),
    },
  };
}

/**
 * One asset from its separately delivered parts (RESOURCE, IAM_POLICY, …) of the same name. Per part the
 * latest updateTime wins; so do ancestors and type, since a project move changes ancestors.
 */
export function mergeAssetParts(parts: Asset[]): Asset {
  const first = parts[0];
  if (!first) throw new Error('mergeAssetParts: no parts');
  const stranger = parts.find((p) => p.name !== first.name);
  if (stranger) throw new Error(`mergeAssetParts: ${stranger.name} is not ${first.name}`);

  const merged: Asset = { ...first, ancestors: [...first.ancestors] };
  const fields = merged as Record<keyof Asset, unknown>;
  for (const part of byTime(parts)) {
    merged.assetType = part.assetType;
    if (part.ancestors.length > 0) merged.ancestors = [...part.ancestors];
    for (const [key] of PARTS) {
      if (part[key] !== undefined) fields[key] = part[key];
    }
    if (part.updateTime !== undefined) merged.updateTime = part.updateTime;
  }
  return merged;
}

/**
 * Stable ascending by time, so later parts overwrite earlier ones and equal times keep input order. Two
 * parts (a resource and its IAM policy) are the common case of a scan, ordered without the general sort.
 */
function byTime(parts: Asset[]): Asset[] {
  if (parts.length === 2) {
    const [a, b] = parts as [Asset, Asset];
    return compareRfc3339(a.updateTime, b.updateTime) > 0 ? [b, a] : parts;
  }
  return parts
    .map((part, i) => ({ part, i }))
    .sort((a, b) => compareRfc3339(a.part.updateTime, b.part.updateTime) || a.i - b.i)
    .map(({ part }) => part);
}
