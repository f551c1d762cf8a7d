import { BIGQUERY_ACTIONS } from './bigquery-actions.js';
import { COMPUTE_ACTIONS } from './compute-actions.js';
import { CONTAINER_ACTIONS } from './container-actions.js';
import { DNS_ACTIONS } from './dns-actions.js';
import { IDENTITY_ACTIONS } from './identity-actions.js';
import { KMS_ACTIONS } from './kms-actions.js';
import { SECRET_MANAGER_ACTIONS } from './secret-manager-actions.js';
import { SERVICE_USAGE_ACTIONS } from './service-usage-actions.js';
import { SQL_ACTIONS } from './sql-actions.js';
import { STORAGE_ACTIONS } from './storage-actions.js';
import type { RemediationAction } from './types.js';

/** Every remediation Warden can run; a policy naming an action not listed here does not load. */
export const ACTIONS: RemediationAction[] = [
  ...COMPUTE_ACTIONS,
  ...STORAGE_ACTIONS,
  ...SQL_ACTIONS,
  ...BIGQUERY_ACTIONS,
  ...IDENTITY_ACTIONS,
  ...KMS_ACTIONS,
  ...SECRET_MANAGER_ACTIONS,
  ...CONTAINER_ACTIONS,
  ...DNS_ACTIONS,
  ...SERVICE_USAGE_ACTIONS,
];

const BY_ID = new Map(ACTIONS.map((a) => [a.id, a]));

export function getAction(id: string): RemediationAction | undefined {
  return BY_ID.get(id);
}
