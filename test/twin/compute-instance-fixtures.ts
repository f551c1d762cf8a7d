import type { Asset } from '../../shared/model/asset.js';
import { ANCESTORS, PROJECT_ID, PROJECT_NUMBER } from './twin-fixtures.js';

export const ZONE = 'us-central1-a';
const API = 'https://www.googleapis.com/compute/v1';
const RESOURCE = {
  version: 'v1',
  discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/compute/v1/rest',
  parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
};

export interface MetadataItem {
  key: string;
  value: string;
}

/** A VM in CAI shape, as in examples/landing-zone. */
export function instanceAsset(
  name: string,
  over: {
    items?: MetadataItem[];
    labels?: Record<string, string>;
    deletionProtection?: boolean;
    zone?: string;
  } = {},
): Asset {
  const zone = over.zone ?? ZONE;
  return {
    name: `//compute.googleapis.com/projects/${PROJECT_ID}/zones/${zone}/instances/${name}`,
    assetType: 'compute.googleapis.com/Instance',
    ancestors: [...ANCESTORS],
    resource: {
      ...RESOURCE,
      discoveryName: 'Instance',
      location: zone,
      data: {
        canIpForward: false,
        creationTimestamp: '2025-04-08T09:16:42.318-07:00',
        deletionProtection: over.deletionProtection ?? false,
        fingerprint: 'VSbfW68lfZY=',
        id: '2748391044313716189',
        labelFingerprint: 'vFIcoYVs80k=',
        labels: over.labels ?? { app: 'storefront', env: 'dev' },
        machineType: `${API}/projects/${PROJECT_ID}/zones/${zone}/machineTypes/e2-standard-2`,
        metadata: {
          fingerprint: 'JJwVvefzVCI=',
          items: over.items ?? [
            { key: 'startup-script', value: '#!/bin/bash\necho hello' },
            { key: 'ssh-keys', value: 'alice:ssh-ed25519 AAAA alice' },
          ],
        },
        name,
        selfLink: `${API}/projects/${PROJECT_ID}/zones/${zone}/instances/${name}`,
        status: 'RUNNING',
        tags: { fingerprint: '42WmSpB8rSM=' },
        zone: `${API}/projects/${PROJECT_ID}/zones/${zone}`,
      },
    },
    updateTime: '2026-02-01T05:21:30.594967Z',
  };
}

export function diskAsset(name: string, labels: Record<string, string> = { app: 'storefront' }): Asset {
  return {
    name: `//compute.googleapis.com/projects/${PROJECT_ID}/zones/${ZONE}/disks/${name}`,
    assetType: 'compute.googleapis.com/Disk',
    ancestors: [...ANCESTORS],
    resource: {
      ...RESOURCE,
      discoveryName: 'Disk',
      location: ZONE,
      data: {
        creationTimestamp: '2025-04-08T09:16:42.318-07:00',
        id: '4849302242914357856',
        labelFingerprint: 'vFIcoYVs80k=',
        labels,
        name,
        selfLink: `${API}/projects/${PROJECT_ID}/zones/${ZONE}/disks/${name}`,
        sizeGb: '50',
        status: 'READY',
        type: `${API}/projects/${PROJECT_ID}/zones/${ZONE}/diskTypes/pd-balanced`,
        zone: `${API}/projects/${PROJECT_ID}/zones/${ZONE}`,
      },
    },
    updateTime: '2026-02-01T05:21:30.594967Z',
  };
}

/** The Compute Engine project (not the Resource Manager one): commonInstanceMetadata lives here. */
export function computeProjectAsset(items: MetadataItem[]): Asset {
  return {
    name: `//compute.googleapis.com/projects/${PROJECT_ID}`,
    assetType: 'compute.googleapis.com/Project',
    ancestors: [...ANCESTORS],
    resource: {
      ...RESOURCE,
      discoveryName: 'Project',
      location: 'global',
      data: {
        commonInstanceMetadata: { fingerprint: 'YxOnpf2JjbY=', items },
        creationTimestamp: '2024-03-04T03:35:12.471-07:00',
        defaultNetworkTier: 'PREMIUM',
        id: '8173576418190015140',
        name: PROJECT_ID,
        selfLink: `${API}/projects/${PROJECT_ID}`,
        xpnProjectStatus: 'UNSPECIFIED_XPN_PROJECT_STATUS',
      },
    },
    updateTime: '2026-02-01T05:21:30.594967Z',
  };
}
