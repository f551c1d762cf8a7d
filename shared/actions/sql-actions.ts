import type { RemediationAction } from './types.js';

/** Cloud SQL Admin remediations. */
export const SQL_ACTIONS: RemediationAction[] = [];
