import type { Asset } from '../../shared/model/asset.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { createCloudClients, type CloudClients } from '../../shared/cloud/clients.js';
import { startTwin, type Twin, type TwinOptions } from '../../shared/twin/server.js';

/** Inventory in CAI shape, as in /work/shared/samples/cai-feed: one project under a folder and an org. */
export const PROJECT_ID = 'warden-demo';
export const PROJECT_NUMBER = '123456789012';
export const ANCESTORS = [`projects/${PROJECT_NUMBER}`, 'folders/111111111111', 'organizations/999999999999'];

export function bucketAsset(
  name: string,
  over: { pap?: string; ubla?: boolean; metageneration?: number } = {},
): Asset {
  const iamConfiguration: Record<string, unknown> = {
    uniformBucketLevelAccess: { enabled: over.ubla ?? false },
    bucketPolicyOnly: { enabled: over.ubla ?? false },
  };
  if (over.pap !== undefined) iamConfiguration['publicAccessPrevention'] = over.pap;
  return {
    name: `//storage.googleapis.com/${name}`,
    assetType: 'storage.googleapis.com/Bucket',
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/storage/v1/rest',
      discoveryName: 'Bucket',
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      location: 'us-central1',
      data: {
        acl: [],
        defaultObjectAcl: [],
        etag: 'CAI=',
        iamConfiguration,
        id: name,
        kind: 'storage#bucket',
        labels: { team: 'data' },
        location: 'US-CENTRAL1',
        metageneration: over.metageneration ?? 2,
        name,
        owner: {},
        projectNumber: Number(PROJECT_NUMBER),
        selfLink: `https://www.googleapis.com/storage/v1/b/${name}`,
        storageClass: 'STANDARD',
        timeCreated: '2018-07-23T17:30:22.691Z',
        updated: '2019-09-05T10:18:44.437Z',
      },
    },
    iamPolicy: {
      version: 1,
      etag: '',
      bindings: [
        { role: 'roles/storage.legacyBucketOwner', members: [`projectOwner:${PROJECT_ID}`] },
        { role: 'roles/storage.objectViewer', members: ['allUsers'] },
      ],
    },
    updateTime: '2024-03-01T10:15:30.123456Z',
  };
}

export function firewallAsset(name: string, sourceRanges: string[] = ['0.0.0.0/0']): Asset {
  return {
    name: `//compute.googleapis.com/projects/${PROJECT_ID}/global/firewalls/${name}`,
    assetType: 'compute.googleapis.com/Firewall',
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/compute/v1/rest',
      discoveryName: 'Firewall',
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      data: {
        allowed: [
          { IPProtocol: 'tcp', ports: ['22', '3389'] },
          { IPProtocol: 'udp', ports: ['234'] },
        ],
        creationTimestamp: '2019-08-01T12:52:26.839-07:00',
        description: 'ssh and rdp',
        direction: 'INGRESS',
        disabled: false,
        id: '5091400122046020629',
        logConfig: { enable: false },
        name,
        network: `https://www.googleapis.com/compute/v1/projects/${PROJECT_ID}/global/networks/default`,
        priority: 1000,
        selfLink: `https://www.googleapis.com/compute/v1/projects/${PROJECT_ID}/global/firewalls/${name}`,
        sourceRanges,
        targetTags: ['bastion'],
      },
    },
    updateTime: '2024-03-01T12:00:00.000000Z',
  };
}

export interface TwinHarness {
  twin: Twin;
  cloud: CloudClients;
  clock: ManualClock;
  feed: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A twin over `assets` with the official clients pointed at it; storage's own retries are made fast. */
export async function startHarness(
  assets: Asset[],
  opts: Partial<Pick<TwinOptions, 'faults' | 'operationPolls' | 'rng'>> & { storageAutoRetry?: boolean } = {},
): Promise<TwinHarness> {
  const clock = new ManualClock('2026-03-01T09:00:00.000Z');
  const feed: Array<Record<string, unknown>> = [];
  const twin = await startTwin({
    assets,
    clock,
    onFeed: (m) => {
      feed.push(m as Record<string, unknown>);
    },
    ...(opts.faults ? { faults: opts.faults } : {}),
    ...(opts.operationPolls !== undefined ? { operationPolls: opts.operationPolls } : {}),
    ...(opts.rng ? { rng: opts.rng } : {}),
  });
  const cloud = createCloudClients({
    target: { kind: 'twin', url: twin.url, projectId: PROJECT_ID },
    storageRetry: {
      autoRetry: opts.storageAutoRetry ?? false,
      maxRetries: 2,
      retryDelayMultiplier: 1,
      maxRetryDelay: 0.05,
      totalTimeout: 10,
    },
  });
  return {
    twin,
    cloud,
    clock,
    feed,
    async close() {
      await cloud.close();
      await twin.close();
    },
  };
}
