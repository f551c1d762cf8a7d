import { serviceEnable } from './serviceusage-service-enable.js';
import type { RemediationAction } from './types.js';

/** Service Usage remediations. */
export const SERVICE_USAGE_ACTIONS: RemediationAction[] = [serviceEnable];
