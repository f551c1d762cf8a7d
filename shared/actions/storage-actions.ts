import { bucketAddRequiredLabels } from './storage-bucket-add-required-labels.js';
import { bucketChangeStorageClass } from './storage-bucket-change-storage-class.js';
import { enableUniformAccess } from './storage-bucket-enable-uniform-access.js';
import { bucketEnableSoftDelete } from './storage-bucket-enable-soft-delete.js';
import { enforcePublicAccessPrevention } from './storage-bucket-enforce-public-access-prevention.js';
import { bucketRemovePublicMembers } from './storage-bucket-remove-public-members.js';
import type { RemediationAction } from './types.js';

/** Cloud Storage bucket remediations. */
export const STORAGE_ACTIONS: RemediationAction[] = [
  enforcePublicAccessPrevention,
  enableUniformAccess,
  bucketRemovePublicMembers,
  bucketAddRequiredLabels,
  bucketChangeStorageClass,
  bucketEnableSoftDelete,
];
