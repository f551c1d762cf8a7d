import type { Asset } from '../../shared/model/asset.js';
import { ANCESTORS, PROJECT_ID, PROJECT_NUMBER } from './twin-fixtures.js';

export const REGION = 'us-central1';
const API = 'https://www.googleapis.com/compute/v1';
const DISCOVERY = 'https://www.googleapis.com/discovery/v1/apis/compute/v1/rest';

function computeAsset(
  path: string,
  assetType: string,
  discoveryName: string,
  location: string,
  data: Record<string, unknown>,
): Asset {
  return {
    name: `//compute.googleapis.com/projects/${PROJECT_ID}/${path}`,
    assetType,
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1',
      discoveryDocumentUri: DISCOVERY,
      discoveryName,
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      location,
      data,
    },
    updateTime: '2024-03-01T12:00:00.000000Z',
  };
}

/** A subnetwork as CAI holds it (cf. examples/landing-zone): flow logs off unless `over` says otherwise. */
export function subnetworkAsset(name: string, over: Record<string, unknown> = {}): Asset {
  return computeAsset(
    `regions/${REGION}/subnetworks/${name}`,
    'compute.googleapis.com/Subnetwork',
    'Subnetwork',
    REGION,
    {
      creationTimestamp: '2024-03-11T02:15:57.273-07:00',
      description: '',
      fingerprint: 'GSU0Q+kRUiU=',
      gatewayAddress: '10.20.0.1',
      id: '5396439559586931536',
      ipCidrRange: '10.20.0.0/20',
      logConfig: { enable: false },
      name,
      network: `${API}/projects/${PROJECT_ID}/global/networks/dev-vpc`,
      privateIpGoogleAccess: false,
      privateIpv6GoogleAccess: 'DISABLE_GOOGLE_ACCESS',
      purpose: 'PRIVATE',
      region: `${API}/projects/${PROJECT_ID}/regions/${REGION}`,
      secondaryIpRanges: [{ ipCidrRange: '10.100.0.0/14', rangeName: 'gke-pods' }],
      selfLink: `${API}/projects/${PROJECT_ID}/regions/${REGION}/subnetworks/${name}`,
      stackType: 'IPV4_ONLY',
      ...over,
    },
  );
}

/** An external Application Load Balancer backend service, global unless a region is given. */
export function backendServiceAsset(
  name: string,
  over: Record<string, unknown> = {},
  region?: string,
): Asset {
  const path = region ? `regions/${region}/backendServices/${name}` : `global/backendServices/${name}`;
  return computeAsset(
    path,
    region ? 'compute.googleapis.com/RegionBackendService' : 'compute.googleapis.com/BackendService',
    region ? 'RegionBackendService' : 'BackendService',
    region ?? 'global',
    {
      affinityCookieTtlSec: 0,
      backends: [
        {
          balancingMode: 'UTILIZATION',
          capacityScaler: 1,
          group: `${API}/projects/${PROJECT_ID}/zones/us-central1-a/instanceGroups/web-ig`,
        },
      ],
      connectionDraining: { drainingTimeoutSec: 300 },
      creationTimestamp: '2024-05-21T07:40:02.114-07:00',
      description: '',
      enableCDN: false,
      fingerprint: 'h3vPH4bhNzM=',
      healthChecks: [`${API}/projects/${PROJECT_ID}/global/healthChecks/web-hc`],
      id: '3104967206541922514',
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      logConfig: { enable: false },
      name,
      port: 80,
      portName: 'http',
      protocol: 'HTTP',
      selfLink: `${API}/projects/${PROJECT_ID}/${path}`,
      sessionAffinity: 'NONE',
      timeoutSec: 30,
      ...(region ? { region: `${API}/projects/${PROJECT_ID}/regions/${region}` } : {}),
      ...over,
    },
  );
}

export function sslPolicyAsset(name: string, over: Record<string, unknown> = {}): Asset {
  return computeAsset(
    `global/sslPolicies/${name}`,
    'compute.googleapis.com/SslPolicy',
    'SslPolicy',
    'global',
    {
      creationTimestamp: '2024-05-21T07:41:12.000-07:00',
      description: '',
      fingerprint: 'k1N3ZPxIY0s=',
      id: '7741223903917735514',
      minTlsVersion: 'TLS_1_0',
      name,
      profile: 'COMPATIBLE',
      selfLink: `${API}/projects/${PROJECT_ID}/global/sslPolicies/${name}`,
      ...over,
    },
  );
}
