import { enableBackendServiceLogging } from './compute-backend-service-enable-logging.js';
import { enableFirewallLogging } from './compute-firewall-enable-logging.js';
import { requireTls12Modern } from './compute-ssl-policy-require-tls12-modern.js';
import { enableSubnetworkFlowLogs } from './compute-subnetwork-enable-flow-logs.js';
import { enablePrivateGoogleAccess } from './compute-subnetwork-enable-private-google-access.js';
import { diskAddRequiredLabels } from './compute-disk-add-required-labels.js';
import { restrictFirewallInternetSource } from './compute-firewall-restrict-internet-source.js';
import { instanceAddRequiredLabels } from './compute-instance-add-required-labels.js';
import { instanceBlockProjectSshKeys } from './compute-instance-block-project-ssh-keys.js';
import { instanceDisableSerialPort } from './compute-instance-disable-serial-port.js';
import { instanceEnableDeletionProtection } from './compute-instance-enable-deletion-protection.js';
import { instanceEnableOsLogin } from './compute-instance-enable-os-login.js';
import { projectDisableSerialPort } from './compute-project-disable-serial-port.js';
import { projectEnableOsLogin } from './compute-project-enable-os-login.js';
import { enableUniformAccess } from './storage-bucket-enable-uniform-access.js';
import { enforcePublicAccessPrevention } from './storage-bucket-enforce-public-access-prevention.js';
import type { RemediationAction } from './types.js';

/** Every remediation Warden can run; a policy naming an action not listed here does not load. */
export const ACTIONS: RemediationAction[] = [
  enforcePublicAccessPrevention,
  enableUniformAccess,
  restrictFirewallInternetSource,
  enableFirewallLogging,
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
];

const BY_ID = new Map(ACTIONS.map((a) => [a.id, a]));

export function getAction(id: string): RemediationAction | undefined {
  return BY_ID.get(id);
}
