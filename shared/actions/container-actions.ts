import type { RemediationAction } from './types.js';

/** GKE cluster and node pool remediations. */
export const CONTAINER_ACTIONS: RemediationAction[] = [];
