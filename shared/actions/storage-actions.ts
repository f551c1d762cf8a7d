import { enableUniformAccess } from './storage-bucket-enable-uniform-access.js';
import { enforcePublicAccessPrevention } from './storage-bucket-enforce-public-access-prevention.js';
import type { RemediationAction } from './types.js';

/** Cloud Storage bucket remediations. */
export const STORAGE_ACTIONS: RemediationAction[] = [enforcePublicAccessPrevention, enableUniformAccess];
