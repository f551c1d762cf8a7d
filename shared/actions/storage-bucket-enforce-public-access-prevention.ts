import { z } from 'zod';
import { bucketSettingAction } from './bucket-setting.js';

function publicAccessPrevention(bucket: Record<string, unknown>): string {
  const iam = bucket['iamConfiguration'] as { publicAccessPrevention?: unknown } | undefined;
  const v = iam?.publicAccessPrevention;
  // Unset reads as "inherited", the value GCS reports for buckets that never set it.
  return typeof v === 'string' ? v : 'inherited';
}

/**
 * Public access prevention "enforced" blocks allUsers / allAuthenticatedUsers grants and public ACLs on
 * the bucket; "inherited" does not block anything unless the org policy storage.publicAccessPrevention is
 * set (catalog F14). The public grants stay in the policy, ineffective, so undo brings back exactly what was.
 */
export const enforcePublicAccessPrevention = bucketSettingAction<string>({
  id: 'storage.bucket.enforce-public-access-prevention',
  title: 'Enforce public access prevention on a Cloud Storage bucket',
  risk: 'low',
  valueSchema: z.string(),
  read: publicAccessPrevention,
  fixed: 'enforced',
  body: (value) => ({ iamConfiguration: { publicAccessPrevention: value } }),
  describe: (bucket) =>
    `Set iamConfiguration.publicAccessPrevention to "enforced" on bucket ${bucket}, guarded by its ` +
    'metageneration. Public IAM members (allUsers, allAuthenticatedUsers) and public ACLs stop granting ' +
    'access; they stay in the policy. Reversible: undo restores the previous value if nobody changed the ' +
    'bucket since.',
});
