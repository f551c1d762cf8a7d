import { secretRemovePublicMembers } from './secretmanager-secret-remove-public-members.js';
import type { RemediationAction } from './types.js';

/** Secret Manager remediations. */
export const SECRET_MANAGER_ACTIONS: RemediationAction[] = [secretRemovePublicMembers];
