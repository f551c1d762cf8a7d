import { clusterSettingAction } from './container-cluster-setting.js';
import { clusterName, describeCluster, rec, type Json } from './container-cluster-resource.js';

function addonsOf(data: Json): Json {
  return { ...(rec(data['addonsConfig']) ?? {}) };
}

/** As gke-kubernetes-dashboard-enabled reads it: present and its disabled flag not true (proto3 omits false). */
function dashboardOn(data: Json): boolean {
  const d = rec(addonsOf(data)['kubernetesDashboard']);
  return d !== undefined && String(d['disabled'] ?? false).toLowerCase() !== 'true';
}

/** The add-on was removed in GKE 1.15: it can be turned off there, never on again. */
function reEnableRefusal(live: Json): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(String(live['currentMasterVersion'] ?? ''));
  if (m && (Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) < 15))) return undefined;
  return (
    `the Kubernetes Dashboard add-on cannot be enabled again on GKE 1.15 and later (the control plane runs ` +
    `${String(live['currentMasterVersion'] ?? 'an unknown version')})`
  );
}

/**
 * Turns the Kubernetes Dashboard add-on off (CIS GKE 5.10.1). clusters.setAddons replaces the whole
 * addonsConfig, so the body is the cluster's current addonsConfig, as just re-read, with only
 * kubernetesDashboard set to {disabled: true}: every other add-on keeps what it had.
 *
 * Not reversible in general: the add-on was removed in GKE 1.15, so it cannot be turned on again on any
 * cluster running 1.15 or later (every supported version). Undo restores the previous addonsConfig only on
 * a cluster older than that, and refuses otherwise.
 */
export const clusterDisableKubernetesDashboard = clusterSettingAction({
  id: 'container.cluster.disable-kubernetes-dashboard',
  title: 'Turn off the Kubernetes Dashboard add-on of a GKE cluster',
  risk: 'low',
  reversible: false,
  verb: ':setAddons',
  isFixed: (data) => !dashboardOn(data),
  fixBody: (data) => ({ addonsConfig: { ...addonsOf(data), kubernetesDashboard: { disabled: true } } }),
  async fix(ctx, ref, live) {
    const client = await ctx.cloud.container('ClusterManagerClient');
    const [op] = await client.setAddonsConfig({
      name: clusterName(ref),
      addonsConfig: { ...addonsOf(live), kubernetesDashboard: { disabled: true } },
    });
    return op;
  },
  isRestored: (before, live) => dashboardOn(before) === dashboardOn(live),
  undoRefusal: (before, live) => (dashboardOn(before) ? reEnableRefusal(live) : undefined),
  async restore(ctx, ref, before) {
    const client = await ctx.cloud.container('ClusterManagerClient');
    const [op] = await client.setAddonsConfig({ name: clusterName(ref), addonsConfig: addonsOf(before) });
    return op;
  },
  describe: (ref, data) =>
    `Turn off the Kubernetes Dashboard add-on of ${describeCluster(ref)} with clusters.setAddons, which ` +
    `replaces the whole addonsConfig: the body is the current addonsConfig ${JSON.stringify(addonsOf(data))}, ` +
    're-read right before the call and checked unchanged (the method takes no etag), with only ' +
    'kubernetesDashboard set to {disabled: true}; then wait for the GKE operation. The dashboard stops being ' +
    'served. Not reversible on GKE 1.15 and later, where the add-on cannot be enabled again; on older ' +
    'clusters undo restores the previous addonsConfig if the cluster is still as the fix left it.',
});
