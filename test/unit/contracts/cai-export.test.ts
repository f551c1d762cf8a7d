import { describe, it, expect } from '@jest/globals';
import { mergeAssetParts, parseExportRecord } from '../../../shared/contracts/cai.js';
import type { Asset } from '../../../shared/model/asset.js';

function ok(obj: unknown): Asset {
  const parsed = parseExportRecord(obj);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.asset;
}

function reason(obj: unknown): string {
  const parsed = parseExportRecord(obj);
  if (parsed.ok) throw new Error(`expected a failure, got ${JSON.stringify(parsed.asset)}`);
  return parsed.reason;
}

/** resource.data in the API's own casing, with a snake_case key that must survive untouched. */
const DATA = {
  name: 'b1',
  iamConfiguration: { uniformBucketLevelAccess: { enabled: false } },
  labels: { cost_center: 'cc-1' },
  legacy_field: 'kept',
};

const SNAKE = {
  name: '//storage.googleapis.com/b1',
  asset_type: 'storage.googleapis.com/Bucket',
  ancestors: ['projects/3', 'folders/2', 'organizations/1'],
  resource: {
    version: 'v1',
    discovery_document_uri: 'https://www.googleapis.com/discovery/v1/apis/storage/v1/rest',
    discovery_name: 'Bucket',
    parent: '//cloudresourcemanager.googleapis.com/projects/3',
    location: 'us',
    data: DATA,
  },
  iam_policy: {
    version: 3,
    etag: 'BwX=',
    bindings: [
      { role: 'roles/storage.objectViewer', members: ['allUsers'] },
      {
        role: 'roles/storage.admin',
        members: ['group:a@example.com'],
        condition: { expression: 'request.time < timestamp("2030-01-01T00:00:00Z")', title: 'until 2030' },
      },
    ],
    audit_configs: [
      {
        service: 'allServices',
        audit_log_configs: [
          { log_type: 'DATA_READ', exempted_members: ['user:x@example.com'] },
          { log_type: 'ADMIN_READ' },
        ],
      },
    ],
  },
  update_time: '2024-03-01T10:15:30.123456Z',
};

const CAMEL = {
  name: '//storage.googleapis.com/b1',
  assetType: 'storage.googleapis.com/Bucket',
  ancestors: ['projects/3', 'folders/2', 'organizations/1'],
  resource: {
    version: 'v1',
    discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/storage/v1/rest',
    discoveryName: 'Bucket',
    parent: '//cloudresourcemanager.googleapis.com/projects/3',
    location: 'us',
    data: DATA,
  },
  iamPolicy: {
    version: 3,
    etag: 'BwX=',
    bindings: SNAKE.iam_policy.bindings,
    auditConfigs: [
      {
        service: 'allServices',
        auditLogConfigs: [
          { logType: 'DATA_READ', exemptedMembers: ['user:x@example.com'] },
          { logType: 'ADMIN_READ' },
        ],
      },
    ],
  },
  updateTime: '2024-03-01T10:15:30.123456Z',
};

describe('parseExportRecord', () => {
  it('reads snake_case and camelCase records as the same asset', () => {
    const fromSnake = ok(SNAKE);
    expect(fromSnake).toEqual(ok(CAMEL));
    expect(fromSnake.assetType).toBe('storage.googleapis.com/Bucket');
    expect(fromSnake.resource?.discoveryDocumentUri).toBe(
      'https://www.googleapis.com/discovery/v1/apis/storage/v1/rest',
    );
    expect(fromSnake.iamPolicy?.auditConfigs?.[0]?.auditLogConfigs).toEqual([
      { logType: 'DATA_READ', exemptedMembers: ['user:x@example.com'] },
      { logType: 'ADMIN_READ' },
    ]);
    expect(fromSnake.iamPolicy?.bindings[1]?.condition?.title).toBe('until 2030');
    expect(fromSnake.updateTime).toBe('2024-03-01T10:15:30.123456Z');
  });

  it('leaves resource.data keys exactly as the API spells them', () => {
    expect(ok(SNAKE).resource?.data).toEqual(DATA);
  });

  it('maps numeric log types of protobuf-derived exports', () => {
    const configs = [0, 1, 2, 3].map((n) => ({ log_type: n }));
    const asset = ok({
      ...SNAKE,
      iam_policy: { bindings: [], audit_configs: [{ service: 'allServices', audit_log_configs: configs }] },
    });
    expect(asset.iamPolicy?.auditConfigs?.[0]?.auditLogConfigs.map((c) => c.logType)).toEqual([
      'LOG_TYPE_UNSPECIFIED',
      'ADMIN_READ',
      'DATA_WRITE',
      'DATA_READ',
    ]);
    expect(
      reason({
        ...SNAKE,
        iam_policy: { audit_configs: [{ service: 's', audit_log_configs: [{ log_type: 7 }] }] },
      }),
    ).toMatch(/^asset\.iamPolicy\.auditConfigs\.0\.auditLogConfigs\.0\.logType: /);
  });

  it('turns an older export ancestry_path into ancestors, nearest first', () => {
    const { ancestors: _dropped, ...old } = SNAKE;
    expect(ok({ ...old, ancestry_path: 'organizations/1/folders/2/projects/3' }).ancestors).toEqual([
      'projects/3',
      'folders/2',
      'organizations/1',
    ]);
    expect(ok({ ...old, ancestors: [], ancestryPath: 'organizations/1/projects/3' }).ancestors).toEqual([
      'projects/3',
      'organizations/1',
    ]);
    expect(reason({ ...old, ancestry_path: 'organizations/1/folders' })).toMatch(
      /ancestry_path: not type\/id pairs/,
    );
    expect(ok(old).ancestors).toEqual([]);
  });

  it('gives bindings without members an empty member list', () => {
    const asset = ok({
      ...SNAKE,
      iam_policy: { bindings: [{ role: 'roles/viewer' }, { role: 'roles/owner', members: null }] },
    });
    expect(asset.iamPolicy?.bindings).toEqual([
      { role: 'roles/viewer', members: [] },
      { role: 'roles/owner', members: [] },
    ]);
  });

  it('accepts asset types Warden has no policy for, but not malformed ones', () => {
    expect(ok({ ...SNAKE, asset_type: 'newservice.googleapis.com/Gadget' }).assetType).toBe(
      'newservice.googleapis.com/Gadget',
    );
    expect(reason({ ...SNAKE, asset_type: 'Bucket' })).toBe('asset.assetType: not a CAI asset type');
    expect(reason({ ...SNAKE, asset_type: undefined })).toMatch(/^asset\.assetType: /);
  });

  it('normalises org policies (snake_case keys, numeric allValues) and access policies', () => {
    const asset = ok({
      name: '//cloudresourcemanager.googleapis.com/projects/3',
      asset_type: 'cloudresourcemanager.googleapis.com/Project',
      org_policy: [
        {
          constraint: 'constraints/compute.vmExternalIpAccess',
          list_policy: { all_values: 2 },
          update_time: '2024-01-01T00:00:00Z',
        },
        { constraint: 'constraints/compute.skipDefaultNetworkCreation', boolean_policy: { enforced: true } },
      ],
      access_policy: { name: 'accessPolicies/9', parent: 'organizations/1', title: 'default' },
    });
    expect(asset.orgPolicy).toEqual([
      {
        constraint: 'constraints/compute.vmExternalIpAccess',
        listPolicy: { allValues: 'DENY' },
        updateTime: '2024-01-01T00:00:00Z',
      },
      { constraint: 'constraints/compute.skipDefaultNetworkCreation', booleanPolicy: { enforced: true } },
    ]);
    expect(asset.accessPolicy).toEqual({
      name: 'accessPolicies/9',
      parent: 'organizations/1',
      title: 'default',
    });
  });

  it('reads the message objects the Node client returns (Struct data, Timestamp, bytes etag, nulls)', () => {
    const fromClient = {
      name: '//storage.googleapis.com/b1',
      assetType: 'storage.googleapis.com/Bucket',
      ancestors: ['projects/3'],
      resource: {
        version: 'v1',
        discoveryName: 'Bucket',
        data: {
          fields: {
            name: { stringValue: 'b1' },
            metageneration: { numberValue: 2 },
            iamConfiguration: {
              structValue: {
                fields: {
                  uniformBucketLevelAccess: { structValue: { fields: { enabled: { boolValue: true } } } },
                },
              },
            },
            acl: { listValue: { values: [{ stringValue: 'a' }, { nullValue: 'NULL_VALUE' }] } },
          },
        },
      },
      iamPolicy: {
        version: 1,
        etag: Buffer.from('etag-bytes'),
        bindings: [{ role: 'roles/viewer', members: ['user:a@b.c'], condition: null }],
        auditConfigs: [],
      },
      orgPolicy: [],
      accessPolicy: null,
      updateTime: { seconds: '1709288130', nanos: 123456000 },
    };
    expect(ok(fromClient)).toEqual({
      name: '//storage.googleapis.com/b1',
      assetType: 'storage.googleapis.com/Bucket',
      ancestors: ['projects/3'],
      resource: {
        version: 'v1',
        discoveryName: 'Bucket',
        data: {
          name: 'b1',
          metageneration: 2,
          iamConfiguration: { uniformBucketLevelAccess: { enabled: true } },
          acl: ['a', null],
        },
      },
      iamPolicy: {
        version: 1,
        etag: Buffer.from('etag-bytes').toString('base64'),
        bindings: [{ role: 'roles/viewer', members: ['user:a@b.c'] }],
        auditConfigs: [],
      },
      updateTime: '2024-03-01T10:15:30.123456Z',
    });
  });

  it('parses resource.data held as a JSON string (BigQuery exports)', () => {
    expect(
      ok({ ...SNAKE, resource: { ...SNAKE.resource, data: JSON.stringify(DATA) } }).resource?.data,
    ).toEqual(DATA);
  });

  it('rejects an update_time that cannot be ordered', () => {
    expect(reason({ ...SNAKE, update_time: '1 March 2024' })).toBe('asset.updateTime: not an RFC 3339 time');
  });

  it('reports a protobuf update_time beyond year 9999 as bad input instead of throwing', () => {
    expect(() => reason({ ...SNAKE, update_time: { seconds: String(2n ** 60n), nanos: 0 } })).not.toThrow();
    expect(reason({ ...SNAKE, update_time: { seconds: String(2n ** 60n), nanos: 0 } })).toMatch(/updateTime/);
  });

  it('rejects anything that is not an object', () => {
    for (const garbage of [null, 'text', 42, [SNAKE], undefined])
      expect(reason(garbage)).toBe('asset: expected an object');
  });
});

describe('mergeAssetParts', () => {
  const resourcePart = ok({ ...CAMEL, iamPolicy: undefined, updateTime: '2024-03-01T10:00:00Z' });
  const iamPart = ok({ ...CAMEL, resource: undefined, updateTime: '2024-03-01T11:00:00.5Z' });

  it('puts the RESOURCE and IAM_POLICY parts of one name together', () => {
    const merged = mergeAssetParts([resourcePart, iamPart]);
    expect(merged.resource).toEqual(resourcePart.resource);
    expect(merged.iamPolicy).toEqual(iamPart.iamPolicy);
    expect(merged.updateTime).toBe('2024-03-01T11:00:00.5Z');
    expect(mergeAssetParts([iamPart, resourcePart])).toEqual(merged);
  });

  it('keeps the later version of each part, whatever the input order or timestamp precision', () => {
    const newer = ok({
      ...CAMEL,
      iamPolicy: undefined,
      resource: { data: { name: 'newer' } },
      updateTime: '2024-03-01T10:00:00.000001Z',
    });
    const older = ok({
      ...CAMEL,
      iamPolicy: undefined,
      resource: { data: { name: 'older' } },
      updateTime: '2024-03-01T10:00:00Z',
    });
    expect(mergeAssetParts([newer, older]).resource?.data['name']).toBe('newer');
    expect(mergeAssetParts([older, newer]).resource?.data['name']).toBe('newer');
    const offset = ok({
      ...CAMEL,
      iamPolicy: undefined,
      resource: { data: { name: 'offset' } },
      updateTime: '2024-03-01T10:30:00+01:00',
    });
    expect(mergeAssetParts([offset, older]).resource?.data['name']).toBe('older');
  });

  it('takes ancestors from the latest part that has them (a project move)', () => {
    const moved = ok({
      ...CAMEL,
      resource: undefined,
      ancestors: ['projects/3', 'folders/9', 'organizations/1'],
      updateTime: '2024-03-02T00:00:00Z',
    });
    expect(mergeAssetParts([resourcePart, moved]).ancestors).toEqual([
      'projects/3',
      'folders/9',
      'organizations/1',
    ]);
    const noAncestors = ok({ ...CAMEL, ancestors: [], updateTime: '2024-03-03T00:00:00Z' });
    expect(mergeAssetParts([moved, noAncestors]).ancestors).toEqual([
      'projects/3',
      'folders/9',
      'organizations/1',
    ]);
  });

  it('refuses parts of different assets and an empty list', () => {
    const other = ok({ ...CAMEL, name: '//storage.googleapis.com/b2' });
    expect(() => mergeAssetParts([resourcePart, other])).toThrow(/b2 is not/);
    expect(() => mergeAssetParts([])).toThrow(/no parts/);
  });
});
