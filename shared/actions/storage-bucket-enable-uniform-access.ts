import { z } from 'zod';
import { bucketSettingAction } from './bucket-setting.js';

interface UniformAccess {
  enabled?: unknown;
  lockedTime?: unknown;
}

function uniformAccess(bucket: Record<string, unknown>): UniformAccess {
  const iam = bucket['iamConfiguration'] as
    { uniformBucketLevelAccess?: UniformAccess; bucketPolicyOnly?: UniformAccess } | undefined;
  // bucketPolicyOnly is the legacy name of the same setting; GCS returns both.
  return iam?.uniformBucketLevelAccess ?? iam?.bucketPolicyOnly ?? {};
}

/**
 * Uniform bucket-level access disables object and bucket ACLs, leaving IAM as the only access control.
 * GCS allows turning it off only within 90 days: at `lockedTime` it becomes permanent (catalog F14), so
 * undo is refused from then on. Some services cannot write to UBLA buckets (CIS 5.2), hence medium risk.
 */
export const enableUniformAccess = bucketSettingAction<boolean>({
  id: 'storage.bucket.enable-uniform-access',
  title: 'Enable uniform bucket-level access on a Cloud Storage bucket',
  risk: 'medium',
  valueSchema: z.boolean(),
  read: (bucket) => uniformAccess(bucket).enabled === true,
  fixed: true,
  body: (enabled) => ({ iamConfiguration: { uniformBucketLevelAccess: { enabled } } }),
  describe: (bucket) =>
    `Set iamConfiguration.uniformBucketLevelAccess.enabled to true on bucket ${bucket}, guarded by its ` +
    'metageneration. Object and bucket ACLs stop applying; access is decided by IAM alone. Reversible only ' +
    'for 90 days: GCS then locks the setting (lockedTime) and it can no longer be turned off.',
  undoBlockedBy: (live, now) => {
    const locked = uniformAccess(live).lockedTime;
    if (typeof locked !== 'string') return undefined;
    return Date.parse(locked) <= now.getTime()
      ? `uniform bucket-level access has been locked since ${locked}: GCS no longer allows disabling it`
      : undefined;
  },
});
