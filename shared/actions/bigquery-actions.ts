import type { RemediationAction } from './types.js';

/** BigQuery dataset remediations. */
export const BIGQUERY_ACTIONS: RemediationAction[] = [];
