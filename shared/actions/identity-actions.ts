import type { RemediationAction } from './types.js';

/** Resource Manager remediations: project IAM policy (bindings, audit configs) and project labels. */
export const IDENTITY_ACTIONS: RemediationAction[] = [];
