import { describe, it, expect } from '@jest/globals';
import { decodeFeedMessage, mergeAssetParts, parseExportRecord } from '../../../shared/contracts/cai.js';
import type { Asset } from '../../../shared/model/asset.js';

function ok(obj: unknown): Asset {
  const parsed = parseExportRecord(obj);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.asset;
}

const PERIMETER_NAME = '//accesscontextmanager.googleapis.com/accessPolicies/9/servicePerimeters/prod';
const LEVEL_NAME = '//accesscontextmanager.googleapis.com/accessPolicies/9/accessLevels/corp';

/** `gcloud asset export --content-type=access-policy`: proto field names, numeric enums in older dumps. */
const SNAKE_PERIMETER = {
  name: PERIMETER_NAME,
  asset_type: 'accesscontextmanager.googleapis.com/ServicePerimeter',
  ancestors: ['organizations/1'],
  service_perimeter: {
    name: 'accessPolicies/9/servicePerimeters/prod',
    title: 'prod',
    perimeter_type: 0,
    status: {
      resources: ['projects/111', 'projects/222'],
      restricted_services: ['storage.googleapis.com'],
      vpc_accessible_services: { enable_restriction: true, allowed_services: ['RESTRICTED-SERVICES'] },
    },
    use_explicit_dry_run_spec: false,
  },
  update_time: '2024-03-01T00:00:00Z',
};

const CAMEL_PERIMETER = {
  name: PERIMETER_NAME,
  assetType: 'accesscontextmanager.googleapis.com/ServicePerimeter',
  ancestors: ['organizations/1'],
  servicePerimeter: {
    name: 'accessPolicies/9/servicePerimeters/prod',
    title: 'prod',
    perimeterType: 'PERIMETER_TYPE_REGULAR',
    status: {
      resources: ['projects/111', 'projects/222'],
      restrictedServices: ['storage.googleapis.com'],
      vpcAccessibleServices: { enableRestriction: true, allowedServices: ['RESTRICTED-SERVICES'] },
    },
    useExplicitDryRunSpec: false,
  },
  updateTime: '2024-03-01T00:00:00Z',
};

const PERIMETER_MODEL = CAMEL_PERIMETER.servicePerimeter;

const SNAKE_LEVEL = {
  name: LEVEL_NAME,
  asset_type: 'accesscontextmanager.googleapis.com/AccessLevel',
  ancestors: ['organizations/1'],
  access_level: {
    name: 'accessPolicies/9/accessLevels/corp',
    title: 'corp',
    basic: {
      conditions: [{ ip_subnetworks: ['203.0.113.0/24'], regions: ['DE'] }],
      combining_function: 1,
    },
  },
};

const LEVEL_MODEL = {
  name: 'accessPolicies/9/accessLevels/corp',
  title: 'corp',
  basic: { conditions: [{ ipSubnetworks: ['203.0.113.0/24'], regions: ['DE'] }], combiningFunction: 'OR' },
};

describe('ACCESS_POLICY content: access levels and service perimeters', () => {
  it('maps a snake_case export perimeter into servicePerimeter, enums by name', () => {
    const asset = ok(SNAKE_PERIMETER);
    expect(asset.servicePerimeter).toEqual(PERIMETER_MODEL);
    expect(asset.accessPolicy).toBeUndefined();
    expect(asset.accessLevel).toBeUndefined();
  });

  it('reads the camelCase spelling the same way', () => {
    expect(ok(CAMEL_PERIMETER)).toEqual(ok(SNAKE_PERIMETER));
  });

  it('maps an access level in either spelling into accessLevel', () => {
    expect(ok(SNAKE_LEVEL).accessLevel).toEqual(LEVEL_MODEL);
    const camel = {
      name: LEVEL_NAME,
      assetType: 'accesscontextmanager.googleapis.com/AccessLevel',
      accessLevel: LEVEL_MODEL,
    };
    expect(ok(camel).accessLevel).toEqual(LEVEL_MODEL);
  });

  it('treats null (message objects) as absent', () => {
    const asset = ok({ ...CAMEL_PERIMETER, accessLevel: null, accessPolicy: null });
    expect(asset.accessLevel).toBeUndefined();
    expect(asset.accessPolicy).toBeUndefined();
    expect(asset.servicePerimeter).toEqual(PERIMETER_MODEL);
  });

  it('rejects a perimeter that is not an object', () => {
    const parsed = parseExportRecord({ ...SNAKE_PERIMETER, service_perimeter: 'prod' });
    expect(parsed).toMatchObject({ ok: false, reason: expect.stringMatching(/servicePerimeter/) });
  });

  it('decodes an ACCESS_POLICY feed message carrying a perimeter or a level', () => {
    for (const asset of [CAMEL_PERIMETER, { ...SNAKE_LEVEL, updateTime: '2024-03-01T00:00:00Z' }]) {
      const decoded = decodeFeedMessage(JSON.stringify({ asset }));
      expect(decoded).toMatchObject({
        kind: 'change',
        change: { kind: 'upsert', contentType: 'ACCESS_POLICY' },
      });
    }
    const decoded = decodeFeedMessage(JSON.stringify({ asset: CAMEL_PERIMETER }));
    if (decoded.kind !== 'change' || decoded.change.kind !== 'upsert') throw new Error('expected upsert');
    expect(decoded.change.asset.servicePerimeter).toEqual(PERIMETER_MODEL);
  });

  it('merges a perimeter part with a later one: the later wins', () => {
    const older = ok(SNAKE_PERIMETER);
    const newer = ok({
      ...CAMEL_PERIMETER,
      servicePerimeter: { ...PERIMETER_MODEL, status: { resources: ['projects/333'] } },
      updateTime: '2024-04-01T00:00:00Z',
    });
    expect(mergeAssetParts([newer, older]).servicePerimeter).toMatchObject({
      status: { resources: ['projects/333'] },
    });
  });
});
