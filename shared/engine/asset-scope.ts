import type { PolicySet } from '../policy/policy-set.js';

/**
 * The resource hierarchy is kept even where no policy evaluates it: risk needs project labels and folder
 * names (production or not), and exemptions and team rules are scoped by them.
 */
export const CONTEXT_ASSET_TYPES = [
  'cloudresourcemanager.googleapis.com/Organization',
  'cloudresourcemanager.googleapis.com/Folder',
  'cloudresourcemanager.googleapis.com/Project',
] as const;

export function isTracked(policies: PolicySet, assetType: string): boolean {
  return (
    policies.handles(assetType) ||
    (CONTEXT_ASSET_TYPES as readonly string[]).includes(assetType) ||
    policies.relatedAssetTypes().includes(assetType)
  );
}

export function trackedAssetTypes(policies: PolicySet): string[] {
  return [
    ...new Set([
      ...policies.policies.flatMap((p) => p.def.assetTypes),
      ...CONTEXT_ASSET_TYPES,
      ...policies.relatedAssetTypes(),
    ]),
  ];
}
