import { describe, it, expect } from '@jest/globals';
import { decodeFeedMessage, type FeedDecode } from '../../../shared/contracts/cai.js';
import type { AssetChange } from '../../../shared/model/asset.js';
import { CAI_FEED, sample, sampleFiles } from './fixtures.js';

function change(decoded: FeedDecode): AssetChange {
  if (decoded.kind !== 'change') throw new Error(`expected a change, got ${JSON.stringify(decoded)}`);
  return decoded.change;
}

function feedJson(name: string): Record<string, unknown> {
  return JSON.parse(sample(`${CAI_FEED}${name}`)) as Record<string, unknown>;
}

describe('decodeFeedMessage on the feed samples', () => {
  it('has a test for every sample', () => {
    expect(sampleFiles(CAI_FEED)).toEqual([
      '01-feed-welcome-message.txt',
      '02-bucket-ubla-disabled.resource-update.json',
      '03-bucket-iam-allusers-added.iam-policy-update.json',
      '04-firewall-world-open-ssh.resource-create.json',
      '05-firewall-deleted.resource-delete.json',
    ]);
  });

  it('recognises the plain-text welcome message', () => {
    const decoded = decodeFeedMessage(sample(`${CAI_FEED}01-feed-welcome-message.txt`));
    expect(decoded.kind).toBe('welcome');
    if (decoded.kind === 'welcome') expect(decoded.text).toMatch(/organizations\/999999999999\/feeds/);
  });

  it('decodes a RESOURCE update with its prior asset', () => {
    const c = change(decodeFeedMessage(sample(`${CAI_FEED}02-bucket-ubla-disabled.resource-update.json`)));
    if (c.kind !== 'upsert') throw new Error('expected upsert');
    expect(c.contentType).toBe('RESOURCE');
    expect(c.changeTime).toBe('2024-03-01T10:15:30.123456Z');
    expect(c.priorAssetState).toBe('PRESENT');
    expect(c.asset.name).toBe('//storage.googleapis.com/my-storage-bucketwithuniformbucketlevelaccess');
    expect(c.asset.ancestors).toEqual([
      'projects/123456789012',
      'folders/111111111111',
      'organizations/999999999999',
    ]);
    expect(c.asset.resource?.discoveryName).toBe('Bucket');
    expect(c.asset.resource?.data['iamConfiguration']).toEqual({
      uniformBucketLevelAccess: { enabled: false },
      bucketPolicyOnly: { enabled: false },
    });
    expect(c.asset.iamPolicy).toBeUndefined();
    expect(c.priorAsset?.resource?.data['iamConfiguration']).toEqual({
      uniformBucketLevelAccess: { enabled: true, lockedTime: '2019-09-05T10:18:44.437Z' },
    });
    expect(c.priorAsset?.updateTime).toBe('2024-02-20T08:00:00.000000Z');
  });

  it('decodes an IAM_POLICY update', () => {
    const c = change(
      decodeFeedMessage(sample(`${CAI_FEED}03-bucket-iam-allusers-added.iam-policy-update.json`)),
    );
    if (c.kind !== 'upsert') throw new Error('expected upsert');
    expect(c.contentType).toBe('IAM_POLICY');
    expect(c.asset.resource).toBeUndefined();
    expect(c.asset.iamPolicy?.bindings).toContainEqual({
      role: 'roles/storage.legacyBucketReader',
      members: ['allUsers', 'projectViewer:test-viewer'],
    });
    expect(c.priorAsset?.iamPolicy?.bindings[1]?.members).toEqual(['projectViewer:test-viewer']);
  });

  it('decodes a create: no prior asset, DOES_NOT_EXIST', () => {
    const c = change(decodeFeedMessage(sample(`${CAI_FEED}04-firewall-world-open-ssh.resource-create.json`)));
    if (c.kind !== 'upsert') throw new Error('expected upsert');
    expect(c.contentType).toBe('RESOURCE');
    expect(c.priorAsset).toBeUndefined();
    expect(c.priorAssetState).toBe('DOES_NOT_EXIST');
    expect(c.asset.assetType).toBe('compute.googleapis.com/Firewall');
    expect(c.asset.resource?.data['sourceRanges']).toEqual(['0.0.0.0/0']);
  });

  it('decodes a delete whose asset part has no resource', () => {
    const c = change(decodeFeedMessage(sample(`${CAI_FEED}05-firewall-deleted.resource-delete.json`)));
    expect(c).toMatchObject({
      kind: 'delete',
      name: '//compute.googleapis.com/projects/cf-gcp-challenge-dev/global/firewalls/cf-test-fw-rule-4',
      assetType: 'compute.googleapis.com/Firewall',
      ancestors: ['projects/123456789012', 'folders/111111111111', 'organizations/999999999999'],
      changeTime: '2024-03-01T12:30:00.000000Z',
    });
    if (c.kind !== 'delete') throw new Error('expected delete');
    expect(c.priorAsset?.resource?.data['disabled']).toBe(true);
  });
});

describe('decodeFeedMessage on messages the samples do not cover', () => {
  it('falls back to asset.updateTime when there is no window', () => {
    const msg = feedJson('04-firewall-world-open-ssh.resource-create.json');
    delete msg['window'];
    expect(change(decodeFeedMessage(JSON.stringify(msg))).changeTime).toBe('2024-03-01T12:00:00.000000Z');
  });

  it('is invalid without any change time', () => {
    const msg = feedJson('04-firewall-world-open-ssh.resource-create.json');
    delete msg['window'];
    delete (msg['asset'] as Record<string, unknown>)['updateTime'];
    expect(decodeFeedMessage(JSON.stringify(msg))).toEqual({
      kind: 'invalid',
      reason: 'neither window.startTime nor asset.updateTime is set',
    });
  });

  it('is invalid with a change time that cannot be ordered', () => {
    const msg = feedJson('04-firewall-world-open-ssh.resource-create.json');
    msg['window'] = { startTime: 'yesterday' };
    const decoded = decodeFeedMessage(JSON.stringify(msg));
    expect(decoded.kind).toBe('invalid');
    if (decoded.kind === 'invalid') expect(decoded.reason).toMatch(/window\.startTime/);
  });

  it('sets ORG_POLICY and ACCESS_POLICY content types', () => {
    const base = {
      name: '//cloudresourcemanager.googleapis.com/projects/123',
      assetType: 'cloudresourcemanager.googleapis.com/Project',
    };
    const org = {
      asset: {
        ...base,
        orgPolicy: [
          { constraint: 'constraints/compute.skipDefaultNetworkCreation', booleanPolicy: { enforced: true } },
        ],
        updateTime: '2024-03-01T00:00:00Z',
      },
    };
    const access = {
      asset: {
        ...base,
        accessPolicy: { name: 'accessPolicies/1', title: 'p' },
        updateTime: '2024-03-01T00:00:00Z',
      },
    };
    expect(change(decodeFeedMessage(JSON.stringify(org)))).toMatchObject({
      kind: 'upsert',
      contentType: 'ORG_POLICY',
    });
    expect(change(decodeFeedMessage(JSON.stringify(access)))).toMatchObject({
      kind: 'upsert',
      contentType: 'ACCESS_POLICY',
    });
  });

  it('rejects a non-delete message with no content, and one with two kinds of content', () => {
    const msg = feedJson('03-bucket-iam-allusers-added.iam-policy-update.json');
    const asset = msg['asset'] as Record<string, unknown>;
    const iamPolicy = asset['iamPolicy'];
    delete asset['iamPolicy'];
    expect(decodeFeedMessage(JSON.stringify(msg))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/no resource, iamPolicy/),
    });
    asset['iamPolicy'] = iamPolicy;
    asset['resource'] = { data: {} };
    expect(decodeFeedMessage(JSON.stringify(msg))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/one content type/),
    });
  });

  it('names the zod path of a schema failure', () => {
    const msg = feedJson('04-firewall-world-open-ssh.resource-create.json');
    (msg['asset'] as Record<string, unknown>)['assetType'] = 'Firewall';
    expect(decodeFeedMessage(JSON.stringify(msg))).toEqual({
      kind: 'invalid',
      reason: 'asset.assetType: not a CAI asset type',
    });
    expect(decodeFeedMessage(JSON.stringify({ priorAssetState: 'PRESENT' }))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^asset: /),
    });
    const badPrior = feedJson('02-bucket-ubla-disabled.resource-update.json');
    (badPrior['priorAsset'] as Record<string, unknown>)['ancestors'] = 'projects/1';
    expect(decodeFeedMessage(JSON.stringify(badPrior))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^priorAsset\.ancestors: /),
    });
  });

  it('turns garbage into invalid, never into an exception', () => {
    for (const text of ['', 'hello', '{"asset":', '[1,2]', 'null', '42', '"You have"', '\u0000\u0001']) {
      const decoded = decodeFeedMessage(text);
      expect(decoded.kind).toBe('invalid');
    }
    expect(decodeFeedMessage('not json at all')).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^not JSON/),
    });
  });
});
