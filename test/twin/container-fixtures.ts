import type { Asset } from '../../shared/model/asset.js';
import { ANCESTORS, PROJECT_ID, PROJECT_NUMBER } from './twin-fixtures.js';

export const LOCATION = 'us-central1';
export const CLUSTER_TYPE = 'container.googleapis.com/Cluster';
const API = 'https://container.googleapis.com/v1';
const COMPUTE = 'https://www.googleapis.com/compute/v1';

export function clusterName(cluster: string): string {
  return `//container.googleapis.com/projects/${PROJECT_ID}/locations/${LOCATION}/clusters/${cluster}`;
}

export function clusterPath(cluster: string): string {
  return `/v1/projects/${PROJECT_ID}/locations/${LOCATION}/clusters/${cluster}`;
}

/** A node pool as CAI holds it (cf. examples/landing-zone/resources.ndjson), auto-repair and -upgrade on. */
export function nodePool(
  cluster: string,
  name: string,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    autoscaling: { enabled: true, locationPolicy: 'BALANCED', maxNodeCount: 3, minNodeCount: 1 },
    config: {
      diskSizeGb: 100,
      diskType: 'pd-balanced',
      imageType: 'COS_CONTAINERD',
      machineType: 'e2-standard-4',
      metadata: { 'disable-legacy-endpoints': 'true' },
      oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
      serviceAccount: `gke-nodes@${PROJECT_ID}.iam.gserviceaccount.com`,
      shieldedInstanceConfig: { enableIntegrityMonitoring: true },
      workloadMetadataConfig: { mode: 'GKE_METADATA' },
    },
    initialNodeCount: 1,
    instanceGroupUrls: [
      `${COMPUTE}/projects/${PROJECT_ID}/zones/${LOCATION}-a/instanceGroupManagers/gke-${cluster}-${name}-5f2c9a1e-grp`,
    ],
    locations: [`${LOCATION}-a`],
    management: { autoRepair: true, autoUpgrade: true },
    maxPodsConstraint: { maxPodsPerNode: '110' },
    name,
    selfLink: `${API}/projects/${PROJECT_ID}/locations/${LOCATION}/clusters/${cluster}/nodePools/${name}`,
    status: 'RUNNING',
    upgradeSettings: { maxSurge: 1, strategy: 'SURGE' },
    version: '1.31.12-gke.1265000',
    ...over,
  };
}

/**
 * A Standard regional cluster as CAI holds it (REST v1 Cluster in resource.data), with every setting the GKE
 * policies look at in its good state unless `over` says otherwise; no release channel (static version), so
 * node pool management can be changed either way.
 */
export function clusterAsset(cluster: string, over: Record<string, unknown> = {}): Asset {
  return {
    name: clusterName(cluster),
    assetType: CLUSTER_TYPE,
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://container.googleapis.com/$discovery/rest',
      discoveryName: 'Cluster',
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      location: LOCATION,
      data: {
        addonsConfig: {
          gcePersistentDiskCsiDriverConfig: { enabled: true },
          horizontalPodAutoscaling: {},
          httpLoadBalancing: {},
          networkPolicyConfig: { disabled: true },
        },
        clusterIpv4Cidr: '10.100.0.0/14',
        createTime: '2025-01-14T10:01:47+00:00',
        currentMasterVersion: '1.31.12-gke.1265000',
        currentNodeCount: 3,
        currentNodeVersion: '1.31.12-gke.1265000',
        endpoint: '172.16.0.2',
        id: 'f3a9c1e04b2d4c7e8a5b6d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c',
        initialClusterVersion: '1.29.10-gke.1155000',
        labelFingerprint: '6c6165b4',
        legacyAbac: {},
        location: LOCATION,
        locations: [`${LOCATION}-a`, `${LOCATION}-b`, `${LOCATION}-c`],
        loggingService: 'logging.googleapis.com/kubernetes',
        masterAuthorizedNetworksConfig: {
          cidrBlocks: [{ cidrBlock: '198.51.100.0/24', displayName: 'corp-vpn' }],
          enabled: true,
        },
        monitoringService: 'monitoring.googleapis.com/kubernetes',
        name: cluster,
        network: 'dev-vpc',
        nodePools: [nodePool(cluster, 'default-pool')],
        privateClusterConfig: { enablePrivateNodes: true, masterIpv4CidrBlock: '172.16.0.0/28' },
        resourceLabels: { 'cost-center': 'cc-1001', env: 'prod', team: 'web' },
        selfLink: `${API}/projects/${PROJECT_ID}/locations/${LOCATION}/clusters/${cluster}`,
        shieldedNodes: { enabled: true },
        status: 'RUNNING',
        subnetwork: 'dev-web',
        workloadIdentityConfig: { workloadPool: `${PROJECT_ID}.svc.id.goog` },
        zone: LOCATION,
        ...over,
      },
    },
    updateTime: '2026-02-01T06:57:25.329835Z',
  };
}
