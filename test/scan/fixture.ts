import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../../shared/util/project-root.js';

/*
 * A small organization for the scan tests, written as a real export is: RESOURCE content in one file,
 * IAM_POLICY content in another, the VPC-SC perimeter in a third. The policy folder is a temp copy of the
 * catalog's first three policies plus policies written here for ancestry, perimeters and team rules, so
 * the tests do not move when the catalog grows.
 */

export const REPO = projectRoot();
export const NOW = '2026-06-01T00:00:00Z';
const ORG = 'organizations/1';

function asset(name: string, type: string, ancestors: string[], part: Record<string, unknown>) {
  return { name, asset_type: type, ancestors, ...part, update_time: '2026-05-01T00:00:00Z' };
}

const bucket = (id: string, project: string, data: Record<string, unknown> = {}) =>
  asset(`//storage.googleapis.com/${id}`, 'storage.googleapis.com/Bucket', [project, 'folders/2', ORG], {
    resource: {
      version: 'v1',
      discovery_name: 'Bucket',
      location: 'us-central1',
      data: {
        name: id,
        iamConfiguration: {
          uniformBucketLevelAccess: { enabled: true },
          publicAccessPrevention: 'inherited',
        },
        ...data,
      },
    },
  });

const bucketIam = (id: string, project: string, members: string[]) =>
  asset(`//storage.googleapis.com/${id}`, 'storage.googleapis.com/Bucket', [project, 'folders/2', ORG], {
    iam_policy: { bindings: [{ role: 'roles/storage.objectViewer', members }] },
  });

const project = (n: string, ancestors: string[]) =>
  asset(
    `//cloudresourcemanager.googleapis.com/projects/${n}`,
    'cloudresourcemanager.googleapis.com/Project',
    [`projects/${n}`, ...ancestors],
    {
      resource: { version: 'v1', discovery_name: 'Project', data: { projectNumber: n, projectId: `p-${n}` } },
    },
  );

export const RESOURCES = [
  asset(
    `//cloudresourcemanager.googleapis.com/${ORG}`,
    'cloudresourcemanager.googleapis.com/Organization',
    [ORG],
    {
      resource: { version: 'v1', discovery_name: 'Organization', data: { name: ORG } },
    },
  ),
  asset(
    '//cloudresourcemanager.googleapis.com/folders/2',
    'cloudresourcemanager.googleapis.com/Folder',
    ['folders/2', ORG],
    {
      resource: { version: 'v2', discovery_name: 'Folder', data: { name: 'folders/2' } },
    },
  ),
  project('10', ['folders/2', ORG]),
  // Under an organization whose IAM policy (and audit config) is not in the export.
  project('20', ['organizations/2']),
  bucket('public-b', 'projects/10'),
  bucket('ok-b', 'projects/10'),
  bucket('legacy-b', 'projects/10', { iamConfiguration: { uniformBucketLevelAccess: { enabled: false } } }),
  bucket('exempt-b', 'projects/10', {
    iamConfiguration: { uniformBucketLevelAccess: { enabled: false } },
    labels: { 'warden-exempt': 'all' },
  }),
  bucket('team-b', 'projects/20'),
  asset(
    '//compute.googleapis.com/projects/p-10/global/firewalls/fw-ssh',
    'compute.googleapis.com/Firewall',
    ['projects/10', 'folders/2', ORG],
    {
      resource: {
        version: 'v1',
        discovery_name: 'Firewall',
        data: {
          name: 'fw-ssh',
          direction: 'INGRESS',
          sourceRanges: ['0.0.0.0/0'],
          allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
        },
      },
    },
  ),
];

export const IAM_POLICIES = [
  asset(
    `//cloudresourcemanager.googleapis.com/${ORG}`,
    'cloudresourcemanager.googleapis.com/Organization',
    [ORG],
    {
      iam_policy: {
        bindings: [],
        audit_configs: [
          { service: 'allServices', audit_log_configs: [{ log_type: 'DATA_READ' }, { log_type: 2 }] },
        ],
      },
    },
  ),
  bucketIam('public-b', 'projects/10', ['allUsers']),
  bucketIam('ok-b', 'projects/10', ['group:g@example.com']),
  // No RESOURCE part anywhere: evaluated at the end on its IAM policy alone.
  bucketIam('iam-only-b', 'projects/10', ['allAuthenticatedUsers']),
];

export const PERIMETER = asset(
  '//accesscontextmanager.googleapis.com/accessPolicies/9/servicePerimeters/main',
  'accesscontextmanager.googleapis.com/ServicePerimeter',
  [ORG],
  {
    service_perimeter: {
      name: 'accessPolicies/9/servicePerimeters/main',
      status: { resources: ['projects/10'] },
    },
  },
);

export const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

const EXTRA_POLICIES: Record<string, string> = {
  'operations/audit-logs-not-configured.yaml': `
id: audit-logs-not-configured
title: Data Access audit logs are not configured for all services on the project or above
layer: operations
category: compliance
severity: medium
assetTypes: [cloudresourcemanager.googleapis.com/Project]
condition: >-
  !iamPolicy.?auditConfigs.orValue([]).exists(c, c.service == "allServices")
  && !ancestry.exists(a, a.iamPolicy.?auditConfigs.orValue([]).exists(c, c.service == "allServices"))
remediation: { recommendation: "Enable Data Access audit logs for allServices at the organization." }
references: { cis-gcp-5.0: ["2.1"] }
`,
  'data/bucket-outside-perimeter.yaml': `
id: bucket-outside-perimeter
title: Bucket is in a project outside every VPC Service Controls perimeter
layer: data
category: security
severity: low
assetTypes: [storage.googleapis.com/Bucket]
condition: perimeters.known && !(asset.project in perimeters.projects)
evidence: [asset.project]
remediation: { recommendation: "Add the project to a service perimeter that restricts storage." }
`,
  'teams/web/team.yaml': `
team: web
scope: [projects/20]
owners: [web@example.com]
`,
  'teams/web/web-bucket-owner-label.yaml': `
id: web-bucket-owner-label
title: Web team buckets carry an owner label
layer: operations
category: compliance
severity: low
assetTypes: [storage.googleapis.com/Bucket]
condition: '!("owner" in asset.labels)'
remediation: { recommendation: "Label the bucket with its owner." }
`,
  'exceptions.yaml': `
exceptions:
  - resource: "//storage.googleapis.com/legacy-*"
    policies: [storage-bucket-uniform-access-disabled]
    owner: data-team@example.com
    reason: legacy exports migrate to uniform access in Q3
    expires: "2026-09-30"
  - resource: "//compute.googleapis.com/projects/p-10/global/firewalls/*"
    policies: [all]
    owner: net-team@example.com
    reason: vendor access during the 2025 migration
    expires: "2026-01-31"
`,
};

export async function policyDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'warden-scan-policies-'));
  for (const f of [
    'data/storage-bucket-public.yaml',
    'data/storage-bucket-uniform-access-disabled.yaml',
    'network/firewall-ssh-rdp-open-to-internet.yaml',
  ]) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await copyFile(path.join(REPO, 'policies', f), path.join(dir, f));
  }
  for (const [f, text] of Object.entries(EXTRA_POLICIES)) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), text.trimStart());
  }
  return dir;
}

/** The inventory: resources (gzipped NDJSON), IAM policies (a JSON array), optionally the perimeter. */
export async function inventoryDir(opts: { perimeter: boolean }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'warden-scan-inventory-'));
  await writeFile(path.join(dir, 'resources.ndjson.gz'), gzipSync(ndjson(RESOURCES)));
  await writeFile(path.join(dir, 'iam-policies.json'), JSON.stringify(IAM_POLICIES, null, 1));
  if (opts.perimeter) await writeFile(path.join(dir, 'access-policies.ndjson'), ndjson([PERIMETER]));
  return dir;
}
