import type { RemediationAction } from './types.js';

/** Cloud DNS remediations. */
export const DNS_ACTIONS: RemediationAction[] = [];
