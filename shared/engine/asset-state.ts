import type { Asset, AssetChange, ContentType } from '../model/asset.js';
import { comparableTime, maxTime } from '../util/timestamps.js';

export const ASSETS = 'assets';

/** Stored per asset name: each content part with the change time it came from, so late parts lose. */
export interface AssetDoc {
  name: string;
  assetType: string;
  ancestors: string[];
  parts: Partial<Record<ContentType, { json: string; time: string }>>;
  deletedTime: string | null;
  /** The newest change time of any part or the delete: the asset's version. */
  version: string;
}

const PART_FIELD: Record<ContentType, keyof Asset> = {
  RESOURCE: 'resource',
  IAM_POLICY: 'iamPolicy',
  ORG_POLICY: 'orgPolicy',
  ACCESS_POLICY: 'accessPolicy',
};

export type AssetMerge =
  { status: 'applied'; doc: AssetDoc } | { status: 'duplicate' } | { status: 'stale'; reason: string };

/** Pure: what a change does to the stored state (ordering and duplicates decided here, once). */
export function mergeChange(current: AssetDoc | null, change: AssetChange): AssetMerge {
  const time = comparableTime(change.changeTime);
  if (change.kind === 'delete') {
    if (current?.deletedTime && current.deletedTime >= time) return { status: 'duplicate' };
    const newest = current ? maxTime(...Object.values(current.parts).map((p) => p?.time)) : null;
    if (newest && newest > time)
      return { status: 'stale', reason: `asset changed at ${newest}, after this delete` };
    return {
      status: 'applied',
      doc: {
        name: change.name,
        assetType: change.assetType,
        ancestors: change.ancestors.length ? change.ancestors : (current?.ancestors ?? []),
        parts: {},
        deletedTime: time,
        version: time,
      },
    };
  }
  const part = current?.parts[change.contentType];
  if (part && part.time === time) return { status: 'duplicate' };
  if (part && part.time > time)
    return { status: 'stale', reason: `${change.contentType} already at ${part.time}` };
  if (current?.deletedTime && current.deletedTime >= time)
    return { status: 'stale', reason: `asset deleted at ${current.deletedTime}` };
  const value = change.asset[PART_FIELD[change.contentType]];
  const parts = {
    ...(current?.deletedTime ? {} : current?.parts),
    [change.contentType]: { json: JSON.stringify(value ?? null), time },
  };
  return {
    status: 'applied',
    doc: {
      name: change.asset.name,
      assetType: change.asset.assetType,
      ancestors: change.asset.ancestors.length ? change.asset.ancestors : (current?.ancestors ?? []),
      parts,
      deletedTime: null,
      version: maxTime(...Object.values(parts).map((p) => p?.time)) ?? time,
    },
  };
}

export function assetFromDoc(doc: AssetDoc): Asset {
  const asset: Asset = { name: doc.name, assetType: doc.assetType, ancestors: doc.ancestors };
  for (const [ct, part] of Object.entries(doc.parts) as Array<
    [ContentType, { json: string; time: string }]
  >) {
    const value = JSON.parse(part.json) as unknown;
    if (value !== null) (asset as Record<string, unknown>)[PART_FIELD[ct]] = value;
  }
  asset.updateTime = doc.version;
  return asset;
}
