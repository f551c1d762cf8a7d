import { z } from 'zod';

/** One IAM binding as Cloud IAM returns it (v3 policies may carry a condition). */
export const IamBindingSchema = z.object({
  role: z.string(),
  members: z.array(z.string()).default([]),
  condition: z
    .object({ expression: z.string(), title: z.string().optional(), description: z.string().optional() })
    .optional(),
});

export const AuditLogConfigSchema = z.object({
  logType: z.enum(['ADMIN_READ', 'DATA_WRITE', 'DATA_READ', 'LOG_TYPE_UNSPECIFIED']),
  exemptedMembers: z.array(z.string()).optional(),
});

export const IamPolicySchema = z.object({
  version: z.number().int().optional(),
  etag: z.string().optional(),
  bindings: z.array(IamBindingSchema).default([]),
  auditConfigs: z
    .array(z.object({ service: z.string(), auditLogConfigs: z.array(AuditLogConfigSchema).default([]) }))
    .optional(),
});
export type IamPolicy = z.infer<typeof IamPolicySchema>;

/** The RESOURCE part of a CAI asset: `data` is the REST resource in its discovery document's own casing. */
export const AssetResourceSchema = z.object({
  version: z.string().optional(),
  discoveryDocumentUri: z.string().optional(),
  discoveryName: z.string().optional(),
  parent: z.string().optional(),
  location: z.string().optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type AssetResource = z.infer<typeof AssetResourceSchema>;

/**
 * The one normalised asset shape every part of Warden works on, whatever CAI shape it came from
 * (feed TemporalAsset in camelCase, export lines in snake_case). Parts are optional because CAI
 * delivers RESOURCE, IAM_POLICY, ORG_POLICY and ACCESS_POLICY content separately.
 */
export const AssetSchema = z.object({
  /** Full CAI name, e.g. //storage.googleapis.com/my-bucket */
  name: z.string().min(3),
  /** e.g. storage.googleapis.com/Bucket */
  // Kubernetes objects of GKE clusters are CAI assets too (k8s.io/Pod, rbac.authorization.k8s.io/Role).
  assetType: z
    .string()
    .regex(
      /^[a-z0-9.-]+\.(googleapis\.com|k8s\.io)\/[A-Za-z0-9]+$|^k8s\.io\/[A-Za-z0-9]+$/,
      'not a CAI asset type',
    ),
  /** Nearest first: ["projects/123", "folders/456", "organizations/789"]; may be empty in old exports. */
  ancestors: z.array(z.string()).default([]),
  resource: AssetResourceSchema.optional(),
  iamPolicy: IamPolicySchema.optional(),
  orgPolicy: z.array(z.record(z.string(), z.unknown())).optional(),
  // An ACCESS_POLICY feed carries exactly one of these three.
  accessPolicy: z.record(z.string(), z.unknown()).optional(),
  accessLevel: z.record(z.string(), z.unknown()).optional(),
  servicePerimeter: z.record(z.string(), z.unknown()).optional(),
  /** When the latest part was last changed (RFC 3339). */
  updateTime: z.string().optional(),
});
export type Asset = z.infer<typeof AssetSchema>;

export type ContentType = 'RESOURCE' | 'IAM_POLICY' | 'ORG_POLICY' | 'ACCESS_POLICY';

/** A change of one asset as a feed delivers it: one content type per feed, so one part per change. */
export type AssetChange =
  | {
      kind: 'upsert';
      asset: Asset;
      contentType: ContentType;
      /** window.startTime, else asset.updateTime: the ordering key for late and reordered delivery. */
      changeTime: string;
      priorAsset?: Asset;
      priorAssetState?:
        'PRESENT' | 'INVALID' | 'DOES_NOT_EXIST' | 'DELETED' | 'PRIOR_ASSET_STATE_UNSPECIFIED';
    }
  | {
      kind: 'delete';
      name: string;
      assetType: string;
      ancestors: string[];
      changeTime: string;
      priorAsset?: Asset;
    };

/** projects/NUMBER of the asset itself or its nearest project ancestor. */
export function projectOf(asset: Pick<Asset, 'ancestors' | 'name' | 'assetType'>): string | undefined {
  if (asset.assetType === 'cloudresourcemanager.googleapis.com/Project') {
    const m = /projects\/([^/]+)$/.exec(asset.name);
    if (m) return `projects/${m[1]}`;
  }
  return asset.ancestors.find((a) => a.startsWith('projects/'));
}

/**
 * Labels of the resource. Most types keep them in data.labels; Cloud SQL in settings.userLabels and GKE
 * clusters in resourceLabels.
 */
export function labelsOf(asset: Asset): Record<string, string> {
  const data = asset.resource?.data ?? {};
  const settings = data['settings'];
  const candidates = [
    data['labels'],
    data['resourceLabels'],
    settings && typeof settings === 'object'
      ? (settings as Record<string, unknown>)['userLabels']
      : undefined,
  ];
  for (const labels of candidates) {
    if (labels && typeof labels === 'object' && !Array.isArray(labels))
      return labels as Record<string, string>;
  }
  return {};
}
