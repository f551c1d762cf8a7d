import type { Asset } from '../model/asset.js';

/** The content a change touched: CAI feeds carry one content type each, so one change is one message per part. */
export type FeedPart = 'RESOURCE' | 'IAM_POLICY';

/**
 * A feed message as Pub/Sub delivers it from a CAI feed: TemporalAsset in camelCase JSON (the `asset`
 * holds only the feed's content type, as in /work/shared/samples/cai-feed).
 */
export interface TemporalAssetMessage {
  asset: Asset;
  priorAsset?: Asset;
  priorAssetState: 'PRESENT' | 'DOES_NOT_EXIST';
  window: { startTime: string };
}

function part(asset: Asset, which: FeedPart): Asset {
  const base: Asset = { name: asset.name, assetType: asset.assetType, ancestors: [...asset.ancestors] };
  if (which === 'RESOURCE' && asset.resource) base.resource = structuredClone(asset.resource);
  if (which === 'IAM_POLICY' && asset.iamPolicy) base.iamPolicy = structuredClone(asset.iamPolicy);
  if (asset.updateTime !== undefined) base.updateTime = asset.updateTime;
  return base;
}

export function temporalAsset(
  prior: Asset,
  current: Asset,
  which: FeedPart,
  at: string,
): TemporalAssetMessage {
  return {
    asset: part(current, which),
    priorAsset: part(prior, which),
    priorAssetState: 'PRESENT',
    window: { startTime: at },
  };
}
