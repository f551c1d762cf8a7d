import { enableBackendServiceLogging } from './compute-backend-service-enable-logging.js';
import { diskAddRequiredLabels } from './compute-disk-add-required-labels.js';
import { diskAttachSnapshotSchedule } from './compute-disk-attach-snapshot-schedule.js';
import { enableFirewallLogging } from './compute-firewall-enable-logging.js';
import { restrictFirewallInternetSource } from './compute-firewall-restrict-internet-source.js';
import { instanceAddRequiredLabels } from './compute-instance-add-required-labels.js';
import { instanceBlockProjectSshKeys } from './compute-instance-block-project-ssh-keys.js';
import { instanceDisableSerialPort } from './compute-instance-disable-serial-port.js';
import { instanceEnableDeletionProtection } from './compute-instance-enable-deletion-protection.js';
import { instanceEnableOsLogin } from './compute-instance-enable-os-login.js';
import { projectDisableSerialPort } from './compute-project-disable-serial-port.js';
import { projectEnableOsLogin } from './compute-project-enable-os-login.js';
import { requireTls12Modern } from './compute-ssl-policy-require-tls12-modern.js';
import { enableSubnetworkFlowLogs } from './compute-subnetwork-enable-flow-logs.js';
import { enablePrivateGoogleAccess } from './compute-subnetwork-enable-private-google-access.js';
import type { RemediationAction } from './types.js';

/** Compute Engine remediations (firewalls, subnetworks, load balancing, instances, disks, project metadata). */
export const COMPUTE_ACTIONS: RemediationAction[] = [
  enableFirewallLogging,
  restrictFirewallInternetSource,
  enableSubnetworkFlowLogs,
  enablePrivateGoogleAccess,
  enableBackendServiceLogging,
  requireTls12Modern,
  instanceDisableSerialPort,
  instanceBlockProjectSshKeys,
  instanceEnableOsLogin,
  projectEnableOsLogin,
  projectDisableSerialPort,
  instanceEnableDeletionProtection,
  instanceAddRequiredLabels,
  diskAddRequiredLabels,
  diskAttachSnapshotSchedule,
];
