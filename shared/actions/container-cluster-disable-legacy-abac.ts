import { clusterSettingAction } from './container-cluster-setting.js';
import { clusterName, describeCluster, rec, type Json } from './container-cluster-resource.js';

/** As gke-legacy-abac-enabled reads it: absent, {} or enabled false mean off. */
function abacOn(data: Json): boolean {
  return String(rec(data['legacyAbac'])?.['enabled'] ?? false).toLowerCase() === 'true';
}

/**
 * Turns legacy ABAC off (CIS GKE 5.8.3): clusters.setLegacyAbac {enabled: false}, then the operation.
 * Workloads that relied on ABAC's broad static grants instead of RBAC lose them, hence medium risk.
 * Reversible: setLegacyAbac {enabled: true} is accepted on every GKE version, and undo sends it if the
 * cluster is still as the fix left it.
 */
export const clusterDisableLegacyAbac = clusterSettingAction({
  id: 'container.cluster.disable-legacy-abac',
  title: 'Turn off legacy ABAC authorization on a GKE cluster',
  risk: 'medium',
  reversible: true,
  verb: ':setLegacyAbac',
  isFixed: (data) => !abacOn(data),
  fixBody: () => ({ enabled: false }),
  async fix(ctx, ref) {
    const client = await ctx.cloud.container('ClusterManagerClient');
    const [op] = await client.setLegacyAbac({ name: clusterName(ref), enabled: false });
    return op;
  },
  isRestored: (before, live) => abacOn(before) === abacOn(live),
  async restore(ctx, ref, before) {
    const client = await ctx.cloud.container('ClusterManagerClient');
    const [op] = await client.setLegacyAbac({ name: clusterName(ref), enabled: abacOn(before) });
    return op;
  },
  describe: (ref) =>
    `Turn off legacy attribute-based access control on ${describeCluster(ref)} with clusters.setLegacyAbac ` +
    '{enabled: false}, after re-reading the cluster and checking nobody changed it (the method takes no ' +
    'etag), then wait for the GKE operation. Workloads and users that were only authorized through ABAC lose ' +
    'that access and need RBAC roles. Reversible: undo turns ABAC back on if the cluster is still as the fix ' +
    'left it.',
});
