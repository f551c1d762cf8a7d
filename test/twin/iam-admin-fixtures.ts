import type { Asset } from '../../shared/model/asset.js';
import { ANCESTORS, PROJECT_ID } from './twin-fixtures.js';

export const SA_EMAIL = `ci-deployer@${PROJECT_ID}.iam.gserviceaccount.com`;
export const SA_UNIQUE_ID = '112233445566778899001';
export const KEY_ID = '1f0c3e9a7b2d4c6e8f0a1b2c3d4e5f6a7b8c9d0e';
/** The key's API name as keys.get returns it: project id and email. */
export const KEY_NAME = `projects/${PROJECT_ID}/serviceAccounts/${SA_EMAIL}/keys/${KEY_ID}`;
export const KEY_PATH = `/v1/${KEY_NAME}`;

/**
 * A user-managed key as CAI exports it (iam.googleapis.com/ServiceAccountKey): the asset named by the
 * account's unique id, the data by its email, the REST resource without `disabled` (proto3 JSON leaves a
 * false boolean out). Created 2025-10-01, so older than 90 days at the twin's clock (2026-03-01).
 */
export function serviceAccountKeyAsset(over: Record<string, unknown> = {}, keyId = KEY_ID): Asset {
  return {
    name: `//iam.googleapis.com/projects/${PROJECT_ID}/serviceAccounts/${SA_UNIQUE_ID}/keys/${keyId}`,
    assetType: 'iam.googleapis.com/ServiceAccountKey',
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://iam.googleapis.com/$discovery/rest',
      discoveryName: 'ServiceAccountKey',
      parent: `//iam.googleapis.com/projects/${PROJECT_ID}/serviceAccounts/${SA_UNIQUE_ID}`,
      data: {
        name: `projects/${PROJECT_ID}/serviceAccounts/${SA_EMAIL}/keys/${keyId}`,
        keyAlgorithm: 'KEY_ALG_RSA_2048',
        keyOrigin: 'GOOGLE_PROVIDED',
        keyType: 'USER_MANAGED',
        privateKeyType: 'TYPE_GOOGLE_CREDENTIALS_FILE',
        publicKeyData: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==',
        validAfterTime: '2025-10-01T08:00:00Z',
        validBeforeTime: '9999-12-31T23:59:59Z',
        ...over,
      },
    },
    updateTime: '2025-10-01T08:00:01.000000Z',
  };
}
