import type { Asset } from '../../shared/model/asset.js';
import { ANCESTORS, PROJECT_ID, PROJECT_NUMBER } from './twin-fixtures.js';

export const ZONE_TYPE = 'dns.googleapis.com/ManagedZone';
export const POLICY_TYPE = 'dns.googleapis.com/Policy';

export function zonePath(zone: string): string {
  return `/dns/v1/projects/${PROJECT_ID}/managedZones/${zone}`;
}
export function policyPath(policy: string): string {
  return `/dns/v1/projects/${PROJECT_ID}/policies/${policy}`;
}

/**
 * A public managed zone as CAI exports it: ManagedZone data in v1alpha2 with upper-case enums (catalog F8),
 * DNSSEC off with Cloud DNS's default key specs. `over` replaces top-level data fields.
 */
export function zoneAsset(zone: string, over: Record<string, unknown> = {}): Asset {
  return {
    name: `//dns.googleapis.com/projects/${PROJECT_ID}/managedZones/${zone}`,
    assetType: ZONE_TYPE,
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1alpha2',
      discoveryDocumentUri: 'https://dns.googleapis.com/$discovery/rest?version=v1alpha2',
      discoveryName: 'ManagedZone',
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      location: 'global',
      data: {
        creationTime: '2023-05-02T10:11:12.345Z',
        description: 'public zone of the shop',
        dnsName: 'shop.example.com.',
        dnssecConfig: {
          defaultKeySpecs: [
            { algorithm: 'RSASHA256', keyLength: 2048, keyType: 'KEY_SIGNING' },
            { algorithm: 'RSASHA256', keyLength: 1024, keyType: 'ZONE_SIGNING' },
          ],
          nonExistence: 'NSEC3',
          state: 'OFF',
        },
        id: '4567890123456789012',
        labels: { team: 'web' },
        name: zone,
        nameServers: ['ns-cloud-a1.googledomains.com.', 'ns-cloud-a2.googledomains.com.'],
        visibility: 'PUBLIC',
        ...over,
      },
    },
    updateTime: '2026-02-01T08:00:00.000000Z',
  };
}

/** A DNS server policy bound to one VPC network, query logging off. */
export function policyAsset(policy: string, over: Record<string, unknown> = {}): Asset {
  return {
    name: `//dns.googleapis.com/projects/${PROJECT_ID}/policies/${policy}`,
    assetType: POLICY_TYPE,
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://dns.googleapis.com/$discovery/rest?version=v1',
      discoveryName: 'Policy',
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      location: 'global',
      data: {
        description: 'inbound forwarding for on-premises resolvers',
        enableInboundForwarding: true,
        enableLogging: false,
        id: '2345678901234567',
        name: policy,
        networks: [
          {
            kind: 'dns#policyNetwork',
            networkUrl: `https://www.googleapis.com/compute/v1/projects/${PROJECT_ID}/global/networks/dev-vpc`,
          },
        ],
        ...over,
      },
    },
    updateTime: '2026-02-01T08:00:00.000000Z',
  };
}
