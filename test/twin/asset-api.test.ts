import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { listAssets } from '../../shared/cloud/list-assets.js';
import type { Asset } from '../../shared/model/asset.js';
import { bucketAsset, firewallAsset, PROJECT_ID, startHarness, type TwinHarness } from './twin-fixtures.js';

function elsewhere(asset: Asset): Asset {
  return { ...asset, ancestors: ['projects/555', 'organizations/888'] };
}

const auditedProject: Asset = {
  name: '//cloudresourcemanager.googleapis.com/projects/123456789012',
  assetType: 'cloudresourcemanager.googleapis.com/Project',
  ancestors: ['projects/123456789012', 'folders/111111111111', 'organizations/999999999999'],
  resource: { data: { projectId: PROJECT_ID, projectNumber: '123456789012', lifecycleState: 'ACTIVE' } },
  iamPolicy: {
    version: 1,
    etag: 'BwXhqDaFfPs=',
    bindings: [{ role: 'roles/owner', members: ['user:owner@example.com'] }],
    auditConfigs: [
      {
        service: 'allServices',
        auditLogConfigs: [{ logType: 'DATA_READ', exemptedMembers: ['user:a@example.com'] }],
      },
    ],
  },
  updateTime: '2024-01-02T03:04:05.123456Z',
};

describe('twin: Cloud Asset Inventory assets.list through @google-cloud/asset', () => {
  let h: TwinHarness;
  beforeEach(async () => {
    h = await startHarness([
      bucketAsset('bucket-a'),
      bucketAsset('bucket-b'),
      firewallAsset('fw-a'),
      auditedProject,
      elsewhere(bucketAsset('other-org-bucket')),
    ]);
  });
  afterEach(async () => {
    await h.close();
  });

  it('pages RESOURCE content under an organization, with integer enums in the query', async () => {
    const client = await h.cloud.assets();
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const [assets, , raw] = await client.listAssets(
        {
          parent: 'organizations/999999999999',
          contentType: 'RESOURCE',
          assetTypes: ['storage.googleapis.com/Bucket'],
          pageSize: 1,
          ...(pageToken ? { pageToken } : {}),
        },
        { autoPaginate: false },
      );
      pages += 1;
      seen.push(...assets.map((a) => a.name ?? ''));
      expect(raw?.readTime?.seconds).toBe(String(Date.parse('2026-03-01T09:00:00Z') / 1000));
      pageToken = raw?.nextPageToken || undefined;
    } while (pageToken);
    expect(pages).toBe(2);
    expect(seen).toEqual(['//storage.googleapis.com/bucket-a', '//storage.googleapis.com/bucket-b']);
    expect(h.twin.requests[0]).toMatchObject({
      method: 'GET',
      path: '/v1/organizations/999999999999/assets',
      query: {
        assetTypes: 'storage.googleapis.com/Bucket',
        contentType: '1',
        pageSize: '1',
        $alt: 'json;enum-encoding=int',
      },
    });
  });

  it('filters by ancestry (a project by id or number, a folder) and by asset type patterns', async () => {
    const names = async (scope: string, assetTypes: string[]) => {
      const out: string[] = [];
      for await (const listed of listAssets(h.cloud, { scope, contentType: 'RESOURCE', assetTypes }))
        out.push(listed.asset ? listed.asset.name : `unparsed:${listed.name}`);
      return out;
    };
    const inProject = await names(`projects/${PROJECT_ID}`, ['compute.googleapis.com.*']);
    expect(inProject).toEqual([`//compute.googleapis.com/projects/${PROJECT_ID}/global/firewalls/fw-a`]);
    expect(await names('projects/123456789012', [])).toHaveLength(4);
    expect(await names('folders/111111111111', ['.*Bucket'])).toEqual([
      '//storage.googleapis.com/bucket-a',
      '//storage.googleapis.com/bucket-b',
    ]);
    expect(await names('organizations/888', [])).toEqual(['//storage.googleapis.com/other-org-bucket']);
  });

  it('turns the proto-decoded assets back into the Asset model, equal to what CAI holds', async () => {
    const resources: Asset[] = [];
    for await (const listed of listAssets(h.cloud, {
      scope: 'organizations/999999999999',
      contentType: 'RESOURCE',
      pageSize: 2,
    })) {
      if (listed.asset === null) throw new Error(`not parsed: ${listed.name}: ${listed.reason}`);
      expect(listed.readTime).toBe('2026-03-01T09:00:00Z');
      resources.push(listed.asset);
    }
    const bucket = resources.find((a) => a.name === '//storage.googleapis.com/bucket-a');
    const original = h.twin.getAsset('//storage.googleapis.com/bucket-a');
    expect(bucket?.resource).toEqual(original?.resource);
    expect(bucket?.updateTime).toBe('2024-03-01T10:15:30.123456Z');
    expect(bucket?.iamPolicy).toBeUndefined();

    const policies: Asset[] = [];
    for await (const listed of listAssets(h.cloud, {
      scope: 'organizations/999999999999',
      contentType: 'IAM_POLICY',
    })) {
      if (listed.asset === null) throw new Error(`not parsed: ${listed.name}: ${listed.reason}`);
      policies.push(listed.asset);
    }
    const project = policies.find((a) => a.assetType === 'cloudresourcemanager.googleapis.com/Project');
    expect(project?.resource).toBeUndefined();
    expect(project?.iamPolicy).toEqual(auditedProject.iamPolicy); // logType went out as 3 and came back DATA_READ
    expect(policies.map((a) => a.assetType).sort()).toEqual([
      'cloudresourcemanager.googleapis.com/Project',
      'storage.googleapis.com/Bucket',
      'storage.googleapis.com/Bucket',
    ]);
    expect(JSON.stringify(h.twin.requests.at(-1))).toContain('"contentType":"2"');
  });

  it('rejects a page token issued for another listing', async () => {
    const client = await h.cloud.assets();
    const [, , raw] = await client.listAssets(
      { parent: 'organizations/999999999999', contentType: 'RESOURCE', pageSize: 1 },
      { autoPaginate: false },
    );
    const err = await client
      .listAssets(
        {
          parent: 'organizations/999999999999',
          contentType: 'IAM_POLICY',
          pageSize: 1,
          pageToken: raw?.nextPageToken ?? '',
        },
        { autoPaginate: false },
      )
      .then(
        () => undefined,
        (e: unknown) => e as { code?: number },
      );
    expect(err?.code).toBe(400);
  });
});
