import { sqlInstanceAddRequiredLabels } from './sqladmin-instance-add-required-labels.js';
import { sqlInstanceEnableBackups } from './sqladmin-instance-enable-backups.js';
import { sqlInstanceEnableDeletionProtection } from './sqladmin-instance-enable-deletion-protection.js';
import { sqlInstanceRemovePublicAuthorizedNetworks } from './sqladmin-instance-remove-public-authorized-networks.js';
import { sqlInstanceRequireSsl } from './sqladmin-instance-require-ssl.js';
import { sqlInstanceSetDatabaseFlags } from './sqladmin-instance-set-database-flags.js';
import type { RemediationAction } from './types.js';

/** Cloud SQL Admin remediations. */
export const SQL_ACTIONS: RemediationAction[] = [
  sqlInstanceRequireSsl,
  sqlInstanceRemovePublicAuthorizedNetworks,
  sqlInstanceEnableBackups,
  sqlInstanceEnableDeletionProtection,
  sqlInstanceAddRequiredLabels,
  sqlInstanceSetDatabaseFlags,
];
