import { serviceAccountKeyDisable } from './iam-serviceaccountkey-disable.js';
import { removeProjectLevelServiceAccountUserRoles } from './iam-project-remove-project-level-service-account-user-roles.js';
import { removeServiceAccountAdminRoles } from './resourcemanager-iam-remove-service-account-admin-roles.js';
import { projectAddRequiredLabels } from './resourcemanager-project-add-required-labels.js';
import { enableDataAccessAuditLogs } from './resourcemanager-project-enable-data-access-audit-logs.js';
import type { RemediationAction } from './types.js';

/**
 * Identity remediations: project IAM policy (bindings, audit configs), project / folder / organization IAM
 * bindings and project labels through Resource Manager, and user-managed service account keys through
 * IAM Admin v1 (documented REST, shared/cloud/iam-admin.ts).
 */
export const IDENTITY_ACTIONS: RemediationAction[] = [
  enableDataAccessAuditLogs,
  projectAddRequiredLabels,
  removeProjectLevelServiceAccountUserRoles,
  removeServiceAccountAdminRoles,
  serviceAccountKeyDisable,
];
