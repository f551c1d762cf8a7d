import { removeProjectLevelServiceAccountUserRoles } from './iam-project-remove-project-level-service-account-user-roles.js';
import { removeServiceAccountAdminRoles } from './resourcemanager-iam-remove-service-account-admin-roles.js';
import { projectAddRequiredLabels } from './resourcemanager-project-add-required-labels.js';
import { enableDataAccessAuditLogs } from './resourcemanager-project-enable-data-access-audit-logs.js';
import type { RemediationAction } from './types.js';

/**
 * Resource Manager remediations: project IAM policy (bindings, audit configs), project / folder /
 * organization IAM bindings, and project labels. iam.serviceaccountkey.disable stays recommend-only: there
 * is no IAM Admin v1 client among the installed packages to disable a key with.
 */
export const IDENTITY_ACTIONS: RemediationAction[] = [
  enableDataAccessAuditLogs,
  projectAddRequiredLabels,
  removeProjectLevelServiceAccountUserRoles,
  removeServiceAccountAdminRoles,
];
