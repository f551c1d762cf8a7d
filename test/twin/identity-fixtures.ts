import type { Asset, IamPolicy } from '../../shared/model/asset.js';

/**
 * CAI-shaped Resource Manager, Cloud KMS and Secret Manager assets as in examples/landing-zone (the export
 * holds projects in the v1 shape: lifecycleState, parent {type, id}, name = display name).
 */
export const ORG = '123456789012';
export const FOLDER = '519306284417';
export const PROJECT_NUMBER = '558120439716';
export const PROJECT_ID = 'acme-dev-web';
export const SECURITY_PROJECT = 'acme-shared-security';
export const SECURITY_NUMBER = '774902316004';
export const KEY_RING = `projects/${SECURITY_PROJECT}/locations/us-central1/keyRings/nonprod-keyring`;
export const CRYPTO_KEY = `${KEY_RING}/cryptoKeys/dev-app-secrets`;
export const SIGNING_KEY = `${KEY_RING}/cryptoKeys/release-signing`;
export const SECRET = `projects/${SECURITY_NUMBER}/secrets/db-password`;

const RM = '//cloudresourcemanager.googleapis.com';
const PROJECT_ANCESTORS = [`projects/${PROJECT_NUMBER}`, `folders/${FOLDER}`, `organizations/${ORG}`];
const SECURITY_ANCESTORS = [`projects/${SECURITY_NUMBER}`, 'folders/730418592046', `organizations/${ORG}`];

/** acme-dev-web's IAM policy (landing zone row 28), with a few more grants the actions must keep or remove. */
export function projectPolicy(over: Partial<IamPolicy> = {}): IamPolicy {
  return {
    version: 1,
    etag: 'BwbLyuW9/GY=',
    bindings: [
      {
        role: 'roles/compute.serviceAgent',
        members: [`serviceAccount:service-${PROJECT_NUMBER}@compute-system.iam.gserviceaccount.com`],
      },
      {
        role: 'roles/editor',
        members: [
          `serviceAccount:${PROJECT_NUMBER}@cloudservices.gserviceaccount.com`,
          `serviceAccount:ci-deployer@${PROJECT_ID}.iam.gserviceaccount.com`,
        ],
      },
      {
        role: 'roles/logging.logWriter',
        members: [`serviceAccount:dev-web-app@${PROJECT_ID}.iam.gserviceaccount.com`],
      },
      { role: 'roles/owner', members: ['group:gcp-org-admins@example.com'] },
      { role: 'roles/viewer', members: ['group:team-web@example.com'] },
    ],
    ...over,
  };
}

export function projectAsset(
  over: { data?: Record<string, unknown>; iamPolicy?: IamPolicy | null; number?: string; id?: string } = {},
): Asset {
  const number = over.number ?? PROJECT_NUMBER;
  const id = over.id ?? PROJECT_ID;
  const asset: Asset = {
    name: `${RM}/projects/${number}`,
    assetType: 'cloudresourcemanager.googleapis.com/Project',
    ancestors: [`projects/${number}`, ...PROJECT_ANCESTORS.slice(1)],
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://cloudresourcemanager.googleapis.com/$discovery/rest?version=v1',
      discoveryName: 'Project',
      parent: `${RM}/folders/${FOLDER}`,
      location: 'global',
      data: {
        createTime: '2024-03-11T08:47:13.926Z',
        labels: { env: 'dev', team: 'web' },
        lifecycleState: 'ACTIVE',
        name: id,
        parent: { id: FOLDER, type: 'folder' },
        projectId: id,
        projectNumber: number,
        ...over.data,
      },
    },
    updateTime: '2026-11-01T04:30:06.534472Z',
  };
  if (over.iamPolicy !== null) asset.iamPolicy = over.iamPolicy ?? projectPolicy();
  return asset;
}

export function folderAsset(iamPolicy: IamPolicy): Asset {
  return {
    name: `${RM}/folders/${FOLDER}`,
    assetType: 'cloudresourcemanager.googleapis.com/Folder',
    ancestors: [`folders/${FOLDER}`, `organizations/${ORG}`],
    resource: {
      version: 'v2',
      discoveryName: 'Folder',
      parent: `${RM}/organizations/${ORG}`,
      data: {
        createTime: '2024-02-12T15:04:02.871Z',
        displayName: 'non-prod',
        lifecycleState: 'ACTIVE',
        name: `folders/${FOLDER}`,
        parent: `organizations/${ORG}`,
      },
    },
    iamPolicy,
  };
}

export function organizationAsset(iamPolicy: IamPolicy): Asset {
  return {
    name: `${RM}/organizations/${ORG}`,
    assetType: 'cloudresourcemanager.googleapis.com/Organization',
    ancestors: [`organizations/${ORG}`],
    resource: {
      version: 'v1',
      discoveryName: 'Organization',
      data: {
        creationTime: '2019-06-18T14:09:31.285Z',
        displayName: 'example.com',
        lifecycleState: 'ACTIVE',
        name: `organizations/${ORG}`,
        owner: { directoryCustomerId: 'C03xk7d2q' },
      },
    },
    iamPolicy,
  };
}

/** dev-app-secrets (landing zone row 32): a symmetric key without rotation, unless `data` says otherwise. */
export function cryptoKeyAsset(
  over: { name?: string; data?: Record<string, unknown>; iamPolicy?: IamPolicy } = {},
): Asset {
  const name = over.name ?? CRYPTO_KEY;
  const asset: Asset = {
    name: `//cloudkms.googleapis.com/${name}`,
    assetType: 'cloudkms.googleapis.com/CryptoKey',
    ancestors: [...SECURITY_ANCESTORS],
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://cloudkms.googleapis.com/$discovery/rest',
      discoveryName: 'CryptoKey',
      parent: `//cloudkms.googleapis.com/${KEY_RING}`,
      location: 'us-central1',
      data: {
        createTime: '2025-06-03T09:12:44.120331459Z',
        destroyScheduledDuration: '2592000s',
        name,
        primary: {
          algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION',
          createTime: '2025-06-03T09:12:44.120331459Z',
          generateTime: '2025-06-03T09:12:44.120331459Z',
          name: `${name}/cryptoKeyVersions/1`,
          protectionLevel: 'SOFTWARE',
          state: 'ENABLED',
        },
        purpose: 'ENCRYPT_DECRYPT',
        versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: 'SOFTWARE' },
        ...over.data,
      },
    },
    updateTime: '2026-11-01T05:53:10.194000Z',
  };
  if (over.iamPolicy) asset.iamPolicy = over.iamPolicy;
  return asset;
}

/** release-signing (landing zone row 33): an asymmetric signing key, which cannot rotate automatically. */
export function signingKeyAsset(): Asset {
  return cryptoKeyAsset({
    name: SIGNING_KEY,
    data: {
      name: SIGNING_KEY,
      purpose: 'ASYMMETRIC_SIGN',
      primary: undefined,
      versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256', protectionLevel: 'HSM' },
    },
  });
}

export function keyRingAsset(iamPolicy?: IamPolicy): Asset {
  const asset: Asset = {
    name: `//cloudkms.googleapis.com/${KEY_RING}`,
    assetType: 'cloudkms.googleapis.com/KeyRing',
    ancestors: [...SECURITY_ANCESTORS],
    resource: {
      version: 'v1',
      discoveryName: 'KeyRing',
      parent: `//cloudresourcemanager.googleapis.com/projects/${SECURITY_NUMBER}`,
      location: 'us-central1',
      data: { createTime: '2024-02-14T10:05:21.448905117Z', name: KEY_RING },
    },
  };
  if (iamPolicy) asset.iamPolicy = iamPolicy;
  return asset;
}

export function secretAsset(iamPolicy?: IamPolicy): Asset {
  const asset: Asset = {
    name: `//secretmanager.googleapis.com/${SECRET}`,
    assetType: 'secretmanager.googleapis.com/Secret',
    ancestors: [...SECURITY_ANCESTORS],
    resource: {
      version: 'v1',
      discoveryName: 'Secret',
      parent: `//cloudresourcemanager.googleapis.com/projects/${SECURITY_NUMBER}`,
      data: {
        createTime: '2025-01-20T11:02:33.404211Z',
        etag: '"161e5c3a8b1f60"',
        name: SECRET,
        replication: { automatic: {} },
      },
    },
  };
  if (iamPolicy) asset.iamPolicy = iamPolicy;
  return asset;
}

/** A public KMS / Secret Manager policy with a conditional binding and a service account to keep. */
export function publicPolicy(role: string, viewerRole: string): IamPolicy {
  return {
    version: 3,
    etag: 'BwYPGokQxSI=',
    bindings: [
      {
        role,
        members: [
          'allUsers',
          `serviceAccount:service-${SECURITY_NUMBER}@gcp-sa-cloud-sql.iam.gserviceaccount.com`,
        ],
      },
      {
        role: viewerRole,
        members: ['allAuthenticatedUsers', 'group:gcp-security@example.com'],
        condition: { title: 'until-2030', expression: 'request.time < timestamp("2030-01-01T00:00:00Z")' },
      },
      { role: 'roles/owner', members: ['allAuthenticatedUsers'] },
    ],
  };
}
