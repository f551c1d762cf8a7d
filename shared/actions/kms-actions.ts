import type { RemediationAction } from './types.js';

/** Cloud KMS remediations (key rotation, key and key ring IAM). */
export const KMS_ACTIONS: RemediationAction[] = [];
