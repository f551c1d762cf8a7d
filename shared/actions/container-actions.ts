import { clusterAddRequiredLabels } from './container-cluster-add-required-labels.js';
import { clusterDisableKubernetesDashboard } from './container-cluster-disable-kubernetes-dashboard.js';
import { clusterDisableLegacyAbac } from './container-cluster-disable-legacy-abac.js';
import { clusterEnableNodeAutoRepair } from './container-cluster-enable-node-auto-repair.js';
import type { RemediationAction } from './types.js';

/** GKE cluster and node pool remediations. */
export const CONTAINER_ACTIONS: RemediationAction[] = [
  clusterDisableLegacyAbac,
  clusterDisableKubernetesDashboard,
  clusterEnableNodeAutoRepair,
  clusterAddRequiredLabels,
];
