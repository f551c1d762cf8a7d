#!/usr/bin/env node
// Generates the example landing zone: a Cloud Asset Inventory export of the small organization
// example.com, as `gcloud asset export --output-path=gs://…` writes it (one asset per line, snake_case
// envelope, resource.data in the REST API's own camelCase).
//
//   node examples/landing-zone/generate.mjs          writes resources.ndjson and iam-policies.ndjson
//   node examples/landing-zone/generate.mjs --check  exits 1 if the files on disk differ from the generator
//
// Everything is deterministic: ids, fingerprints and etags are derived from names with SHA-256, and all
// timestamps are fixed. Plain Node ESM, no dependencies. The planted problems are listed in README.md.

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------------
// Deterministic helpers
// ---------------------------------------------------------------------------------------------------

const sha = (s) => createHash('sha256').update(s).digest();

/** An n-digit decimal string without a leading zero, derived from the seed. */
function digits(seed, n) {
  const big = BigInt('0x' + sha('id:' + seed).toString('hex'));
  const min = 10n ** BigInt(n - 1);
  return (min + (big % (9n * min))).toString();
}

/** Six lowercase alphanumerics, like the suffix of a Cloud SQL service agent. */
const shortId = (seed) =>
  [...sha('short:' + seed).subarray(0, 6)]
    .map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36])
    .join('');

const b64 = (bytes) => Buffer.from(bytes).toString('base64');
/** Compute Engine fingerprints are 8 opaque bytes, base64. */
const fingerprint = (seed) => b64(sha('fp:' + seed).subarray(0, 8));
/** IAM policy etags are 8 bytes whose first two encode a timestamp epoch ("BwY…" for recent policies). */
const iamEtag = (seed) => b64([0x07, 0x06, ...sha('etag:' + seed).subarray(0, 6)]);
/** Cloud Storage bucket etags are the protobuf encoding of the metageneration: CAE= is 1, CAI= is 2. */
const bucketEtag = (metageneration) => b64([0x08, metageneration]);
/** labelFingerprint of an empty label set, as Compute Engine returns it. */
const EMPTY_LABEL_FP = '42WmSpB8rSM=';
const labelFingerprint = (labels) =>
  Object.keys(labels).length === 0 ? EMPTY_LABEL_FP : fingerprint('labels:' + JSON.stringify(labels));

/** Export day: every asset's update_time falls on it, before 09:00 UTC. */
const EXPORT_DAY = '2026-11-01';
function updateTime(seed) {
  const b = sha('ut:' + seed);
  const secs = b.readUInt32BE(0) % (8 * 3600);
  const micros = b.readUInt32BE(4) % 1_000_000;
  const hh = String(Math.floor(secs / 3600)).padStart(2, '0');
  const mm = String(Math.floor((secs % 3600) / 60)).padStart(2, '0');
  const ss = String(secs % 60).padStart(2, '0');
  return `${EXPORT_DAY}T${hh}:${mm}:${ss}.${String(micros).padStart(6, '0')}Z`;
}

/** Compute Engine style timestamp (Pacific offset) from an ISO date-time without zone. */
const gceTime = (local) => `${local}-07:00`;

function addDays(isoZ, days) {
  const d = new Date(isoZ);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString();
}

/** Sort object keys recursively (CAI data is a protobuf Struct; sorted keys keep the files diffable). */
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------
// The organization
// ---------------------------------------------------------------------------------------------------

const ORG = { number: '123456789012', domain: 'example.com', customerId: 'C03xk7d2q' };
const ORG_ANCESTOR = `organizations/${ORG.number}`;
const CRM = '//cloudresourcemanager.googleapis.com';

const FOLDERS = {
  prod: { number: '284715930162', displayName: 'prod', created: '2024-02-12T15:03:27.114Z' },
  'non-prod': { number: '519306284417', displayName: 'non-prod', created: '2024-02-12T15:04:02.871Z' },
  shared: { number: '730418592046', displayName: 'shared', created: '2024-02-12T15:04:40.392Z' },
};

const PROJECTS = {
  'acme-prod-web': {
    number: '301846275019',
    folder: 'prod',
    displayName: 'acme-prod-web',
    labels: { env: 'prod', team: 'web', 'cost-center': 'cc-1001' },
    created: '2024-03-04T10:21:44.310Z',
  },
  'acme-prod-data': {
    number: '301846275287',
    folder: 'prod',
    displayName: 'acme-prod-data',
    labels: { env: 'prod', team: 'data', 'cost-center': 'cc-2001' },
    created: '2024-03-04T10:24:09.502Z',
  },
  'acme-dev-web': {
    number: '558120439716',
    folder: 'non-prod',
    displayName: 'acme-dev-web',
    // PLANTED: no cost-center label.
    labels: { env: 'dev', team: 'web' },
    created: '2024-03-11T08:47:13.926Z',
  },
  'acme-dev-data': {
    number: '558120440032',
    folder: 'non-prod',
    displayName: 'acme-dev-data',
    labels: { env: 'dev', team: 'data', 'cost-center': 'cc-2001' },
    created: '2024-03-11T08:49:51.207Z',
  },
  'acme-shared-net': {
    number: '774902315648',
    folder: 'shared',
    displayName: 'acme-shared-net',
    labels: { env: 'prod', team: 'platform', 'cost-center': 'cc-9000' },
    created: '2024-02-12T15:30:18.640Z',
  },
  'acme-shared-security': {
    number: '774902316004',
    folder: 'shared',
    displayName: 'acme-shared-security',
    labels: { env: 'prod', team: 'security', 'cost-center': 'cc-9100' },
    created: '2024-02-12T15:32:55.018Z',
  },
};

const folderAncestors = (folder) => [`folders/${FOLDERS[folder].number}`, ORG_ANCESTOR];
const projectAncestors = (projectId) => {
  const p = PROJECTS[projectId];
  return [`projects/${p.number}`, ...folderAncestors(p.folder)];
};
const projectParent = (projectId) => `${CRM}/projects/${PROJECTS[projectId].number}`;
const num = (projectId) => PROJECTS[projectId].number;

// Service agents and well-known accounts.
const defaultComputeSa = (projectId) => `${num(projectId)}-compute@developer.gserviceaccount.com`;
const saEmail = (accountId, projectId) => `${accountId}@${projectId}.iam.gserviceaccount.com`;
const LOG_WRITER = `o${ORG.number}-482913@gcp-sa-logging.iam.gserviceaccount.com`;
const WARDEN_SA = saEmail('warden-engine', 'acme-shared-security');

// Discovery documents, as CAI names them in resource.version / discovery_document_uri.
const DISCOVERY = {
  crmV1: ['v1', 'https://cloudresourcemanager.googleapis.com/$discovery/rest?version=v1'],
  crmV2: ['v2', 'https://cloudresourcemanager.googleapis.com/$discovery/rest?version=v2'],
  compute: ['v1', 'https://www.googleapis.com/discovery/v1/apis/compute/v1/rest'],
  storage: ['v1', 'https://www.googleapis.com/discovery/v1/apis/storage/v1/rest'],
  sql: ['v1beta4', 'https://www.googleapis.com/discovery/v1/apis/sqladmin/v1beta4/rest'],
  iam: ['v1', 'https://iam.googleapis.com/$discovery/rest'],
  kms: ['v1', 'https://cloudkms.googleapis.com/$discovery/rest'],
  bigquery: ['v2', 'https://www.googleapis.com/discovery/v1/apis/bigquery/v2/rest'],
  container: ['v1', 'https://container.googleapis.com/$discovery/rest'],
  logging: ['v2', 'https://logging.googleapis.com/$discovery/rest'],
};

const COMPUTE = 'https://www.googleapis.com/compute/v1/projects';

// ---------------------------------------------------------------------------------------------------
// Record builders
// ---------------------------------------------------------------------------------------------------

const resources = [];
const iamPolicies = [];

function addResource({ name, assetType, discovery, discoveryName, parent, data, location, ancestors }) {
  const [version, uri] = DISCOVERY[discovery];
  const resource = { version, discovery_document_uri: uri, discovery_name: discoveryName };
  if (parent) resource.parent = parent;
  resource.data = sortKeys(data);
  if (location) resource.location = location;
  resources.push({ name, asset_type: assetType, resource, ancestors, update_time: updateTime(name) });
}

/** Export log types are the google.iam.v1.AuditLogConfig.LogType enum numbers, as in real exports. */
const LOG_TYPE = { ADMIN_READ: 1, DATA_WRITE: 2, DATA_READ: 3 };

function addIamPolicy({ name, assetType, ancestors, bindings, auditConfigs }) {
  // IAM keeps one binding per (role, condition): grants of the same role are merged, members sorted.
  const merged = new Map();
  for (const b of bindings) {
    const key = b.role + '|' + JSON.stringify(b.condition ?? null);
    const prev = merged.get(key);
    if (prev) prev.members = [...new Set([...prev.members, ...b.members])];
    else
      merged.set(key, {
        role: b.role,
        members: [...b.members],
        ...(b.condition ? { condition: b.condition } : {}),
      });
  }
  const sorted = [...merged.values()]
    .map((b) => ({ ...b, members: [...b.members].sort() }))
    .sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  const policy = {
    version: sorted.some((b) => b.condition) ? 3 : 1,
    etag: iamEtag(name),
    bindings: sorted,
  };
  if (auditConfigs) {
    policy.audit_configs = auditConfigs.map((c) => ({
      service: c.service,
      audit_log_configs: c.logTypes.map((t) => {
        const cfg = { log_type: LOG_TYPE[t] };
        if (c.exempted?.[t]) cfg.exempted_members = c.exempted[t];
        return cfg;
      }),
    }));
  }
  iamPolicies.push({
    name,
    asset_type: assetType,
    iam_policy: policy,
    ancestors,
    update_time: updateTime('iam:' + name),
  });
}

// ---------------------------------------------------------------------------------------------------
// Organization, folders, projects
// ---------------------------------------------------------------------------------------------------

function buildHierarchy() {
  const orgName = `${CRM}/organizations/${ORG.number}`;
  addResource({
    name: orgName,
    assetType: 'cloudresourcemanager.googleapis.com/Organization',
    discovery: 'crmV1',
    discoveryName: 'Organization',
    data: {
      creationTime: '2019-06-18T14:09:31.285Z',
      displayName: ORG.domain,
      lifecycleState: 'ACTIVE',
      name: `organizations/${ORG.number}`,
      owner: { directoryCustomerId: ORG.customerId },
    },
    location: 'global',
    ancestors: [ORG_ANCESTOR],
  });
  addIamPolicy({
    name: orgName,
    assetType: 'cloudresourcemanager.googleapis.com/Organization',
    ancestors: [ORG_ANCESTOR],
    bindings: [
      { role: 'roles/resourcemanager.organizationAdmin', members: ['group:gcp-org-admins@example.com'] },
      { role: 'roles/resourcemanager.projectCreator', members: ['group:gcp-org-admins@example.com'] },
      { role: 'roles/orgpolicy.policyAdmin', members: ['group:gcp-org-admins@example.com'] },
      { role: 'roles/billing.admin', members: ['group:gcp-billing-admins@example.com'] },
      { role: 'roles/compute.xpnAdmin', members: ['group:gcp-netops@example.com'] },
      {
        role: 'roles/iam.securityReviewer',
        members: ['group:gcp-security@example.com', `serviceAccount:${WARDEN_SA}`],
      },
      { role: 'roles/cloudasset.viewer', members: [`serviceAccount:${WARDEN_SA}`] },
      { role: 'roles/securitycenter.findingsEditor', members: [`serviceAccount:${WARDEN_SA}`] },
      {
        role: `organizations/${ORG.number}/roles/wardenRemediator`,
        members: [`serviceAccount:${WARDEN_SA}`],
      },
      { role: 'roles/logging.configWriter', members: ['group:gcp-security@example.com'] },
    ],
    // The organization has SOME Data Access logging (Cloud Storage only) and ADMIN_READ for everything.
    auditConfigs: [
      { service: 'allServices', logTypes: ['ADMIN_READ'] },
      { service: 'storage.googleapis.com', logTypes: ['DATA_READ', 'DATA_WRITE'] },
    ],
  });

  // Organization-level aggregated sink with no filter (every log entry of the org, CIS 2.3) to the
  // bucket with a locked retention policy (CIS 2.4). An empty filter is omitted from the REST JSON.
  addResource({
    name: `//logging.googleapis.com/organizations/${ORG.number}/sinks/org-log-archive`,
    assetType: 'logging.googleapis.com/LogSink',
    discovery: 'logging',
    discoveryName: 'LogSink',
    parent: orgName,
    data: {
      createTime: '2024-02-13T09:12:40.551204Z',
      destination: 'storage.googleapis.com/acme-org-audit-logs',
      includeChildren: true,
      name: 'org-log-archive',
      updateTime: '2024-02-13T09:12:40.551204Z',
      writerIdentity: `serviceAccount:${LOG_WRITER}`,
    },
    location: 'global',
    ancestors: [ORG_ANCESTOR],
  });

  const folderIam = {
    prod: {
      bindings: [
        { role: 'roles/resourcemanager.folderViewer', members: ['group:eng-all@example.com'] },
        { role: 'roles/viewer', members: ['group:prod-oncall@example.com'] },
      ],
      auditConfigs: [{ service: 'allServices', logTypes: ['DATA_READ', 'DATA_WRITE'] }],
    },
    'non-prod': {
      bindings: [
        { role: 'roles/resourcemanager.folderViewer', members: ['group:eng-all@example.com'] },
        { role: 'roles/editor', members: ['group:eng-all@example.com'] },
      ],
    },
    shared: {
      bindings: [
        { role: 'roles/resourcemanager.folderViewer', members: ['group:eng-all@example.com'] },
        { role: 'roles/viewer', members: ['group:gcp-netops@example.com', 'group:gcp-security@example.com'] },
      ],
      auditConfigs: [{ service: 'allServices', logTypes: ['DATA_READ', 'DATA_WRITE'] }],
    },
  };

  for (const [key, f] of Object.entries(FOLDERS)) {
    const name = `${CRM}/folders/${f.number}`;
    addResource({
      name,
      assetType: 'cloudresourcemanager.googleapis.com/Folder',
      discovery: 'crmV2',
      discoveryName: 'Folder',
      parent: orgName,
      data: {
        createTime: f.created,
        displayName: f.displayName,
        lifecycleState: 'ACTIVE',
        name: `folders/${f.number}`,
        parent: `organizations/${ORG.number}`,
      },
      location: 'global',
      ancestors: folderAncestors(key),
    });
    addIamPolicy({
      name,
      assetType: 'cloudresourcemanager.googleapis.com/Folder',
      ancestors: folderAncestors(key),
      ...folderIam[key],
    });
  }

  for (const [projectId, p] of Object.entries(PROJECTS)) {
    addResource({
      name: `${CRM}/projects/${p.number}`,
      assetType: 'cloudresourcemanager.googleapis.com/Project',
      discovery: 'crmV1',
      discoveryName: 'Project',
      parent: `${CRM}/folders/${FOLDERS[p.folder].number}`,
      data: {
        createTime: p.created,
        labels: p.labels,
        lifecycleState: 'ACTIVE',
        name: p.displayName,
        parent: { id: FOLDERS[p.folder].number, type: 'folder' },
        projectId,
        projectNumber: p.number,
      },
      location: 'global',
      ancestors: projectAncestors(projectId),
    });
  }
}

/** Project IAM policies (the project-level grants; inherited grants live on the folder/org policies). */
function buildProjectIam() {
  const base = (projectId, extra, services = []) => {
    const n = num(projectId);
    const agents = {
      compute: {
        role: 'roles/compute.serviceAgent',
        member: `service-${n}@compute-system.iam.gserviceaccount.com`,
      },
      container: {
        role: 'roles/container.serviceAgent',
        member: `service-${n}@container-engine-robot.iam.gserviceaccount.com`,
      },
      sql: {
        role: 'roles/cloudsql.serviceAgent',
        member: `service-${n}@gcp-sa-cloud-sql.iam.gserviceaccount.com`,
      },
    };
    return [
      { role: 'roles/owner', members: ['group:gcp-org-admins@example.com'] },
      // The Google APIs Service Agent holds roles/editor in every project by default. It is Google-managed
      // (…@cloudservices.gserviceaccount.com), not a user-managed service account: a DECOY for CIS 1.6.
      { role: 'roles/editor', members: [`serviceAccount:${n}@cloudservices.gserviceaccount.com`] },
      ...services.map((s) => ({ role: agents[s].role, members: [`serviceAccount:${agents[s].member}`] })),
      ...extra,
    ];
  };

  const policies = {
    'acme-prod-web': base(
      'acme-prod-web',
      [
        { role: 'roles/viewer', members: ['group:team-web@example.com'] },
        { role: 'roles/container.developer', members: ['group:team-web@example.com'] },
        {
          role: 'roles/logging.logWriter',
          members: [
            `serviceAccount:${saEmail('web-app', 'acme-prod-web')}`,
            `serviceAccount:${saEmail('gke-nodes', 'acme-prod-web')}`,
          ],
        },
        {
          role: 'roles/monitoring.metricWriter',
          members: [
            `serviceAccount:${saEmail('web-app', 'acme-prod-web')}`,
            `serviceAccount:${saEmail('gke-nodes', 'acme-prod-web')}`,
          ],
        },
        {
          role: 'roles/container.defaultNodeServiceAccount',
          members: [`serviceAccount:${saEmail('gke-nodes', 'acme-prod-web')}`],
        },
        // A time-boxed on-call elevation: an IAM Condition, so this policy is version 3.
        {
          role: 'roles/compute.instanceAdmin.v1',
          members: ['group:prod-oncall@example.com'],
          condition: {
            title: 'oncall-elevation-INC-4412',
            description: 'Temporary elevation for incident INC-4412',
            expression: 'request.time < timestamp("2026-11-15T00:00:00Z")',
          },
        },
      ],
      ['compute', 'container'],
    ),
    'acme-prod-data': base(
      'acme-prod-data',
      [
        { role: 'roles/viewer', members: ['group:team-data@example.com'] },
        {
          role: 'roles/bigquery.jobUser',
          members: [`serviceAccount:${saEmail('etl-runner', 'acme-prod-data')}`],
        },
        {
          role: 'roles/cloudsql.client',
          members: [`serviceAccount:${saEmail('etl-runner', 'acme-prod-data')}`],
        },
        {
          role: 'roles/logging.logWriter',
          members: [`serviceAccount:${saEmail('etl-runner', 'acme-prod-data')}`],
        },
      ],
      ['compute', 'sql'],
    ),
    'acme-dev-web': base(
      'acme-dev-web',
      [
        { role: 'roles/viewer', members: ['group:team-web@example.com'] },
        // PLANTED: a user-managed service account with roles/editor at the project level (CIS 1.6).
        { role: 'roles/editor', members: [`serviceAccount:${saEmail('ci-deployer', 'acme-dev-web')}`] },
        {
          role: 'roles/logging.logWriter',
          members: [`serviceAccount:${saEmail('dev-web-app', 'acme-dev-web')}`],
        },
      ],
      ['compute'],
    ),
    'acme-dev-data': base(
      'acme-dev-data',
      [
        { role: 'roles/viewer', members: ['group:team-data@example.com'] },
        { role: 'roles/bigquery.user', members: ['group:data-analysts@example.com'] },
        {
          role: 'roles/cloudsql.client',
          members: [`serviceAccount:${saEmail('reporting', 'acme-dev-data')}`],
        },
      ],
      ['sql'],
    ),
    'acme-shared-net': base(
      'acme-shared-net',
      [
        { role: 'roles/viewer', members: ['group:gcp-netops@example.com'] },
        // Shared VPC: the service project acme-prod-data uses the host network.
        {
          role: 'roles/compute.networkUser',
          members: [
            `serviceAccount:${num('acme-prod-data')}@cloudservices.gserviceaccount.com`,
            `serviceAccount:${saEmail('etl-runner', 'acme-prod-data')}`,
            `serviceAccount:service-${num('acme-prod-data')}@compute-system.iam.gserviceaccount.com`,
          ],
        },
      ],
      ['compute'],
    ),
    'acme-shared-security': base('acme-shared-security', [
      { role: 'roles/viewer', members: ['group:gcp-security@example.com'] },
      { role: 'roles/cloudkms.viewer', members: ['group:gcp-security@example.com'] },
      { role: 'roles/bigquery.dataViewer', members: ['group:gcp-security@example.com'] },
    ]),
  };

  // Data Access audit logs set directly on projects (effective config = union over the ancestors):
  //   prod folder and shared folder: allServices DATA_READ + DATA_WRITE
  //   acme-dev-data: sets its own allServices DATA_READ + DATA_WRITE
  //   acme-dev-web: nothing, so only the org's storage-only config applies  <- PLANTED (CIS 2.1)
  const audit = {
    'acme-dev-data': [{ service: 'allServices', logTypes: ['DATA_READ', 'DATA_WRITE'] }],
  };

  for (const [projectId, bindings] of Object.entries(policies)) {
    addIamPolicy({
      name: `${CRM}/projects/${num(projectId)}`,
      assetType: 'cloudresourcemanager.googleapis.com/Project',
      ancestors: projectAncestors(projectId),
      bindings,
      auditConfigs: audit[projectId],
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Compute: project metadata, networks, subnetworks, firewalls
// ---------------------------------------------------------------------------------------------------

function computeProject(projectId, { created, xpn = 'UNSPECIFIED_XPN_PROJECT_STATUS' }) {
  const items = [{ key: 'enable-oslogin', value: 'TRUE' }];
  addResource({
    name: `//compute.googleapis.com/projects/${projectId}`,
    assetType: 'compute.googleapis.com/Project',
    discovery: 'compute',
    discoveryName: 'Project',
    parent: projectParent(projectId),
    data: {
      commonInstanceMetadata: { fingerprint: fingerprint(`cim:${projectId}`), items },
      creationTimestamp: gceTime(created),
      defaultNetworkTier: 'PREMIUM',
      defaultServiceAccount: defaultComputeSa(projectId),
      id: digits(`compute-project:${projectId}`, 19),
      name: projectId,
      selfLink: `${COMPUTE}/${projectId}`,
      xpnProjectStatus: xpn,
    },
    location: 'global',
    ancestors: projectAncestors(projectId),
  });
}

function network(projectId, name, { subnets, created, description = '', peerings }) {
  const data = {
    autoCreateSubnetworks: false,
    creationTimestamp: gceTime(created),
    description,
    id: digits(`network:${projectId}/${name}`, 19),
    mtu: 1460,
    name,
    networkFirewallPolicyEnforcementOrder: 'AFTER_CLASSIC_FIREWALL',
    routingConfig: { routingMode: 'GLOBAL' },
    selfLink: `${COMPUTE}/${projectId}/global/networks/${name}`,
    selfLinkWithId: `${COMPUTE}/${projectId}/global/networks/${digits(`network:${projectId}/${name}`, 19)}`,
    subnetworks: subnets.map(([region, s]) => `${COMPUTE}/${projectId}/regions/${region}/subnetworks/${s}`),
  };
  if (peerings) data.peerings = peerings;
  addResource({
    name: `//compute.googleapis.com/projects/${projectId}/global/networks/${name}`,
    assetType: 'compute.googleapis.com/Network',
    discovery: 'compute',
    discoveryName: 'Network',
    parent: projectParent(projectId),
    data,
    location: 'global',
    ancestors: projectAncestors(projectId),
  });
}

const FLOW_LOGS_CIS = {
  aggregationInterval: 'INTERVAL_5_SEC',
  enable: true,
  flowSampling: 1,
  metadata: 'INCLUDE_ALL_METADATA',
};

function subnetwork(
  projectId,
  region,
  name,
  { network: net, cidr, created, flowLogs = true, purpose = 'PRIVATE', secondary, description = '' },
) {
  const [a, b, c] = cidr.split('/')[0].split('.');
  const data = {
    creationTimestamp: gceTime(created),
    description,
    fingerprint: fingerprint(`subnet:${projectId}/${region}/${name}`),
    gatewayAddress: `${a}.${b}.${c}.1`,
    id: digits(`subnet:${projectId}/${region}/${name}`, 19),
    ipCidrRange: cidr,
    name,
    network: `${COMPUTE}/${projectId}/global/networks/${net}`,
    privateIpGoogleAccess: purpose === 'PRIVATE',
    privateIpv6GoogleAccess: 'DISABLE_GOOGLE_ACCESS',
    purpose,
    region: `${COMPUTE}/${projectId}/regions/${region}`,
    selfLink: `${COMPUTE}/${projectId}/regions/${region}/subnetworks/${name}`,
    stackType: 'IPV4_ONLY',
  };
  if (purpose === 'PRIVATE') {
    // Flow logs are configured per subnet. Proxy-only subnets cannot have them and carry no logConfig.
    data.logConfig = flowLogs ? FLOW_LOGS_CIS : { enable: false };
  } else {
    data.role = 'ACTIVE';
    delete data.gatewayAddress;
  }
  if (secondary)
    data.secondaryIpRanges = secondary.map(([rangeName, ipCidrRange]) => ({ ipCidrRange, rangeName }));
  addResource({
    name: `//compute.googleapis.com/projects/${projectId}/regions/${region}/subnetworks/${name}`,
    assetType: 'compute.googleapis.com/Subnetwork',
    discovery: 'compute',
    discoveryName: 'Subnetwork',
    parent: projectParent(projectId),
    data,
    location: region,
    ancestors: projectAncestors(projectId),
  });
}

function firewall(projectId, name, spec) {
  const {
    network: net,
    created,
    direction = 'INGRESS',
    priority = 1000,
    allowed,
    denied,
    sourceRanges,
    destinationRanges,
    targetTags,
    targetServiceAccounts,
    disabled = false,
    log = false,
    description = '',
  } = spec;
  const data = {
    creationTimestamp: gceTime(created),
    description,
    direction,
    disabled,
    id: digits(`firewall:${projectId}/${name}`, 19),
    logConfig: log ? { enable: true, metadata: 'INCLUDE_ALL_METADATA' } : { enable: false },
    name,
    network: `${COMPUTE}/${projectId}/global/networks/${net}`,
    priority,
    selfLink: `${COMPUTE}/${projectId}/global/firewalls/${name}`,
  };
  if (allowed) data.allowed = allowed;
  if (denied) data.denied = denied;
  if (sourceRanges) data.sourceRanges = sourceRanges;
  if (destinationRanges) data.destinationRanges = destinationRanges;
  if (targetTags) data.targetTags = targetTags;
  if (targetServiceAccounts) data.targetServiceAccounts = targetServiceAccounts;
  addResource({
    name: `//compute.googleapis.com/projects/${projectId}/global/firewalls/${name}`,
    assetType: 'compute.googleapis.com/Firewall',
    discovery: 'compute',
    discoveryName: 'Firewall',
    parent: projectParent(projectId),
    data,
    location: 'global',
    ancestors: projectAncestors(projectId),
  });
}

const IAP_RANGE = '35.235.240.0/20';
const HEALTH_CHECK_RANGES = ['130.211.0.0/22', '35.191.0.0/16'];

function buildNetworks() {
  computeProject('acme-prod-web', { created: '2024-03-04T03:35:12.471' });
  computeProject('acme-prod-data', { created: '2024-03-04T03:38:40.102' });
  computeProject('acme-dev-web', { created: '2024-03-11T01:59:26.833' });
  computeProject('acme-shared-net', { created: '2024-02-12T08:41:07.215', xpn: 'HOST' });

  // --- acme-shared-net: Shared VPC host; acme-prod-data is its service project. -----------------------
  network('acme-shared-net', 'shared-vpc', {
    created: '2024-02-12T08:52:33.618',
    description: 'Shared VPC for production data workloads',
    subnets: [
      ['us-central1', 'shared-prod-data-us-central1'],
      ['us-east1', 'shared-prod-data-us-east1'],
    ],
    peerings: [
      {
        autoCreateRoutes: true,
        exchangeSubnetRoutes: true,
        exportCustomRoutes: false,
        exportSubnetRoutesWithPublicIp: false,
        importCustomRoutes: false,
        importSubnetRoutesWithPublicIp: false,
        name: 'servicenetworking-googleapis-com',
        network:
          'https://www.googleapis.com/compute/v1/projects/z8c1f3a6e0b2d47c9-tp/global/networks/servicenetworking',
        stackType: 'IPV4_ONLY',
        state: 'ACTIVE',
        stateDetails: '[2024-03-05T09:14:51.338-08:00]: Connected.',
      },
    ],
  });
  subnetwork('acme-shared-net', 'us-central1', 'shared-prod-data-us-central1', {
    network: 'shared-vpc',
    cidr: '10.30.0.0/20',
    created: '2024-02-12T08:55:10.904',
  });
  subnetwork('acme-shared-net', 'us-east1', 'shared-prod-data-us-east1', {
    network: 'shared-vpc',
    cidr: '10.30.16.0/20',
    created: '2024-02-12T08:55:48.377',
  });
  const sharedFw = (name, spec) => firewall('acme-shared-net', name, { network: 'shared-vpc', ...spec });
  sharedFw('shared-vpc-allow-iap-ssh', {
    created: '2024-02-12T09:02:11.540',
    description: 'SSH through IAP TCP forwarding only',
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    sourceRanges: [IAP_RANGE],
    log: true,
  });
  sharedFw('shared-vpc-allow-internal', {
    created: '2024-02-12T09:02:47.118',
    description: 'East-west traffic inside the shared VPC',
    allowed: [{ IPProtocol: 'tcp' }, { IPProtocol: 'udp' }, { IPProtocol: 'icmp' }],
    sourceRanges: ['10.30.0.0/16'],
    priority: 65000,
    log: true,
  });
  sharedFw('shared-vpc-allow-health-checks', {
    created: '2024-02-12T09:03:20.662',
    description: 'Google Cloud load balancer health checks',
    allowed: [{ IPProtocol: 'tcp', ports: ['80', '443', '8080'] }],
    sourceRanges: HEALTH_CHECK_RANGES,
    log: true,
  });
  // PLANTED: RDP open to the whole IPv6 internet (CIS 3.7).
  sharedFw('shared-vpc-allow-rdp-ipv6', {
    created: '2026-10-22T11:47:05.209',
    description: 'Temporary RDP for the Windows jump host migration',
    allowed: [{ IPProtocol: 'tcp', ports: ['3389'] }],
    sourceRanges: ['::/0'],
    targetTags: ['windows-jump'],
  });
  // DECOY: EGRESS to 0.0.0.0/0 on 22 is outbound traffic, not exposure.
  sharedFw('shared-vpc-allow-egress-ssh-partners', {
    created: '2025-06-03T13:20:44.981',
    description: 'Outbound SFTP to partner endpoints',
    direction: 'EGRESS',
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    destinationRanges: ['0.0.0.0/0'],
    targetTags: ['sftp-client'],
    log: true,
  });

  // --- acme-prod-web: its own VPC, hosting the GKE cluster and the legacy web VMs. ----------------------
  network('acme-prod-web', 'prod-web-vpc', {
    created: '2024-03-04T04:10:52.336',
    description: 'Production web VPC',
    subnets: [
      ['us-central1', 'prod-web-us-central1'],
      ['us-central1', 'prod-web-proxy-only-us-central1'],
    ],
  });
  subnetwork('acme-prod-web', 'us-central1', 'prod-web-us-central1', {
    network: 'prod-web-vpc',
    cidr: '10.10.0.0/20',
    created: '2024-03-04T04:12:08.741',
    secondary: [
      ['gke-pods', '10.100.0.0/14'],
      ['gke-services', '10.104.0.0/20'],
    ],
  });
  // DECOY: a proxy-only subnet for the regional internal Application Load Balancer; flow logs are not
  // supported on REGIONAL_MANAGED_PROXY subnets, so it has no logConfig at all.
  subnetwork('acme-prod-web', 'us-central1', 'prod-web-proxy-only-us-central1', {
    network: 'prod-web-vpc',
    cidr: '10.10.64.0/23',
    created: '2024-05-21T07:33:19.026',
    purpose: 'REGIONAL_MANAGED_PROXY',
    description: 'Proxy-only subnet for the internal Application Load Balancer',
  });
  const webFw = (name, spec) => firewall('acme-prod-web', name, { network: 'prod-web-vpc', ...spec });
  webFw('prod-web-vpc-allow-iap-ssh', {
    created: '2024-03-04T04:20:31.552',
    description: 'SSH through IAP TCP forwarding only',
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    sourceRanges: [IAP_RANGE],
    log: true,
  });
  webFw('prod-web-vpc-allow-health-checks', {
    created: '2024-03-04T04:21:07.915',
    description: 'Google Cloud load balancer health checks',
    allowed: [{ IPProtocol: 'tcp', ports: ['80', '443', '10256'] }],
    sourceRanges: HEALTH_CHECK_RANGES,
    targetTags: ['web'],
    log: true,
  });
  // DECOY: world-open, but on 443 only.
  webFw('prod-web-vpc-allow-https', {
    created: '2024-03-04T04:22:45.380',
    description: 'Public HTTPS to the web tier',
    allowed: [{ IPProtocol: 'tcp', ports: ['443'] }],
    sourceRanges: ['0.0.0.0/0'],
    targetTags: ['web'],
    log: true,
  });
  // PLANTED: SSH open to the internet in production (CIS 3.6).
  webFw('prod-web-allow-ssh-vendor', {
    created: '2026-10-29T16:05:58.113',
    description: 'Vendor access for the CDN migration - remove after cutover',
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    sourceRanges: ['0.0.0.0/0'],
    targetTags: ['web'],
  });
  // GKE-created rules for the private cluster prod-web-gke (internal ranges only).
  const gkeTag = 'gke-prod-web-gke-3c7e1a9b-node';
  webFw('gke-prod-web-gke-3c7e1a9b-all', {
    created: '2025-01-14T10:02:19.640',
    allowed: [
      { IPProtocol: 'tcp' },
      { IPProtocol: 'udp' },
      { IPProtocol: 'icmp' },
      { IPProtocol: 'esp' },
      { IPProtocol: 'ah' },
      { IPProtocol: 'sctp' },
    ],
    sourceRanges: ['10.100.0.0/14'],
    targetTags: [gkeTag],
  });
  webFw('gke-prod-web-gke-3c7e1a9b-vms', {
    created: '2025-01-14T10:02:20.117',
    allowed: [
      { IPProtocol: 'icmp' },
      { IPProtocol: 'tcp', ports: ['1-65535'] },
      { IPProtocol: 'udp', ports: ['1-65535'] },
    ],
    sourceRanges: ['10.10.0.0/20'],
    targetTags: [gkeTag],
  });
  webFw('gke-prod-web-gke-3c7e1a9b-master', {
    created: '2025-01-14T10:02:20.583',
    allowed: [{ IPProtocol: 'tcp', ports: ['10250', '443'] }],
    sourceRanges: ['172.16.0.0/28'],
    targetTags: [gkeTag],
  });

  // --- acme-dev-web: its own VPC. -------------------------------------------------------------------------
  network('acme-dev-web', 'dev-vpc', {
    created: '2024-03-11T02:14:40.508',
    description: 'Development VPC',
    subnets: [
      ['us-central1', 'dev-web-us-central1'],
      ['us-east1', 'dev-web-us-east1'],
    ],
  });
  // PLANTED: no VPC flow logs (CIS 3.10).
  subnetwork('acme-dev-web', 'us-central1', 'dev-web-us-central1', {
    network: 'dev-vpc',
    cidr: '10.20.0.0/20',
    created: '2024-03-11T02:15:57.273',
    flowLogs: false,
  });
  subnetwork('acme-dev-web', 'us-east1', 'dev-web-us-east1', {
    network: 'dev-vpc',
    cidr: '10.20.16.0/20',
    created: '2024-09-02T06:40:12.984',
  });
  const devFw = (name, spec) => firewall('acme-dev-web', name, { network: 'dev-vpc', ...spec });
  devFw('dev-vpc-allow-iap-ssh', {
    created: '2024-03-11T02:20:18.430',
    description: 'SSH through IAP TCP forwarding only',
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    sourceRanges: [IAP_RANGE],
    log: true,
  });
  devFw('dev-vpc-allow-internal', {
    created: '2024-03-11T02:20:55.871',
    description: 'East-west traffic inside the dev VPC',
    allowed: [{ IPProtocol: 'all' }],
    sourceRanges: ['10.20.0.0/16'],
    priority: 65000,
  });
  // PLANTED: SSH (22) open to the internet through the port range 20-25 (CIS 3.6).
  devFw('dev-vpc-allow-legacy-mgmt', {
    created: '2025-02-17T14:33:09.657',
    description: 'Legacy FTP/SSH/SMTP management ports',
    allowed: [{ IPProtocol: 'tcp', ports: ['20-25', '8080'] }],
    sourceRanges: ['0.0.0.0/0'],
  });
  // PLANTED: every protocol and port open to the internet, so SSH and RDP too (CIS 3.6 and 3.7).
  devFw('dev-vpc-allow-all-debug', {
    created: '2026-10-30T19:12:44.026',
    description: 'debugging connectivity - TEMP',
    allowed: [{ IPProtocol: 'all' }],
    sourceRanges: ['0.0.0.0/0'],
    priority: 900,
  });
  // DECOY: world-open SSH, but the rule is disabled.
  devFw('dev-vpc-allow-ssh-disabled', {
    created: '2024-06-07T09:48:31.004',
    description: 'Old direct SSH rule, disabled after the move to IAP',
    allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    sourceRanges: ['0.0.0.0/0'],
    disabled: true,
  });
}

// ---------------------------------------------------------------------------------------------------
// Compute: instances and disks
// ---------------------------------------------------------------------------------------------------

const DEBIAN = {
  image:
    'https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20260910',
  imageId: '3908471250347716824',
  license: 'https://www.googleapis.com/compute/v1/projects/debian-cloud/global/licenses/debian-12-bookworm',
  licenseCode: '2147286739765738111',
  guestOsFeatures: ['UEFI_COMPATIBLE', 'VIRTIO_SCSI_MULTIQUEUE', 'GVNIC', 'SEV_CAPABLE'],
};
const COS_GKE = {
  image:
    'https://www.googleapis.com/compute/v1/projects/gke-node-images/global/images/gke-1318-gke1265000-cos-117-18613-164-4-c-pre',
  imageId: '6104729384615502213',
  license: 'https://www.googleapis.com/compute/v1/projects/cos-cloud/global/licenses/cos-pcid',
  licenseCode: '6880041984096540132',
  guestOsFeatures: ['UEFI_COMPATIBLE', 'VIRTIO_SCSI_MULTIQUEUE', 'SEV_CAPABLE', 'GVNIC'],
};

const DEFAULT_SCOPES = [
  'https://www.googleapis.com/auth/devstorage.read_only',
  'https://www.googleapis.com/auth/logging.write',
  'https://www.googleapis.com/auth/monitoring.write',
  'https://www.googleapis.com/auth/service.management.readonly',
  'https://www.googleapis.com/auth/servicecontrol',
  'https://www.googleapis.com/auth/trace.append',
];
const CLOUD_PLATFORM = ['https://www.googleapis.com/auth/cloud-platform'];

function disk(projectId, zone, name, spec) {
  const {
    created,
    sizeGb,
    labels,
    image,
    users,
    lastAttach,
    type = 'pd-balanced',
    kmsKey,
    boot = true,
  } = spec;
  const data = {
    architecture: 'X86_64',
    creationTimestamp: gceTime(created),
    id: digits(`disk:${projectId}/${zone}/${name}`, 19),
    labelFingerprint: labelFingerprint(labels),
    labels,
    name,
    physicalBlockSizeBytes: '4096',
    selfLink: `${COMPUTE}/${projectId}/zones/${zone}/disks/${name}`,
    sizeGb: String(sizeGb),
    status: 'READY',
    type: `${COMPUTE}/${projectId}/zones/${zone}/diskTypes/${type}`,
    zone: `${COMPUTE}/${projectId}/zones/${zone}`,
  };
  if (boot && image) {
    data.guestOsFeatures = image.guestOsFeatures.map((t) => ({ type: t }));
    data.licenseCodes = [image.licenseCode];
    data.licenses = [image.license];
    data.sourceImage = image.image;
    data.sourceImageId = image.imageId;
  }
  if (users && users.length) data.users = users;
  if (lastAttach) data.lastAttachTimestamp = gceTime(lastAttach);
  if (kmsKey) data.diskEncryptionKey = { kmsKeyName: `${kmsKey}/cryptoKeyVersions/1` };
  addResource({
    name: `//compute.googleapis.com/projects/${projectId}/zones/${zone}/disks/${name}`,
    assetType: 'compute.googleapis.com/Disk',
    discovery: 'compute',
    discoveryName: 'Disk',
    parent: projectParent(projectId),
    data,
    location: zone,
    ancestors: projectAncestors(projectId),
  });
}

function instance(projectId, zone, name, spec) {
  const {
    created,
    machineType = 'e2-standard-2',
    net,
    subnet,
    subnetProject = projectId,
    ip,
    sa,
    scopes = DEFAULT_SCOPES,
    labels,
    metadata = [
      { key: 'block-project-ssh-keys', value: 'TRUE' },
      { key: 'enable-oslogin', value: 'TRUE' },
    ],
    tags = [],
    status = 'RUNNING',
    image = DEBIAN,
    diskSizeGb = 20,
    secureBoot = true,
    canIpForward = false,
    extraDisks = [],
    bootKmsKey,
    lastStart,
    lastStop,
  } = spec;
  const region = zone.slice(0, zone.lastIndexOf('-'));
  const selfLink = `${COMPUTE}/${projectId}/zones/${zone}/instances/${name}`;
  const bootDisk = {
    architecture: 'X86_64',
    autoDelete: true,
    boot: true,
    deviceName: name,
    diskSizeGb: String(diskSizeGb),
    guestOsFeatures: image.guestOsFeatures.map((t) => ({ type: t })),
    index: 0,
    interface: 'SCSI',
    licenses: [image.license],
    mode: 'READ_WRITE',
    source: `${COMPUTE}/${projectId}/zones/${zone}/disks/${name}`,
    type: 'PERSISTENT',
  };
  if (bootKmsKey) bootDisk.diskEncryptionKey = { kmsKeyName: `${bootKmsKey}/cryptoKeyVersions/1` };
  const data = {
    canIpForward,
    confidentialInstanceConfig: { enableConfidentialCompute: false },
    cpuPlatform: status === 'RUNNING' ? 'Intel Broadwell' : 'Unknown CPU Platform',
    creationTimestamp: gceTime(created),
    deletionProtection: false,
    description: '',
    disks: [
      bootDisk,
      ...extraDisks.map((d, i) => ({
        architecture: 'X86_64',
        autoDelete: false,
        boot: false,
        deviceName: d.name,
        diskSizeGb: String(d.sizeGb),
        index: i + 1,
        interface: 'SCSI',
        mode: 'READ_WRITE',
        source: `${COMPUTE}/${projectId}/zones/${zone}/disks/${d.name}`,
        type: 'PERSISTENT',
        ...(d.kmsKey ? { diskEncryptionKey: { kmsKeyName: `${d.kmsKey}/cryptoKeyVersions/1` } } : {}),
      })),
    ],
    fingerprint: fingerprint(`instance:${selfLink}`),
    id: digits(`instance:${selfLink}`, 19),
    keyRevocationActionType: 'NONE',
    labelFingerprint: labelFingerprint(labels),
    labels,
    machineType: `${COMPUTE}/${projectId}/zones/${zone}/machineTypes/${machineType}`,
    metadata: { fingerprint: fingerprint(`metadata:${selfLink}`), items: metadata },
    name,
    networkInterfaces: [
      {
        fingerprint: fingerprint(`nic:${selfLink}`),
        name: 'nic0',
        network: `${COMPUTE}/${subnetProject}/global/networks/${net}`,
        networkIP: ip,
        stackType: 'IPV4_ONLY',
        subnetwork: `${COMPUTE}/${subnetProject}/regions/${region}/subnetworks/${subnet}`,
      },
    ],
    reservationAffinity: { consumeReservationType: 'ANY_RESERVATION' },
    scheduling: {
      automaticRestart: true,
      onHostMaintenance: 'MIGRATE',
      preemptible: false,
      provisioningModel: 'STANDARD',
    },
    selfLink,
    serviceAccounts: [{ email: sa, scopes }],
    shieldedInstanceConfig: {
      enableIntegrityMonitoring: true,
      enableSecureBoot: secureBoot,
      enableVtpm: true,
    },
    shieldedInstanceIntegrityPolicy: { updateAutoLearnPolicy: true },
    startRestricted: false,
    status,
    tags: tags.length
      ? { fingerprint: fingerprint(`tags:${selfLink}`), items: tags }
      : { fingerprint: EMPTY_LABEL_FP },
    zone: `${COMPUTE}/${projectId}/zones/${zone}`,
  };
  if (lastStart) data.lastStartTimestamp = gceTime(lastStart);
  if (lastStop) data.lastStopTimestamp = gceTime(lastStop);
  addResource({
    name: `//compute.googleapis.com/projects/${projectId}/zones/${zone}/instances/${name}`,
    assetType: 'compute.googleapis.com/Instance',
    discovery: 'compute',
    discoveryName: 'Instance',
    parent: projectParent(projectId),
    data,
    location: zone,
    ancestors: projectAncestors(projectId),
  });
  // The boot disk, named after the instance as Compute Engine does by default; it carries the same labels.
  disk(projectId, zone, name, {
    created,
    sizeGb: diskSizeGb,
    labels,
    image,
    users: [selfLink],
    lastAttach: created,
    kmsKey: bootKmsKey,
  });
  for (const d of extraDisks) {
    disk(projectId, zone, d.name, {
      created: d.created ?? created,
      sizeGb: d.sizeGb,
      labels: d.labels ?? labels,
      users: [selfLink],
      lastAttach: d.created ?? created,
      type: d.type ?? 'pd-ssd',
      kmsKey: d.kmsKey,
      boot: false,
    });
  }
}

const KMS = 'projects/acme-shared-security/locations';
const KEY = {
  prodData: `${KMS}/us-central1/keyRings/prod-keyring/cryptoKeys/prod-data-cmek`,
  prodSql: `${KMS}/us-central1/keyRings/prod-keyring/cryptoKeys/prod-sql-cmek`,
  prodGke: `${KMS}/us-central1/keyRings/prod-keyring/cryptoKeys/prod-gke-secrets`,
  bqUs: `${KMS}/us/keyRings/prod-keyring-us/cryptoKeys/bq-cmek-us`,
};

function buildInstances() {
  const webLabels = { env: 'prod', team: 'web', 'cost-center': 'cc-1001', app: 'storefront' };
  const web = (zone, name, spec) =>
    instance('acme-prod-web', zone, name, {
      net: 'prod-web-vpc',
      subnet: 'prod-web-us-central1',
      sa: saEmail('web-app', 'acme-prod-web'),
      tags: ['web'],
      ...spec,
    });
  web('us-central1-a', 'prod-web-app-1', {
    created: '2025-04-08T09:16:42.318',
    lastStart: '2025-04-08T09:16:55.902',
    ip: '10.10.0.11',
    labels: webLabels,
    machineType: 'n2-standard-4',
    diskSizeGb: 50,
  });
  web('us-central1-b', 'prod-web-app-2', {
    created: '2025-04-08T09:17:03.744',
    lastStart: '2025-04-08T09:17:19.061',
    ip: '10.10.0.12',
    labels: webLabels,
    machineType: 'n2-standard-4',
    diskSizeGb: 50,
  });
  // PLANTED: missing the required cost-center label (instance and its boot disk).
  web('us-central1-a', 'prod-web-batch-1', {
    created: '2026-09-14T22:40:09.530',
    lastStart: '2026-09-14T22:40:21.187',
    ip: '10.10.0.21',
    labels: { env: 'prod', team: 'web' },
    tags: [],
  });

  // GKE nodes of prod-web-gke's default-pool: one managed instance group per zone. GKE-managed VMs are
  // explicit CIS exceptions (4.1, 4.4, 4.6, 4.9) and must never be remediated directly: DECOYS.
  const nodeLabels = {
    'cost-center': 'cc-1001',
    env: 'prod',
    'goog-gke-node': '',
    'goog-k8s-cluster-location': 'us-central1',
    'goog-k8s-cluster-name': 'prod-web-gke',
    'goog-k8s-node-pool-name': 'default-pool',
    team: 'web',
  };
  const nodes = [
    ['us-central1-a', 'gke-prod-web-gke-default-pool-5f2c9a1e-x7k2', '10.10.0.34'],
    ['us-central1-b', 'gke-prod-web-gke-default-pool-8d13b07c-m4qp', '10.10.0.35'],
    ['us-central1-c', 'gke-prod-web-gke-default-pool-c2e94f51-z9rt', '10.10.0.36'],
  ];
  for (const [zone, name, ip] of nodes) {
    instance('acme-prod-web', zone, name, {
      created: '2026-10-06T03:12:57.405',
      lastStart: '2026-10-06T03:13:20.718',
      machineType: 'e2-standard-4',
      net: 'prod-web-vpc',
      subnet: 'prod-web-us-central1',
      ip,
      sa: saEmail('gke-nodes', 'acme-prod-web'),
      scopes: CLOUD_PLATFORM,
      labels: nodeLabels,
      tags: ['gke-prod-web-gke-3c7e1a9b-node'],
      image: COS_GKE,
      diskSizeGb: 100,
      secureBoot: false,
      canIpForward: true,
      metadata: [
        { key: 'cluster-location', value: 'us-central1' },
        { key: 'cluster-name', value: 'prod-web-gke' },
        { key: 'cluster-uid', value: '3c7e1a9b0d4f4e2a9b61c58d07f2e3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0' },
        {
          key: 'created-by',
          value: `projects/${num('acme-prod-web')}/zones/${zone}/instanceGroupManagers/${name.slice(0, -5)}-grp`,
        },
        { key: 'disable-legacy-endpoints', value: 'true' },
        { key: 'enable-oslogin', value: 'false' },
        { key: 'gci-metrics-enabled', value: 'true' },
        { key: 'gci-update-strategy', value: 'update_disabled' },
        { key: 'google-compute-enable-pcid', value: 'true' },
        {
          key: 'instance-template',
          value: `projects/${num('acme-prod-web')}/global/instanceTemplates/${name.slice(0, -5)}`,
        },
        {
          key: 'kube-labels',
          value: 'cloud.google.com/gke-nodepool=default-pool,cloud.google.com/gke-os-distribution=cos',
        },
        { key: 'serial-port-logging-enable', value: 'true' },
      ],
    });
  }

  // acme-prod-data: ETL workers on the Shared VPC (subnet in the host project acme-shared-net).
  const dataLabels = { env: 'prod', team: 'data', 'cost-center': 'cc-2001', app: 'etl' };
  const dataVm = (zone, name, spec) =>
    instance('acme-prod-data', zone, name, {
      net: 'shared-vpc',
      subnet: 'shared-prod-data-us-central1',
      subnetProject: 'acme-shared-net',
      sa: saEmail('etl-runner', 'acme-prod-data'),
      scopes: CLOUD_PLATFORM,
      labels: dataLabels,
      bootKmsKey: KEY.prodData,
      ...spec,
    });
  dataVm('us-central1-a', 'prod-data-etl-1', {
    created: '2025-07-21T12:05:33.871',
    lastStart: '2025-07-21T12:05:48.220',
    machineType: 'n2-highmem-4',
    ip: '10.30.0.14',
    extraDisks: [{ name: 'prod-data-etl-1-data', sizeGb: 500, kmsKey: KEY.prodData }],
  });
  dataVm('us-central1-b', 'prod-data-etl-2', {
    created: '2025-07-21T12:06:10.306',
    lastStart: '2026-08-02T02:00:04.118',
    lastStop: '2026-08-02T06:41:57.930',
    machineType: 'n2-highmem-4',
    ip: '10.30.0.15',
    status: 'TERMINATED',
  });

  // acme-dev-web.
  const devLabels = { env: 'dev', team: 'web', 'cost-center': 'cc-1001', app: 'storefront' };
  const dev = (zone, name, spec) =>
    instance('acme-dev-web', zone, name, {
      net: 'dev-vpc',
      subnet: 'dev-web-us-central1',
      sa: saEmail('dev-web-app', 'acme-dev-web'),
      labels: devLabels,
      ...spec,
    });
  dev('us-central1-a', 'dev-web-app-1', {
    created: '2025-05-12T08:30:27.619',
    lastStart: '2026-10-31T07:00:02.445',
    ip: '10.20.0.10',
  });
  // PLANTED: interactive serial console enabled, with the uppercase value "TRUE" (CIS 4.5).
  dev('us-central1-a', 'dev-web-debug-1', {
    created: '2026-10-27T15:52:18.094',
    lastStart: '2026-10-27T15:52:31.776',
    ip: '10.20.0.23',
    metadata: [
      { key: 'block-project-ssh-keys', value: 'TRUE' },
      { key: 'enable-oslogin', value: 'TRUE' },
      { key: 'serial-port-enable', value: 'TRUE' },
    ],
  });
  // PLANTED: no labels at all; the Compute Engine default service account with the cloud-platform scope
  // (CIS 4.1 / 4.2); no block-project-ssh-keys (CIS 4.3).
  dev('us-central1-b', 'dev-web-sandbox-1', {
    created: '2026-06-19T11:24:40.358',
    lastStart: '2026-06-19T11:24:52.903',
    ip: '10.20.0.31',
    labels: {},
    sa: defaultComputeSa('acme-dev-web'),
    scopes: CLOUD_PLATFORM,
    metadata: [],
  });
  // Cost signal: an unattached disk left behind (no users), not a compliance violation.
  disk('acme-dev-web', 'us-central1-a', 'dev-web-old-data', {
    created: '2024-11-05T10:12:44.017',
    sizeGb: 200,
    labels: devLabels,
    type: 'pd-ssd',
    lastAttach: '2024-11-05T10:13:02.551',
    boot: false,
  });
}

// ---------------------------------------------------------------------------------------------------
// GKE
// ---------------------------------------------------------------------------------------------------

function buildGke() {
  const projectId = 'acme-prod-web';
  const loc = 'us-central1';
  const name = 'prod-web-gke';
  const resourceLabels = { 'cost-center': 'cc-1001', env: 'prod', team: 'web' };
  const igm = (zone, hash) =>
    `${COMPUTE}/${projectId}/zones/${zone}/instanceGroupManagers/gke-prod-web-gke-default-pool-${hash}-grp`;
  const nodeConfig = {
    diskSizeGb: 100,
    diskType: 'pd-balanced',
    imageType: 'COS_CONTAINERD',
    machineType: 'e2-standard-4',
    metadata: { 'disable-legacy-endpoints': 'true' },
    oauthScopes: CLOUD_PLATFORM,
    serviceAccount: saEmail('gke-nodes', projectId),
    shieldedInstanceConfig: { enableIntegrityMonitoring: true },
    workloadMetadataConfig: { mode: 'GKE_METADATA' },
    resourceLabels,
  };
  addResource({
    name: `//container.googleapis.com/projects/${projectId}/locations/${loc}/clusters/${name}`,
    assetType: 'container.googleapis.com/Cluster',
    discovery: 'container',
    discoveryName: 'Cluster',
    parent: projectParent(projectId),
    location: loc,
    ancestors: projectAncestors(projectId),
    data: {
      addonsConfig: {
        gcePersistentDiskCsiDriverConfig: { enabled: true },
        horizontalPodAutoscaling: {},
        httpLoadBalancing: {},
        networkPolicyConfig: { disabled: true },
      },
      binaryAuthorization: { evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE' },
      clusterIpv4Cidr: '10.100.0.0/14',
      createTime: '2025-01-14T10:01:47+00:00',
      currentMasterVersion: '1.31.12-gke.1265000',
      currentNodeCount: 3,
      currentNodeVersion: '1.31.12-gke.1265000',
      databaseEncryption: { keyName: KEY.prodGke, state: 'ENCRYPTED' },
      datapathProvider: 'ADVANCED_DATAPATH',
      endpoint: '172.16.0.2',
      id: 'f3a9c1e04b2d4c7e8a5b6d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c',
      initialClusterVersion: '1.29.10-gke.1155000',
      ipAllocationPolicy: {
        clusterIpv4CidrBlock: '10.100.0.0/14',
        clusterSecondaryRangeName: 'gke-pods',
        servicesIpv4CidrBlock: '10.104.0.0/20',
        servicesSecondaryRangeName: 'gke-services',
        stackType: 'IPV4',
        useIpAliases: true,
      },
      labelFingerprint: labelFingerprint(resourceLabels),
      location: loc,
      locations: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
      loggingService: 'logging.googleapis.com/kubernetes',
      masterAuth: {
        clusterCaCertificate:
          'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUVMVENDQXBXZ0F3SUJBZ0lSQU1MWi4uLgotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==',
      },
      masterAuthorizedNetworksConfig: {
        cidrBlocks: [{ cidrBlock: '198.51.100.0/24', displayName: 'corp-vpn' }],
        enabled: true,
      },
      monitoringService: 'monitoring.googleapis.com/kubernetes',
      name,
      network: 'prod-web-vpc',
      networkConfig: {
        datapathProvider: 'ADVANCED_DATAPATH',
        network: `projects/${projectId}/global/networks/prod-web-vpc`,
        subnetwork: `projects/${projectId}/regions/${loc}/subnetworks/prod-web-us-central1`,
      },
      nodeConfig,
      nodePools: [
        {
          autoscaling: { enabled: true, locationPolicy: 'BALANCED', maxNodeCount: 3, minNodeCount: 1 },
          config: nodeConfig,
          initialNodeCount: 1,
          instanceGroupUrls: [
            igm('us-central1-a', '5f2c9a1e'),
            igm('us-central1-b', '8d13b07c'),
            igm('us-central1-c', 'c2e94f51'),
          ],
          locations: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
          management: { autoRepair: true, autoUpgrade: true },
          name: 'default-pool',
          selfLink: `https://container.googleapis.com/v1/projects/${projectId}/locations/${loc}/clusters/${name}/nodePools/default-pool`,
          status: 'RUNNING',
          upgradeSettings: { maxSurge: 1, strategy: 'SURGE' },
          version: '1.31.12-gke.1265000',
        },
      ],
      privateClusterConfig: {
        enablePrivateEndpoint: false,
        enablePrivateNodes: true,
        masterIpv4CidrBlock: '172.16.0.0/28',
        privateEndpoint: '172.16.0.2',
        publicEndpoint: '34.72.181.40',
      },
      releaseChannel: { channel: 'REGULAR' },
      resourceLabels,
      selfLink: `https://container.googleapis.com/v1/projects/${projectId}/locations/${loc}/clusters/${name}`,
      servicesIpv4Cidr: '10.104.0.0/20',
      shieldedNodes: { enabled: true },
      status: 'RUNNING',
      subnetwork: 'prod-web-us-central1',
      workloadIdentityConfig: { workloadPool: `${projectId}.svc.id.goog` },
      zone: loc,
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// Cloud SQL
// ---------------------------------------------------------------------------------------------------

function sqlInstance(projectId, name, spec) {
  const {
    databaseVersion,
    installed,
    tier,
    created,
    zone,
    ipConfiguration,
    ipAddresses,
    backups,
    deletionProtection = true,
    flags,
    labels,
    kmsKey,
    instanceType = 'CLOUDSQL_INSTANCE',
    masterInstanceName,
    replicaNames,
    availabilityType = 'ZONAL',
    settingsVersion,
    diskGb = 100,
  } = spec;
  const region = zone.slice(0, zone.lastIndexOf('-'));
  const n = num(projectId);
  const isMySql = databaseVersion.startsWith('MYSQL');
  const backupConfiguration = backups
    ? {
        backupRetentionSettings: { retainedBackups: 14, retentionUnit: 'COUNT' },
        binaryLogEnabled: isMySql,
        enabled: true,
        kind: 'sql#backupConfiguration',
        location: 'us',
        pointInTimeRecoveryEnabled: !isMySql,
        startTime: '04:00',
        transactionLogRetentionDays: 7,
        transactionalLogStorageState: 'CLOUD_STORAGE',
      }
    : {
        backupRetentionSettings: { retainedBackups: 7, retentionUnit: 'COUNT' },
        binaryLogEnabled: false,
        enabled: false,
        kind: 'sql#backupConfiguration',
        startTime: '02:00',
        transactionLogRetentionDays: 7,
      };
  const data = {
    backendType: 'SECOND_GEN',
    connectionName: `${projectId}:${region}:${name}`,
    createTime: created,
    databaseInstalledVersion: installed,
    databaseVersion,
    etag: sha(`sqletag:${projectId}/${name}`).toString('hex'),
    gceZone: zone,
    instanceType,
    ipAddresses,
    kind: 'sql#instance',
    maintenanceVersion: isMySql ? 'MYSQL_8_0_39.R20260815.01_00' : 'POSTGRES_15_13.R20260815.01_00',
    name,
    project: projectId,
    region,
    selfLink: `https://sqladmin.googleapis.com/sql/v1beta4/projects/${projectId}/instances/${name}`,
    serverCaCert: {
      certSerialNumber: '0',
      commonName: `C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA,dnQualifier=${sha(`ca:${name}`).toString('hex').slice(0, 8)}-7e2b-4c1d-9a3f-${sha(`ca2:${name}`).toString('hex').slice(0, 12)}`,
      createTime: created,
      expirationTime: addDays(created, 3652),
      instance: name,
      kind: 'sql#sslCert',
      sha1Fingerprint: sha(`sha1:${name}`).toString('hex').slice(0, 40),
    },
    serviceAccountEmailAddress: `p${n}-${shortId(`sqlsa:${name}`)}@gcp-sa-cloud-sql.iam.gserviceaccount.com`,
    settings: {
      activationPolicy: 'ALWAYS',
      availabilityType,
      backupConfiguration,
      connectorEnforcement: 'NOT_REQUIRED',
      dataDiskSizeGb: String(diskGb),
      dataDiskType: 'PD_SSD',
      databaseFlags: flags,
      deletionProtectionEnabled: deletionProtection,
      edition: 'ENTERPRISE',
      ipConfiguration,
      kind: 'sql#settings',
      locationPreference: { kind: 'sql#locationPreference', zone },
      maintenanceWindow: { day: 7, hour: 3, kind: 'sql#maintenanceWindow' },
      pricingPlan: 'PER_USE',
      replicationType: 'SYNCHRONOUS',
      settingsVersion: String(settingsVersion),
      storageAutoResize: true,
      storageAutoResizeLimit: '0',
      tier,
      userLabels: labels,
    },
    state: 'RUNNABLE',
  };
  if (kmsKey) {
    data.diskEncryptionConfiguration = { kind: 'sql#diskEncryptionConfiguration', kmsKeyName: kmsKey };
    data.diskEncryptionStatus = {
      kind: 'sql#diskEncryptionStatus',
      kmsKeyVersionName: `${kmsKey}/cryptoKeyVersions/1`,
    };
  }
  if (masterInstanceName) {
    data.masterInstanceName = masterInstanceName;
    data.replicaConfiguration = { failoverTarget: false, kind: 'sql#replicaConfiguration' };
  }
  if (replicaNames) data.replicaNames = replicaNames;
  addResource({
    name: `//cloudsql.googleapis.com/projects/${projectId}/instances/${name}`,
    assetType: 'sqladmin.googleapis.com/Instance',
    discovery: 'sql',
    discoveryName: 'DatabaseInstance',
    parent: projectParent(projectId),
    data,
    location: region,
    ancestors: projectAncestors(projectId),
  });
}

function buildSql() {
  const privateIp = {
    allocatedIpRange: 'google-managed-services-shared-vpc',
    authorizedNetworks: [],
    enablePrivatePathForGoogleCloudServices: false,
    ipv4Enabled: false,
    privateNetwork: 'projects/acme-shared-net/global/networks/shared-vpc',
    requireSsl: false,
    serverCaMode: 'GOOGLE_MANAGED_INTERNAL_CA',
    sslMode: 'ENCRYPTED_ONLY',
  };
  const pgFlags = [
    { name: 'cloudsql.enable_pgaudit', value: 'on' },
    { name: 'cloudsql.iam_authentication', value: 'on' },
    { name: 'log_connections', value: 'on' },
    { name: 'log_disconnections', value: 'on' },
    { name: 'log_error_verbosity', value: 'default' },
    { name: 'log_min_duration_statement', value: '-1' },
    { name: 'log_min_error_statement', value: 'error' },
    { name: 'log_min_messages', value: 'warning' },
    { name: 'log_statement', value: 'ddl' },
  ];
  const mysqlFlags = [
    { name: 'cloudsql_iam_authentication', value: 'on' },
    { name: 'local_infile', value: 'off' },
    { name: 'skip_show_database', value: 'on' },
  ];
  const dataLabels = { 'cost-center': 'cc-2001', env: 'prod', team: 'data' };

  sqlInstance('acme-prod-data', 'prod-orders-pg', {
    databaseVersion: 'POSTGRES_15',
    installed: 'POSTGRES_15_13',
    tier: 'db-custom-4-16384',
    created: '2025-02-03T11:40:18.507Z',
    zone: 'us-central1-a',
    availabilityType: 'REGIONAL',
    ipConfiguration: privateIp,
    ipAddresses: [{ ipAddress: '10.60.0.3', type: 'PRIVATE' }],
    backups: true,
    flags: pgFlags,
    labels: { ...dataLabels, app: 'orders' },
    kmsKey: KEY.prodSql,
    replicaNames: ['prod-orders-pg-replica-1'],
    settingsVersion: 41,
    diskGb: 250,
  });
  // DECOY: a read replica; replicas cannot have automated backups of their own (CIS 6.8 skips them).
  sqlInstance('acme-prod-data', 'prod-orders-pg-replica-1', {
    databaseVersion: 'POSTGRES_15',
    installed: 'POSTGRES_15_13',
    tier: 'db-custom-4-16384',
    created: '2025-02-03T13:02:51.229Z',
    zone: 'us-central1-c',
    ipConfiguration: privateIp,
    ipAddresses: [{ ipAddress: '10.60.0.5', type: 'PRIVATE' }],
    backups: false,
    flags: pgFlags,
    labels: { ...dataLabels, app: 'orders' },
    kmsKey: KEY.prodSql,
    instanceType: 'READ_REPLICA_INSTANCE',
    masterInstanceName: 'acme-prod-data:prod-orders-pg',
    settingsVersion: 12,
    diskGb: 250,
  });
  // PLANTED: production MySQL without automated backups (CIS 6.8).
  sqlInstance('acme-prod-data', 'prod-ledger-mysql', {
    databaseVersion: 'MYSQL_8_0',
    installed: 'MYSQL_8_0_39',
    tier: 'db-custom-2-8192',
    created: '2025-09-09T08:15:36.880Z',
    zone: 'us-central1-b',
    ipConfiguration: privateIp,
    ipAddresses: [{ ipAddress: '10.60.0.7', type: 'PRIVATE' }],
    backups: false,
    flags: mysqlFlags,
    labels: { ...dataLabels, app: 'ledger' },
    kmsKey: KEY.prodSql,
    settingsVersion: 19,
  });
  // PLANTED: public IP, TLS optional and an authorized network of 0.0.0.0/0 (CIS 6.4, 6.5, 6.7); also no
  // deletion protection (CIS 6.9).
  sqlInstance('acme-dev-data', 'dev-reporting-mysql', {
    databaseVersion: 'MYSQL_8_0',
    installed: 'MYSQL_8_0_39',
    tier: 'db-custom-1-3840',
    created: '2025-11-18T14:27:03.114Z',
    zone: 'us-central1-f',
    ipConfiguration: {
      authorizedNetworks: [
        { kind: 'sql#aclEntry', name: 'office-nyc', value: '203.0.113.0/24' },
        { kind: 'sql#aclEntry', name: 'anywhere-temp', value: '0.0.0.0/0' },
      ],
      ipv4Enabled: true,
      requireSsl: false,
      serverCaMode: 'GOOGLE_MANAGED_INTERNAL_CA',
      sslMode: 'ALLOW_UNENCRYPTED_AND_ENCRYPTED',
    },
    ipAddresses: [
      { ipAddress: '34.41.87.152', type: 'PRIMARY' },
      { ipAddress: '34.133.20.61', type: 'OUTGOING' },
    ],
    backups: true,
    deletionProtection: false,
    flags: mysqlFlags,
    labels: { 'cost-center': 'cc-2001', env: 'dev', team: 'data', app: 'reporting' },
    settingsVersion: 27,
    diskGb: 20,
  });
}

// ---------------------------------------------------------------------------------------------------
// IAM service accounts
// ---------------------------------------------------------------------------------------------------

function serviceAccount(projectId, email, displayName, description) {
  const uniqueId = digits(`sa:${email}`, 21);
  const data = {
    displayName,
    email,
    etag: 'MDEwMjE5MjA=',
    name: `projects/${projectId}/serviceAccounts/${email}`,
    oauth2ClientId: uniqueId,
    projectId,
    uniqueId,
  };
  if (description) data.description = description;
  addResource({
    name: `//iam.googleapis.com/projects/${projectId}/serviceAccounts/${email}`,
    assetType: 'iam.googleapis.com/ServiceAccount',
    discovery: 'iam',
    discoveryName: 'ServiceAccount',
    parent: projectParent(projectId),
    data,
    location: 'global',
    ancestors: projectAncestors(projectId),
  });
}

function buildServiceAccounts() {
  for (const p of ['acme-prod-web', 'acme-prod-data', 'acme-dev-web', 'acme-shared-net']) {
    serviceAccount(p, defaultComputeSa(p), 'Compute Engine default service account');
  }
  serviceAccount('acme-prod-web', saEmail('web-app', 'acme-prod-web'), 'web-app', 'Storefront web tier');
  serviceAccount(
    'acme-prod-web',
    saEmail('gke-nodes', 'acme-prod-web'),
    'gke-nodes',
    'Node SA for prod-web-gke',
  );
  serviceAccount('acme-prod-data', saEmail('etl-runner', 'acme-prod-data'), 'etl-runner', 'Nightly ETL jobs');
  serviceAccount(
    'acme-dev-web',
    saEmail('ci-deployer', 'acme-dev-web'),
    'ci-deployer',
    'CI/CD deployments to dev',
  );
  serviceAccount(
    'acme-dev-web',
    saEmail('dev-web-app', 'acme-dev-web'),
    'dev-web-app',
    'Storefront web tier (dev)',
  );
  serviceAccount('acme-dev-data', saEmail('reporting', 'acme-dev-data'), 'reporting', 'Reporting dashboards');
  serviceAccount('acme-shared-security', WARDEN_SA, 'warden-engine', 'Warden self-healing engine');

  addIamPolicy({
    name: `//iam.googleapis.com/projects/acme-prod-web/serviceAccounts/${saEmail('web-app', 'acme-prod-web')}`,
    assetType: 'iam.googleapis.com/ServiceAccount',
    ancestors: projectAncestors('acme-prod-web'),
    bindings: [
      {
        role: 'roles/iam.workloadIdentityUser',
        members: ['serviceAccount:acme-prod-web.svc.id.goog[web/storefront]'],
      },
    ],
  });
  addIamPolicy({
    name: `//iam.googleapis.com/projects/acme-dev-web/serviceAccounts/${saEmail('ci-deployer', 'acme-dev-web')}`,
    assetType: 'iam.googleapis.com/ServiceAccount',
    ancestors: projectAncestors('acme-dev-web'),
    bindings: [{ role: 'roles/iam.serviceAccountTokenCreator', members: ['group:team-web@example.com'] }],
  });
}

// ---------------------------------------------------------------------------------------------------
// Cloud KMS
// ---------------------------------------------------------------------------------------------------

function buildKms() {
  const projectId = 'acme-shared-security';
  const rings = [
    ['us-central1', 'prod-keyring', '2024-02-14T10:05:21.448905117Z'],
    ['us', 'prod-keyring-us', '2024-04-02T13:44:10.902617385Z'],
    ['us-central1', 'nonprod-keyring', '2024-03-12T09:31:58.120443871Z'],
  ];
  for (const [loc, ring, created] of rings) {
    addResource({
      name: `//cloudkms.googleapis.com/projects/${projectId}/locations/${loc}/keyRings/${ring}`,
      assetType: 'cloudkms.googleapis.com/KeyRing',
      discovery: 'kms',
      discoveryName: 'KeyRing',
      parent: projectParent(projectId),
      data: { createTime: created, name: `projects/${projectId}/locations/${loc}/keyRings/${ring}` },
      location: loc,
      ancestors: projectAncestors(projectId),
    });
  }
  const key = (loc, ring, name, spec) => {
    const full = `projects/${projectId}/locations/${loc}/keyRings/${ring}/cryptoKeys/${name}`;
    const {
      created,
      purpose = 'ENCRYPT_DECRYPT',
      rotation,
      next,
      algorithm,
      protectionLevel = 'SOFTWARE',
      labels,
    } = spec;
    const data = {
      createTime: created,
      destroyScheduledDuration: '2592000s',
      labels,
      name: full,
      purpose,
      versionTemplate: { algorithm, protectionLevel },
    };
    if (purpose === 'ENCRYPT_DECRYPT') {
      data.primary = {
        algorithm,
        createTime: created,
        generateTime: created,
        name: `${full}/cryptoKeyVersions/1`,
        protectionLevel,
        state: 'ENABLED',
      };
    }
    if (rotation) {
      data.rotationPeriod = rotation;
      data.nextRotationTime = next;
    }
    addResource({
      name: `//cloudkms.googleapis.com/${full}`,
      assetType: 'cloudkms.googleapis.com/CryptoKey',
      discovery: 'kms',
      discoveryName: 'CryptoKey',
      parent: `//cloudkms.googleapis.com/projects/${projectId}/locations/${loc}/keyRings/${ring}`,
      data,
      location: loc,
      ancestors: projectAncestors(projectId),
    });
    return `//cloudkms.googleapis.com/${full}`;
  };
  const secLabels = (env, owner) => ({ 'cost-center': 'cc-9100', env, team: 'security', owner });
  const sym = 'GOOGLE_SYMMETRIC_ENCRYPTION';
  const prodData = key('us-central1', 'prod-keyring', 'prod-data-cmek', {
    created: '2024-02-14T10:06:02.317552804Z',
    rotation: '7776000s',
    next: '2026-12-09T10:06:02.317552804Z',
    algorithm: sym,
    labels: secLabels('prod', 'data'),
  });
  const prodSql = key('us-central1', 'prod-keyring', 'prod-sql-cmek', {
    created: '2024-02-14T10:06:40.051877132Z',
    rotation: '7776000s',
    next: '2026-12-09T10:06:40.051877132Z',
    algorithm: sym,
    labels: secLabels('prod', 'data'),
  });
  const prodGke = key('us-central1', 'prod-keyring', 'prod-gke-secrets', {
    created: '2025-01-10T15:20:13.774109255Z',
    rotation: '7776000s',
    next: '2027-01-03T15:20:13.774109255Z',
    algorithm: sym,
    labels: secLabels('prod', 'web'),
  });
  // DECOY: asymmetric signing keys cannot rotate automatically, so no rotationPeriod is expected (F15).
  key('us-central1', 'prod-keyring', 'release-signing', {
    created: '2024-08-21T09:02:37.660481920Z',
    purpose: 'ASYMMETRIC_SIGN',
    algorithm: 'EC_SIGN_P256_SHA256',
    protectionLevel: 'HSM',
    labels: secLabels('prod', 'release-eng'),
  });
  const bqUs = key('us', 'prod-keyring-us', 'bq-cmek-us', {
    created: '2024-04-02T13:45:01.338205716Z',
    rotation: '7776000s',
    next: '2026-12-27T13:45:01.338205716Z',
    algorithm: sym,
    labels: secLabels('prod', 'data'),
  });
  // PLANTED: a symmetric key with no rotation period (CIS 1.11).
  const devSecrets = key('us-central1', 'nonprod-keyring', 'dev-app-secrets', {
    created: '2024-03-12T09:33:17.905126648Z',
    algorithm: sym,
    labels: secLabels('dev', 'web'),
  });

  const keyIam = (name, role, members) =>
    addIamPolicy({
      name,
      assetType: 'cloudkms.googleapis.com/CryptoKey',
      ancestors: projectAncestors(projectId),
      bindings: [{ role, members }],
    });
  const ed = 'roles/cloudkms.cryptoKeyEncrypterDecrypter';
  keyIam(prodData, ed, [
    `serviceAccount:service-${num('acme-prod-data')}@gs-project-accounts.iam.gserviceaccount.com`,
    `serviceAccount:service-${num('acme-prod-data')}@compute-system.iam.gserviceaccount.com`,
  ]);
  keyIam(prodSql, ed, [
    `serviceAccount:service-${num('acme-prod-data')}@gcp-sa-cloud-sql.iam.gserviceaccount.com`,
  ]);
  keyIam(prodGke, ed, [
    `serviceAccount:service-${num('acme-prod-web')}@container-engine-robot.iam.gserviceaccount.com`,
  ]);
  keyIam(bqUs, ed, [
    `serviceAccount:bq-${num('acme-prod-data')}@bigquery-encryption.iam.gserviceaccount.com`,
  ]);
  keyIam(devSecrets, ed, [`serviceAccount:${saEmail('dev-web-app', 'acme-dev-web')}`]);
}

// ---------------------------------------------------------------------------------------------------
// BigQuery
// ---------------------------------------------------------------------------------------------------

function buildBigQuery() {
  const dataset = (projectId, id, spec) => {
    const { created, modified, labels, readers = [], writers = [], kmsKey, description } = spec;
    const ms = (iso) => String(Date.parse(iso));
    const access = [
      { role: 'WRITER', specialGroup: 'projectWriters' },
      { role: 'OWNER', specialGroup: 'projectOwners' },
      { role: 'READER', specialGroup: 'projectReaders' },
      ...writers.map((m) => ({ role: 'WRITER', ...m })),
      ...readers.map((m) => ({ role: 'READER', ...m })),
    ];
    const data = {
      access,
      creationTime: ms(created),
      datasetReference: { datasetId: id, projectId },
      etag: b64(sha(`bq:${projectId}.${id}`).subarray(0, 16)),
      id: `${projectId}:${id}`,
      isCaseInsensitive: false,
      kind: 'bigquery#dataset',
      labels,
      lastModifiedTime: ms(modified),
      location: 'US',
      maxTimeTravelHours: '168',
      selfLink: `https://bigquery.googleapis.com/bigquery/v2/projects/${projectId}/datasets/${id}`,
      storageBillingModel: 'LOGICAL',
      type: 'DEFAULT',
    };
    if (description) data.description = description;
    if (kmsKey) data.defaultEncryptionConfiguration = { kmsKeyName: kmsKey };
    const name = `//bigquery.googleapis.com/projects/${projectId}/datasets/${id}`;
    addResource({
      name,
      assetType: 'bigquery.googleapis.com/Dataset',
      discovery: 'bigquery',
      discoveryName: 'Dataset',
      parent: projectParent(projectId),
      data,
      location: 'us',
      ancestors: projectAncestors(projectId),
    });
    // The dataset's IAM policy mirrors its access list.
    const member = (m) =>
      m.userByEmail
        ? `${m.userByEmail.endsWith('gserviceaccount.com') ? 'serviceAccount' : 'user'}:${m.userByEmail}`
        : `group:${m.groupByEmail}`;
    const bindings = [
      { role: 'roles/bigquery.dataEditor', members: [`projectEditor:${projectId}`, ...writers.map(member)] },
      { role: 'roles/bigquery.dataOwner', members: [`projectOwner:${projectId}`] },
      { role: 'roles/bigquery.dataViewer', members: [`projectViewer:${projectId}`, ...readers.map(member)] },
    ];
    addIamPolicy({
      name,
      assetType: 'bigquery.googleapis.com/Dataset',
      ancestors: projectAncestors(projectId),
      bindings,
    });
  };
  dataset('acme-prod-data', 'orders_analytics', {
    created: '2024-04-03T08:12:55.000Z',
    modified: '2026-07-14T10:31:02.000Z',
    labels: { 'cost-center': 'cc-2001', env: 'prod', team: 'data' },
    writers: [{ userByEmail: saEmail('etl-runner', 'acme-prod-data') }],
    readers: [{ groupByEmail: 'data-analysts@example.com' }],
    kmsKey: KEY.bqUs,
    description: 'Curated order facts for analytics',
  });
  dataset('acme-prod-data', 'finance_reporting', {
    created: '2024-06-17T12:40:08.000Z',
    modified: '2026-03-02T16:05:44.000Z',
    labels: { 'cost-center': 'cc-2001', env: 'prod', team: 'data' },
    writers: [{ userByEmail: saEmail('etl-runner', 'acme-prod-data') }],
    readers: [{ groupByEmail: 'finance@example.com' }],
    kmsKey: KEY.bqUs,
  });
  dataset('acme-dev-data', 'dev_sandbox', {
    created: '2024-03-13T09:02:31.000Z',
    modified: '2026-10-20T13:48:19.000Z',
    labels: { 'cost-center': 'cc-2001', env: 'dev', team: 'data' },
    writers: [{ groupByEmail: 'team-data@example.com' }],
    readers: [{ userByEmail: saEmail('reporting', 'acme-dev-data') }],
  });
  dataset('acme-shared-security', 'security_findings', {
    created: '2024-02-15T11:20:00.000Z',
    modified: '2026-09-30T08:00:12.000Z',
    labels: { 'cost-center': 'cc-9100', env: 'prod', team: 'security' },
    writers: [{ userByEmail: WARDEN_SA }],
    readers: [{ groupByEmail: 'gcp-security@example.com' }],
  });
}

// ---------------------------------------------------------------------------------------------------
// Cloud Storage
// ---------------------------------------------------------------------------------------------------

function bucket(projectId, name, spec) {
  const {
    created,
    updated = created,
    metageneration = 1,
    location = 'US-CENTRAL1',
    storageClass = 'STANDARD',
    ubla = true,
    pap = 'enforced',
    labels,
    versioning = false,
    kmsKey,
    retention,
    lifecycle = [],
    website,
    cors = [],
    logging,
  } = spec;
  const locationType = location.includes('-') ? 'region' : 'multi-region';
  const data = {
    acl: [],
    billing: {},
    cors,
    defaultObjectAcl: [],
    encryption: kmsKey ? { defaultKmsKeyName: kmsKey } : {},
    etag: bucketEtag(metageneration),
    iamConfiguration: {
      bucketPolicyOnly: ubla ? { enabled: true, lockedTime: addDays(created, 90) } : { enabled: false },
      publicAccessPrevention: pap,
      uniformBucketLevelAccess: ubla
        ? { enabled: true, lockedTime: addDays(created, 90) }
        : { enabled: false },
    },
    id: name,
    kind: 'storage#bucket',
    labels,
    lifecycle: { rule: lifecycle },
    location,
    locationType,
    logging: logging ?? {},
    metageneration,
    name,
    owner: {},
    projectNumber: Number(num(projectId)),
    retentionPolicy: retention ?? {},
    selfLink: `https://www.googleapis.com/storage/v1/b/${name}`,
    storageClass,
    timeCreated: created,
    updated,
    versioning: versioning ? { enabled: true } : {},
    website: website ?? {},
  };
  const caiName = `//storage.googleapis.com/${name}`;
  addResource({
    name: caiName,
    assetType: 'storage.googleapis.com/Bucket',
    discovery: 'storage',
    discoveryName: 'Bucket',
    parent: projectParent(projectId),
    data,
    location: location.toLowerCase(),
    ancestors: projectAncestors(projectId),
  });
  // Every bucket has an IAM policy: the legacy convenience bindings, plus the legacy object roles that
  // Cloud Storage adds when uniform bucket-level access is turned on, plus the bucket's own grants.
  const bindings = [
    {
      role: 'roles/storage.legacyBucketOwner',
      members: [`projectEditor:${projectId}`, `projectOwner:${projectId}`],
    },
    { role: 'roles/storage.legacyBucketReader', members: [`projectViewer:${projectId}`] },
  ];
  if (ubla) {
    bindings.push(
      {
        role: 'roles/storage.legacyObjectOwner',
        members: [`projectEditor:${projectId}`, `projectOwner:${projectId}`],
      },
      { role: 'roles/storage.legacyObjectReader', members: [`projectViewer:${projectId}`] },
    );
  }
  bindings.push(...(spec.grants ?? []));
  addIamPolicy({
    name: caiName,
    assetType: 'storage.googleapis.com/Bucket',
    ancestors: projectAncestors(projectId),
    bindings,
  });
}

function buildBuckets() {
  const L = {
    web: { 'cost-center': 'cc-1001', env: 'prod', team: 'web' },
    data: { 'cost-center': 'cc-2001', env: 'prod', team: 'data' },
    devWeb: { 'cost-center': 'cc-1001', env: 'dev', team: 'web' },
    devData: { 'cost-center': 'cc-2001', env: 'dev', team: 'data' },
    sec: { 'cost-center': 'cc-9100', env: 'prod', team: 'security' },
  };
  const sa = (id, p) => `serviceAccount:${saEmail(id, p)}`;

  // --- acme-prod-web ---
  // PLANTED: public through IAM (allUsers) in production, publicAccessPrevention "inherited" (CIS 5.1).
  bucket('acme-prod-web', 'acme-prod-web-static-assets', {
    created: '2024-03-05T12:14:07.391Z',
    updated: '2026-10-31T18:22:40.105Z',
    metageneration: 4,
    location: 'US',
    pap: 'inherited',
    labels: { ...L.web, app: 'storefront' },
    website: { mainPageSuffix: 'index.html', notFoundPage: '404.html' },
    cors: [
      {
        maxAgeSeconds: 3600,
        method: ['GET', 'HEAD'],
        origin: ['https://www.example.com'],
        responseHeader: ['Content-Type'],
      },
    ],
    grants: [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }],
  });
  // DECOY: an allUsers grant remains in the policy, but publicAccessPrevention "enforced" blocks it.
  bucket('acme-prod-web', 'acme-prod-web-press-kit', {
    created: '2024-09-10T09:45:31.662Z',
    updated: '2025-12-01T10:02:13.948Z',
    metageneration: 3,
    location: 'US',
    pap: 'enforced',
    labels: { ...L.web, app: 'marketing' },
    grants: [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }],
  });
  bucket('acme-prod-web', 'acme-prod-web-uploads', {
    created: '2024-03-05T12:16:48.027Z',
    updated: '2024-03-05T12:16:48.027Z',
    labels: { ...L.web, app: 'storefront' },
    versioning: true,
    lifecycle: [{ action: { type: 'Delete' }, condition: { daysSinceNoncurrentTime: 30, isLive: false } }],
    grants: [
      { role: 'roles/storage.objectCreator', members: [sa('web-app', 'acme-prod-web')] },
      { role: 'roles/storage.objectViewer', members: [sa('web-app', 'acme-prod-web')] },
    ],
  });

  // --- acme-prod-data ---
  bucket('acme-prod-data', 'acme-prod-data-raw', {
    created: '2024-03-06T07:30:12.880Z',
    updated: '2025-07-21T12:30:05.413Z',
    metageneration: 2,
    labels: { ...L.data, app: 'etl' },
    versioning: true,
    kmsKey: KEY.prodData,
    lifecycle: [{ action: { storageClass: 'NEARLINE', type: 'SetStorageClass' }, condition: { age: 30 } }],
    grants: [
      { role: 'roles/storage.objectCreator', members: [sa('etl-runner', 'acme-prod-data')] },
      { role: 'roles/storage.objectViewer', members: [sa('etl-runner', 'acme-prod-data')] },
    ],
  });
  // PLANTED: legacy storage class MULTI_REGIONAL (cost) and uniform bucket-level access off (CIS 5.2).
  bucket('acme-prod-data', 'acme-prod-data-legacy-exports', {
    created: '2019-02-26T16:48:09.214Z',
    updated: '2023-05-10T09:12:55.730Z',
    metageneration: 3,
    location: 'US',
    storageClass: 'MULTI_REGIONAL',
    ubla: false,
    pap: 'inherited',
    labels: { ...L.data, app: 'legacy-exports' },
  });
  bucket('acme-prod-data', 'acme-prod-data-backups', {
    created: '2024-03-06T07:34:40.512Z',
    updated: '2024-03-06T07:35:02.118Z',
    metageneration: 2,
    storageClass: 'NEARLINE',
    labels: { ...L.data, app: 'backups' },
    versioning: true,
    kmsKey: KEY.prodData,
    retention: { effectiveTime: '2024-03-06T07:35:02.118Z', retentionPeriod: '2592000' },
    grants: [{ role: 'roles/storage.objectCreator', members: [sa('etl-runner', 'acme-prod-data')] }],
  });

  // --- acme-dev-web ---
  // PLANTED: readable by allAuthenticatedUsers (any Google account), publicAccessPrevention "inherited",
  // uniform bucket-level access off (CIS 5.1 and 5.2).
  bucket('acme-dev-web', 'acme-dev-web-test-uploads', {
    created: '2025-03-18T13:05:22.470Z',
    updated: '2026-10-28T09:40:16.883Z',
    metageneration: 5,
    ubla: false,
    pap: 'inherited',
    labels: { ...L.devWeb, app: 'storefront' },
    grants: [{ role: 'roles/storage.objectViewer', members: ['allAuthenticatedUsers'] }],
  });
  bucket('acme-dev-web', 'acme-dev-web-build-cache', {
    created: '2024-03-11T09:10:57.306Z',
    updated: '2024-03-11T09:10:57.306Z',
    pap: 'inherited',
    labels: { ...L.devWeb, app: 'ci' },
    lifecycle: [{ action: { type: 'Delete' }, condition: { age: 14 } }],
    grants: [{ role: 'roles/storage.objectAdmin', members: [sa('ci-deployer', 'acme-dev-web')] }],
  });

  // --- acme-dev-data ---
  bucket('acme-dev-data', 'acme-dev-data-scratch', {
    created: '2024-03-12T15:20:04.771Z',
    updated: '2024-03-12T15:20:04.771Z',
    pap: 'inherited',
    labels: { ...L.devData, app: 'scratch' },
    lifecycle: [{ action: { type: 'Delete' }, condition: { age: 30 } }],
  });

  // --- acme-shared-security ---
  bucket('acme-shared-security', 'acme-org-audit-logs', {
    created: '2024-02-13T09:10:18.226Z',
    updated: '2024-02-13T09:15:31.904Z',
    metageneration: 3,
    location: 'US',
    storageClass: 'STANDARD',
    labels: { ...L.sec, app: 'audit-logs' },
    retention: { effectiveTime: '2024-02-13T09:15:31.904Z', isLocked: true, retentionPeriod: '31536000' },
    lifecycle: [{ action: { storageClass: 'ARCHIVE', type: 'SetStorageClass' }, condition: { age: 90 } }],
    grants: [{ role: 'roles/storage.objectCreator', members: [`serviceAccount:${LOG_WRITER}`] }],
  });
  bucket('acme-shared-security', 'acme-shared-security-tfstate', {
    created: '2024-02-12T16:02:39.557Z',
    updated: '2024-02-12T16:02:39.557Z',
    labels: { ...L.sec, app: 'terraform' },
    versioning: true,
  });
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------

buildHierarchy();
buildProjectIam();
buildNetworks();
buildInstances();
buildGke();
buildSql();
buildServiceAccounts();
buildKms();
buildBigQuery();
buildBuckets();

const toNdjson = (records) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const outputs = {
  'resources.ndjson': toNdjson(resources),
  'iam-policies.ndjson': toNdjson(iamPolicies),
};

if (process.argv.includes('--check')) {
  let stale = false;
  for (const [file, text] of Object.entries(outputs)) {
    let current = '';
    try {
      current = readFileSync(join(HERE, file), 'utf8');
    } catch {
      // missing file: stale
    }
    if (current !== text) {
      process.stderr.write(`${file} is out of date: run node examples/landing-zone/generate.mjs\n`);
      stale = true;
    }
  }
  process.exit(stale ? 1 : 0);
} else {
  for (const [file, text] of Object.entries(outputs)) writeFileSync(join(HERE, file), text);
  const counts = {};
  for (const r of resources) counts[r.asset_type] = (counts[r.asset_type] ?? 0) + 1;
  process.stdout.write(
    `wrote ${resources.length} resources (${Object.keys(counts).length} asset types) and ` +
      `${iamPolicies.length} IAM policies to ${HERE}\n`,
  );
}
