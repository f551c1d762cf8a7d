import { afterEach, describe, expect, it } from '@jest/globals';
import { openSqliteDocumentStore } from '../../../shared/adapters/document-store-sqlite.js';
import { bindingChanges, blastRadius, firewallReach } from '../../../shared/engine/blast-radius.js';
import { Repository } from '../../../shared/engine/repository.js';
import type { Plan } from '../../../shared/model/action.js';
import type { Asset } from '../../../shared/model/asset.js';
import { ManualClock } from '../../../shared/ports/clock.js';
import type { DocumentStore } from '../../../shared/ports/document-store.js';

const NET = 'https://www.googleapis.com/compute/v1/projects/host/global/networks/shared';
const OTHER = 'https://www.googleapis.com/compute/v1/projects/host/global/networks/other';

function instance(
  name: string,
  network: string,
  tags: string[] = [],
  sa = 'default@x.iam.gserviceaccount.com',
): Asset {
  return {
    name: `//compute.googleapis.com/projects/svc/zones/z/instances/${name}`,
    assetType: 'compute.googleapis.com/Instance',
    ancestors: ['projects/9'],
    resource: {
      data: {
        name,
        networkInterfaces: [{ network }],
        tags: { items: tags },
        serviceAccounts: [{ email: sa, scopes: [] }],
      },
    },
  };
}

const fleet = [
  instance('web-1', NET, ['web']),
  instance('web-2', NET, ['web', 'ssh']),
  instance('db-1', NET, ['db'], 'db@x.iam.gserviceaccount.com'),
  instance('other-1', OTHER, ['web']),
];

describe('blast radius', () => {
  it("a firewall rule reaches its network's instances with its target tags or service accounts, or all of them", () => {
    expect(firewallReach({ network: NET }, fleet)).toBe(3);
    expect(firewallReach({ network: 'projects/host/global/networks/shared' }, fleet)).toBe(3);
    expect(firewallReach({ network: NET, targetTags: ['web'] }, fleet)).toBe(2);
    expect(firewallReach({ network: NET, targetTags: ['ssh', 'db'] }, fleet)).toBe(2);
    expect(
      firewallReach({ network: NET, targetServiceAccounts: ['db@x.iam.gserviceaccount.com'] }, fleet),
    ).toBe(1);
    expect(firewallReach({ network: OTHER, targetTags: ['db'] }, fleet)).toBe(0);
    expect(firewallReach({}, fleet)).toBe(0);
  });

  it('an IAM change counts the member grants it removes, adds or alters', () => {
    const asset = {
      name: '//cloudresourcemanager.googleapis.com/projects/1',
      assetType: 'cloudresourcemanager.googleapis.com/Project',
      ancestors: [],
      iamPolicy: {
        bindings: [
          { role: 'roles/owner', members: ['user:a@x.com', 'user:b@x.com'] },
          { role: 'roles/viewer', members: ['allUsers', 'group:g@x.com'] },
        ],
      },
    } as Asset;
    const plan = (body: unknown): Plan => ({
      description: 'd',
      requests: [{ method: 'POST', url: 'u', body }],
    });
    // v3 setIamPolicy: allUsers dropped, b moved from owner to editor.
    expect(
      bindingChanges(
        asset,
        plan({
          policy: {
            bindings: [
              { role: 'roles/owner', members: ['user:a@x.com'] },
              { role: 'roles/editor', members: ['user:b@x.com'] },
              { role: 'roles/viewer', members: ['group:g@x.com'] },
            ],
          },
        }),
      ),
    ).toBe(3);
    // Storage's PUT …/iam carries the bindings at the top.
    expect(bindingChanges(asset, plan({ bindings: asset.iamPolicy!.bindings }))).toBe(0);
    expect(bindingChanges(asset, plan({ iamConfiguration: {} }))).toBeNull();
  });
});

describe('blast radius from the store', () => {
  let store: DocumentStore | undefined;
  afterEach(async () => store?.close());

  it('reads the instances a firewall rule or service account reaches; a bucket has no known radius', async () => {
    store = openSqliteDocumentStore(':memory:');
    const repo = new Repository(store, new ManualClock());
    const firewall: Asset = {
      name: '//compute.googleapis.com/projects/host/global/firewalls/allow-web',
      assetType: 'compute.googleapis.com/Firewall',
      ancestors: ['projects/8'],
      resource: { data: { network: NET, targetTags: ['web'] } },
    };
    const plan: Plan = { description: 'd', requests: [] };
    expect(await blastRadius(repo, firewall, plan)).toEqual({
      count: 0,
      what: 'the rule applies to 0 instance(s) of projects/host/global/networks/shared',
    });
    for (const i of fleet)
      await repo.applyAssetChange(
        { kind: 'upsert', asset: i, contentType: 'RESOURCE', changeTime: '2026-01-01T00:00:00Z' },
        't',
      );
    expect(await blastRadius(repo, firewall, plan)).toMatchObject({ count: 2 });
    const sa: Asset = {
      name: '//iam.googleapis.com/projects/x/serviceAccounts/1',
      assetType: 'iam.googleapis.com/ServiceAccount',
      ancestors: ['projects/9'],
      resource: { data: { email: 'default@x.iam.gserviceaccount.com' } },
    };
    expect(await blastRadius(repo, sa, plan)).toEqual({
      count: 3,
      what: '3 instance(s) run as default@x.iam.gserviceaccount.com',
    });
    const bucket: Asset = {
      name: '//storage.googleapis.com/b',
      assetType: 'storage.googleapis.com/Bucket',
      ancestors: [],
    };
    expect(await blastRadius(repo, bucket, plan)).toBeNull();
  });
});
