import { datasetIamPolicy } from '../../shared/actions/bigquery-dataset-patch.js';
import type { Asset } from '../../shared/model/asset.js';
import { ANCESTORS, PROJECT_ID, PROJECT_NUMBER } from './twin-fixtures.js';

type Data = Record<string, unknown>;

/** The access list every dataset gets (the project groups), plus what a test adds. */
export const PROJECT_ACCESS = [
  { role: 'WRITER', specialGroup: 'projectWriters' },
  { role: 'OWNER', specialGroup: 'projectOwners' },
  { role: 'READER', specialGroup: 'projectReaders' },
];

/** A public dataset's access list: the project groups, an analyst group, and two public entries. */
export const PUBLIC_ACCESS = [
  ...PROJECT_ACCESS,
  { groupByEmail: 'data-analysts@example.com', role: 'READER' },
  { role: 'READER', specialGroup: 'allAuthenticatedUsers' },
  { iamMember: 'allUsers', role: 'READER' },
];

/**
 * A BigQuery dataset as CAI holds it (the v2 Dataset of examples/landing-zone) with the IAM policy its
 * access list makes (CAI's IAM_POLICY part of a dataset is that list as bindings). Public by default.
 */
export function datasetAsset(name: string, over: Data = {}): Asset {
  const data: Data = {
    access: PUBLIC_ACCESS,
    creationTime: '1712131975000',
    datasetReference: { datasetId: name, projectId: PROJECT_ID },
    description: 'Curated order facts for analytics',
    etag: 'Kp4U46dyTjFGJryJAFvhKQ==',
    id: `${PROJECT_ID}:${name}`,
    isCaseInsensitive: false,
    kind: 'bigquery#dataset',
    labels: { team: 'data' },
    lastModifiedTime: '1784025062000',
    location: 'US',
    maxTimeTravelHours: '168',
    selfLink: `https://bigquery.googleapis.com/bigquery/v2/projects/${PROJECT_ID}/datasets/${name}`,
    storageBillingModel: 'LOGICAL',
    type: 'DEFAULT',
    ...over,
  };
  return {
    name: `//bigquery.googleapis.com/projects/${PROJECT_ID}/datasets/${name}`,
    assetType: 'bigquery.googleapis.com/Dataset',
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v2',
      discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/bigquery/v2/rest',
      discoveryName: 'Dataset',
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      location: 'us',
      data,
    },
    iamPolicy: { ...datasetIamPolicy(data, PROJECT_ID), etag: 'BwZCT4vBxfs=' },
    updateTime: '2026-11-01T06:47:55.343181Z',
  };
}
