import { projectOf, type Asset } from '../model/asset.js';

const HIERARCHY = /^\/\/cloudresourcemanager\.googleapis\.com\/((?:organizations|folders|projects)\/[^/]+)$/;

/**
 * Whether `candidate` is in the scope of `asset` for `related` context: under it when the asset is an
 * organization, folder or project; in the same project otherwise.
 */
export function isRelated(
  asset: Pick<Asset, 'name' | 'ancestors' | 'assetType'>,
  candidate: Pick<Asset, 'name' | 'ancestors' | 'assetType'>,
): boolean {
  if (candidate.name === asset.name) return false;
  const node = HIERARCHY.exec(asset.name)?.[1];
  if (node) return candidate.ancestors.includes(node);
  const project = projectOf(asset);
  return project !== undefined && projectOf(candidate) === project;
}
