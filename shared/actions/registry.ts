import { restrictFirewallInternetSource } from './compute-firewall-restrict-internet-source.js';
import { enableUniformAccess } from './storage-bucket-enable-uniform-access.js';
import { enforcePublicAccessPrevention } from './storage-bucket-enforce-public-access-prevention.js';
import type { RemediationAction } from './types.js';

/** Every remediation Warden can run; a policy naming an action not listed here does not load. */
export const ACTIONS: RemediationAction[] = [
  enforcePublicAccessPrevention,
  enableUniformAccess,
  restrictFirewallInternetSource,
];

const BY_ID = new Map(ACTIONS.map((a) => [a.id, a]));

export function getAction(id: string): RemediationAction | undefined {
  return BY_ID.get(id);
}
