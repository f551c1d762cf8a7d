import { zoneEnableDnssec } from './dns-managed-zone-enable-dnssec.js';
import { dnsPolicyEnableLogging } from './dns-policy-enable-logging.js';
import type { RemediationAction } from './types.js';

/** Cloud DNS remediations. */
export const DNS_ACTIONS: RemediationAction[] = [zoneEnableDnssec, dnsPolicyEnableLogging];
