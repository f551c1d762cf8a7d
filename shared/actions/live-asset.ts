import type { Asset } from '../model/asset.js';

/**
 * The asset as the policies judge it after a live read: CAI's name, type and ancestors (which a single-resource
 * API read does not return) with the freshly read resource data in place of the exported one.
 */
export function withLiveData(asset: Asset, data: Record<string, unknown>): Asset {
  return {
    name: asset.name,
    assetType: asset.assetType,
    ancestors: [...asset.ancestors],
    resource: { ...(asset.resource ?? {}), data },
  };
}

/** As withLiveData, keeping the IAM policy CAI exported: a resource read does not return one. */
export function withLiveDataKeepingIam(asset: Asset, data: Record<string, unknown>): Asset {
  const live = withLiveData(asset, data);
  if (!asset.iamPolicy) return live;
  return { ...live, iamPolicy: JSON.parse(JSON.stringify(asset.iamPolicy)) as Asset['iamPolicy'] };
}
