// Cross-checks terraform/ and cloudbuild.yaml against the code. There is no terraform binary here, so this
// cannot plan; it parses every .tf file (HCL -> JSON) and checks that what the code needs is declared:
// topics, subscriptions with dead-letter policies, one function and one service account per registered
// entry point, the Firestore collections and composite indexes, the execute role's permissions, the feeds'
// asset types, the scheduled sweep message and the build pipeline.
import { describe, it, expect, beforeAll } from '@jest/globals';
import { parse } from '@cdktf/hcl2json';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { CONTEXT_ASSET_TYPES, trackedAssetTypes } from '../../shared/engine/asset-scope.js';
import { loadPolicies } from '../../shared/policy/policy-set.js';
import { ApprovalTopicMessageSchema } from '../../shared/approvals/messages.js';
import { SweepEventSchema } from '../../shared/model/events.js';
import { TOPICS } from '../../shared/model/topics.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TF_DIR = path.join(ROOT, 'terraform');

/**
 * The execute function's custom role, next to the API calls of the remediations (shared/actions/*.ts) that
 * need each permission. `evidence` must still occur in shared/actions, so a permission outlives its call
 * only by a deliberate edit here; API_CALLS below makes every call the actions make account for itself.
 */
const EXECUTE_PERMISSIONS: ReadonlyArray<{ permission: string; call: string; evidence: RegExp }> = [
  {
    permission: 'storage.buckets.get',
    call: 'bucket.getMetadata = buckets.get',
    evidence: /\.getMetadata\(/,
  },
  {
    permission: 'storage.buckets.getIamPolicy',
    call: 'bucket.iam.getPolicy (readLive); buckets.get projection=full returns ACLs only with it',
    evidence: /\.iam\.getPolicy\(/,
  },
  {
    permission: 'storage.buckets.update',
    call: 'bucket.setMetadata = buckets.patch',
    evidence: /\.setMetadata\(/,
  },
  {
    permission: 'storage.buckets.setIamPolicy',
    call: 'buckets.patch of iamConfiguration.publicAccessPrevention (GCS requires it besides update)',
    evidence: /iamConfiguration: \{ publicAccessPrevention/,
  },
  { permission: 'compute.firewalls.get', call: 'FirewallsClient.get', evidence: /\bclient\.get\(/ },
  { permission: 'compute.firewalls.update', call: 'FirewallsClient.patch', evidence: /\bclient\.patch\(/ },
  {
    permission: 'compute.networks.updatePolicy',
    call: "FirewallsClient.patch (checked on the rule's network)",
    evidence: /\bclient\.patch\(/,
  },
  {
    permission: 'compute.globalOperations.get',
    call: 'GlobalOperationsClient.wait',
    evidence: /\bops\.wait\(/,
  },
  {
    permission: 'compute.instances.get',
    call: 'InstancesClient.get',
    evidence: /InstancesClient[\s\S]*\.get\(/,
  },
  {
    permission: 'compute.instances.setMetadata',
    call: 'InstancesClient.setMetadata',
    evidence: /\.setMetadata\(\{/,
  },
  { permission: 'compute.instances.setLabels', call: 'InstancesClient.setLabels', evidence: /\.setLabels\(/ },
  {
    permission: 'compute.instances.setDeletionProtection',
    call: 'InstancesClient.setDeletionProtection',
    evidence: /\.setDeletionProtection\(/,
  },
  { permission: 'compute.disks.get', call: 'DisksClient.get', evidence: /DisksClient/ },
  { permission: 'compute.disks.setLabels', call: 'DisksClient.setLabels', evidence: /\.setLabels\(/ },
  { permission: 'compute.projects.get', call: 'ProjectsClient.get', evidence: /ProjectsClient/ },
  {
    permission: 'compute.projects.setCommonInstanceMetadata',
    call: 'ProjectsClient.setCommonInstanceMetadata',
    evidence: /\.setCommonInstanceMetadata\(/,
  },
  {
    permission: 'compute.zoneOperations.get',
    call: 'ZoneOperationsClient.wait',
    evidence: /ZoneOperationsClient/,
  },
  {
    permission: 'compute.regionOperations.get',
    call: 'RegionOperationsClient.wait',
    evidence: /RegionOperationsClient/,
  },
  { permission: 'compute.subnetworks.get', call: 'SubnetworksClient.get', evidence: /SubnetworksClient/ },
  {
    permission: 'compute.subnetworks.update',
    call: 'SubnetworksClient.patch',
    evidence: /SubnetworksClient/,
  },
  {
    permission: 'compute.subnetworks.setPrivateIpGoogleAccess',
    call: 'SubnetworksClient.setPrivateIpGoogleAccess',
    evidence: /\.setPrivateIpGoogleAccess\(/,
  },
  {
    permission: 'compute.backendServices.get',
    call: 'BackendServicesClient.get',
    evidence: /'BackendServicesClient'/,
  },
  {
    permission: 'compute.backendServices.update',
    call: 'BackendServicesClient.patch',
    evidence: /'BackendServicesClient'/,
  },
  {
    permission: 'compute.regionBackendServices.get',
    call: 'RegionBackendServicesClient.get',
    evidence: /RegionBackendServicesClient/,
  },
  {
    permission: 'compute.regionBackendServices.update',
    call: 'RegionBackendServicesClient.patch',
    evidence: /RegionBackendServicesClient/,
  },
  { permission: 'compute.sslPolicies.get', call: 'SslPoliciesClient.get', evidence: /'SslPoliciesClient'/ },
  {
    permission: 'compute.sslPolicies.update',
    call: 'SslPoliciesClient.patch',
    evidence: /'SslPoliciesClient'/,
  },
  {
    permission: 'compute.regionSslPolicies.get',
    call: 'RegionSslPoliciesClient.get',
    evidence: /RegionSslPoliciesClient/,
  },
  {
    permission: 'compute.regionSslPolicies.update',
    call: 'RegionSslPoliciesClient.patch',
    evidence: /RegionSslPoliciesClient/,
  },
  {
    permission: 'compute.disks.addResourcePolicies',
    call: 'DisksClient/RegionDisksClient.addResourcePolicies',
    evidence: /\.addResourcePolicies\(/,
  },
  {
    permission: 'compute.disks.removeResourcePolicies',
    call: 'DisksClient/RegionDisksClient.removeResourcePolicies (undo)',
    evidence: /\.removeResourcePolicies\(/,
  },
  {
    permission: 'compute.resourcePolicies.get',
    call: 'ResourcePoliciesClient.get (the schedule exists and is READY)',
    evidence: /'ResourcePoliciesClient'/,
  },
  {
    permission: 'compute.resourcePolicies.use',
    call: 'addResourcePolicies (checked on the snapshot schedule attached)',
    evidence: /\.addResourcePolicies\(/,
  },
  {
    permission: 'cloudsql.instances.get',
    call: 'SqlInstancesServiceClient.get; SqlOperationsServiceClient.get (Cloud SQL checks instances.get for operations)',
    evidence: /'SqlInstancesServiceClient'/,
  },
  {
    permission: 'cloudsql.instances.update',
    call: 'SqlInstancesServiceClient.patch',
    evidence: /\bsql\.patch\(/,
  },
  {
    permission: 'bigquery.datasets.get',
    call: 'bq.dataset().getMetadata = datasets.get',
    evidence: /\.dataset\([^)]*\)\.getMetadata\(/,
  },
  {
    permission: 'bigquery.datasets.getIamPolicy',
    call: 'datasets.get with accessPolicyVersion=3 (access entries are IAM)',
    evidence: /\.dataset\([^)]*\)\.getMetadata\(/,
  },
  {
    permission: 'bigquery.datasets.update',
    call: 'bq.dataset().setMetadata = datasets.patch',
    evidence: /\.dataset\([^)]*\)\.setMetadata\(/,
  },
  {
    permission: 'bigquery.datasets.setIamPolicy',
    call: 'datasets.patch of access (access entries are IAM)',
    evidence: /\.dataset\([^)]*\)\.setMetadata\(/,
  },
  {
    permission: 'resourcemanager.projects.get',
    call: 'ProjectsClient.getProject',
    evidence: /\.getProject\(/,
  },
  {
    permission: 'resourcemanager.projects.update',
    call: 'ProjectsClient.updateProject (labels)',
    evidence: /\.updateProject\(/,
  },
  {
    permission: 'resourcemanager.projects.getIamPolicy',
    call: 'ProjectsClient.getIamPolicy',
    evidence: /projects\.getIamPolicy\(/,
  },
  {
    permission: 'resourcemanager.projects.setIamPolicy',
    call: 'ProjectsClient.setIamPolicy (bindings, auditConfigs)',
    evidence: /projects\.setIamPolicy\(/,
  },
  {
    permission: 'resourcemanager.folders.getIamPolicy',
    call: 'FoldersClient.getIamPolicy',
    evidence: /folders\.getIamPolicy\(/,
  },
  {
    permission: 'resourcemanager.folders.setIamPolicy',
    call: 'FoldersClient.setIamPolicy',
    evidence: /folders\.setIamPolicy\(/,
  },
  {
    permission: 'resourcemanager.organizations.getIamPolicy',
    call: 'OrganizationsClient.getIamPolicy',
    evidence: /organizations\.getIamPolicy\(/,
  },
  {
    permission: 'resourcemanager.organizations.setIamPolicy',
    call: 'OrganizationsClient.setIamPolicy',
    evidence: /organizations\.setIamPolicy\(/,
  },
  {
    permission: 'cloudkms.cryptoKeys.get',
    call: 'KeyManagementServiceClient.getCryptoKey',
    evidence: /\.getCryptoKey\(/,
  },
  {
    permission: 'cloudkms.cryptoKeys.update',
    call: 'KeyManagementServiceClient.updateCryptoKey (rotation)',
    evidence: /\.updateCryptoKey\(/,
  },
  {
    permission: 'cloudkms.cryptoKeys.getIamPolicy',
    call: 'kmsIam.getIamPolicy (GET, as KMS publishes it)',
    evidence: /kmsIam\.getIamPolicy\(/,
  },
  {
    permission: 'cloudkms.keyRings.getIamPolicy',
    call: 'kmsIam.getIamPolicy on a key ring',
    evidence: /kmsIam\.getIamPolicy\(/,
  },
  {
    permission: 'cloudkms.cryptoKeys.setIamPolicy',
    call: 'kmsIam.setIamPolicy (POST, updateMask bindings,etag)',
    evidence: /kmsIam\.setIamPolicy\(/,
  },
  {
    permission: 'cloudkms.keyRings.setIamPolicy',
    call: 'kmsIam.setIamPolicy on a key ring',
    evidence: /kmsIam\.setIamPolicy\(/,
  },
  {
    permission: 'secretmanager.secrets.getIamPolicy',
    call: 'SecretManagerServiceClient.getIamPolicy',
    evidence: /secrets\.getIamPolicy\(/,
  },
  {
    permission: 'secretmanager.secrets.setIamPolicy',
    call: 'SecretManagerServiceClient.setIamPolicy',
    evidence: /secrets\.setIamPolicy\(/,
  },
  {
    permission: 'container.clusters.get',
    call: 'ClusterManagerClient.getCluster',
    evidence: /\.getCluster\(/,
  },
  {
    permission: 'container.clusters.update',
    call: 'ClusterManagerClient.setLegacyAbac / setAddonsConfig / setNodePoolManagement / setLabels',
    evidence: /\.setLegacyAbac\(/,
  },
  {
    permission: 'container.operations.get',
    call: 'ClusterManagerClient.getOperation',
    evidence: /\.getOperation\(/,
  },
  {
    permission: 'dns.managedZones.get',
    call: 'dns.request GET managedZones/{z}',
    evidence: /\bdns\.request\(/,
  },
  {
    permission: 'dns.managedZones.update',
    call: 'dns.request PATCH managedZones/{z} (dnssecConfig)',
    evidence: /\bdns\.request\(/,
  },
  {
    permission: 'dns.managedZoneOperations.get',
    call: 'dns.request GET managedZones/{z}/operations/{op}',
    evidence: /\bdns\.request\(/,
  },
  {
    permission: 'dns.policies.get',
    call: 'dns.request GET policies/{p}',
    evidence: /\bdns\.request\(/,
  },
  {
    permission: 'dns.policies.update',
    call: 'dns.request PATCH policies/{p} (enableLogging)',
    evidence: /\bdns\.request\(/,
  },
  {
    permission: 'serviceusage.services.get',
    call: 'ServiceUsageClient.getService',
    evidence: /\.getService\(/,
  },
  {
    permission: 'serviceusage.services.enable',
    call: 'ServiceUsageClient.enableService',
    evidence: /\.enableService\(/,
  },
  {
    permission: 'serviceusage.services.disable',
    call: 'ServiceUsageClient.disableService (undo, checkIfServiceHasUsage)',
    evidence: /\.disableService\(/,
  },
  {
    permission: 'serviceusage.operations.get',
    call: 'ServiceUsageClient.checkEnableServiceProgress / checkDisableServiceProgress',
    evidence: /\.check(?:Enable|Disable)ServiceProgress\(/,
  },
  {
    permission: 'iam.serviceAccountKeys.get',
    call: 'iamAdmin.getServiceAccountKey = keys.get',
    evidence: /\.getServiceAccountKey\(/,
  },
  {
    permission: 'iam.serviceAccountKeys.disable',
    call: 'iamAdmin.disableServiceAccountKey = keys.disable',
    evidence: /\.disableServiceAccountKey\(/,
  },
  {
    permission: 'iam.serviceAccountKeys.enable',
    call: 'iamAdmin.enableServiceAccountKey = keys.enable (undo)',
    evidence: /\.enableServiceAccountKey\(/,
  },
];

/** Every API method the actions may call, by client (the CloudClients getter), with the permissions it needs. */
const API_CALLS: Record<string, Record<string, string[]>> = {
  storage: {
    getMetadata: ['storage.buckets.get', 'storage.buckets.getIamPolicy'],
    setMetadata: ['storage.buckets.update', 'storage.buckets.setIamPolicy'],
    'iam.getPolicy': ['storage.buckets.getIamPolicy'],
    'iam.setPolicy': ['storage.buckets.setIamPolicy'],
  },
  firewalls: {
    get: ['compute.firewalls.get'],
    patch: ['compute.firewalls.update', 'compute.networks.updatePolicy'],
  },
  globalOperations: {
    get: ['compute.globalOperations.get'],
    wait: ['compute.globalOperations.get'],
  },
  // cloud.compute('XClient'): the other Compute Engine clients, one IAM permission per method.
  'compute:InstancesClient': {
    get: ['compute.instances.get'],
    setMetadata: ['compute.instances.setMetadata'],
    setLabels: ['compute.instances.setLabels'],
    setDeletionProtection: ['compute.instances.setDeletionProtection'],
  },
  'compute:ProjectsClient': {
    get: ['compute.projects.get'],
    setCommonInstanceMetadata: ['compute.projects.setCommonInstanceMetadata'],
  },
  'compute:ZoneOperationsClient': {
    get: ['compute.zoneOperations.get'],
    wait: ['compute.zoneOperations.get'],
  },
  'compute:RegionOperationsClient': {
    get: ['compute.regionOperations.get'],
    wait: ['compute.regionOperations.get'],
  },
  'compute:SubnetworksClient': {
    get: ['compute.subnetworks.get'],
    patch: ['compute.subnetworks.update'],
    setPrivateIpGoogleAccess: ['compute.subnetworks.setPrivateIpGoogleAccess'],
  },
  'compute:BackendServicesClient': {
    get: ['compute.backendServices.get'],
    patch: ['compute.backendServices.update'],
  },
  'compute:RegionBackendServicesClient': {
    get: ['compute.regionBackendServices.get'],
    patch: ['compute.regionBackendServices.update'],
  },
  'compute:SslPoliciesClient': { get: ['compute.sslPolicies.get'], patch: ['compute.sslPolicies.update'] },
  'compute:RegionSslPoliciesClient': {
    get: ['compute.regionSslPolicies.get'],
    patch: ['compute.regionSslPolicies.update'],
  },
  'compute:DisksClient': {
    get: ['compute.disks.get'],
    setLabels: ['compute.disks.setLabels'],
    addResourcePolicies: ['compute.disks.addResourcePolicies', 'compute.resourcePolicies.use'],
    removeResourcePolicies: ['compute.disks.removeResourcePolicies'],
  },
  // Regional disks are checked against the same compute.disks.* permissions.
  'compute:RegionDisksClient': {
    get: ['compute.disks.get'],
    addResourcePolicies: ['compute.disks.addResourcePolicies', 'compute.resourcePolicies.use'],
    removeResourcePolicies: ['compute.disks.removeResourcePolicies'],
  },
  'compute:ResourcePoliciesClient': { get: ['compute.resourcePolicies.get'] },
  'sql:SqlInstancesServiceClient': { get: ['cloudsql.instances.get'], patch: ['cloudsql.instances.update'] },
  'sql:SqlOperationsServiceClient': { get: ['cloudsql.instances.get'] },
  // bq.dataset(id).getMetadata / .setMetadata, scanned like storage's bucket(…) calls.
  bigquery: {
    getMetadata: ['bigquery.datasets.get', 'bigquery.datasets.getIamPolicy'],
    setMetadata: ['bigquery.datasets.update', 'bigquery.datasets.setIamPolicy'],
  },
  'resourceManager:ProjectsClient': {
    getProject: ['resourcemanager.projects.get'],
    updateProject: ['resourcemanager.projects.update'],
    // operations.get of Resource Manager needs no permission beyond the caller's scope.
    checkUpdateProjectProgress: [],
    getIamPolicy: ['resourcemanager.projects.getIamPolicy'],
    setIamPolicy: ['resourcemanager.projects.setIamPolicy'],
  },
  'resourceManager:FoldersClient': {
    getIamPolicy: ['resourcemanager.folders.getIamPolicy'],
    setIamPolicy: ['resourcemanager.folders.setIamPolicy'],
  },
  'resourceManager:OrganizationsClient': {
    getIamPolicy: ['resourcemanager.organizations.getIamPolicy'],
    setIamPolicy: ['resourcemanager.organizations.setIamPolicy'],
  },
  'kms:KeyManagementServiceClient': {
    getCryptoKey: ['cloudkms.cryptoKeys.get'],
    updateCryptoKey: ['cloudkms.cryptoKeys.update'],
  },
  kmsIam: {
    getIamPolicy: ['cloudkms.cryptoKeys.getIamPolicy', 'cloudkms.keyRings.getIamPolicy'],
    setIamPolicy: ['cloudkms.cryptoKeys.setIamPolicy', 'cloudkms.keyRings.setIamPolicy'],
  },
  'secretManager:SecretManagerServiceClient': {
    getIamPolicy: ['secretmanager.secrets.getIamPolicy'],
    setIamPolicy: ['secretmanager.secrets.setIamPolicy'],
  },
  'container:ClusterManagerClient': {
    getCluster: ['container.clusters.get'],
    getOperation: ['container.operations.get'],
    setLegacyAbac: ['container.clusters.update'],
    setAddonsConfig: ['container.clusters.update'],
    setNodePoolManagement: ['container.clusters.update'],
    setLabels: ['container.clusters.update'],
  },
  // dns.request(…) covers every DNS call (the client has no zone patch and no policy class).
  dns: {
    request: [
      'dns.managedZones.get',
      'dns.managedZones.update',
      'dns.managedZoneOperations.get',
      'dns.policies.get',
      'dns.policies.update',
    ],
  },
  'serviceUsage:ServiceUsageClient': {
    getService: ['serviceusage.services.get'],
    enableService: ['serviceusage.services.enable'],
    disableService: ['serviceusage.services.disable'],
    checkEnableServiceProgress: ['serviceusage.operations.get'],
    checkDisableServiceProgress: ['serviceusage.operations.get'],
  },
  // IAM Admin v1 over documented REST (shared/cloud/iam-admin.ts): one permission per keys method.
  iamAdmin: {
    getServiceAccountKey: ['iam.serviceAccountKeys.get'],
    disableServiceAccountKey: ['iam.serviceAccountKeys.disable'],
    enableServiceAccountKey: ['iam.serviceAccountKeys.enable'],
  },
};

/**
 * What each client of the CloudClients port (shared/cloud/clients.ts) is for, and so which identity holds
 * its permissions. A new client fails this suite until its IAM is decided here and in terraform/iam.tf.
 */
const CLOUD_CLIENT_IAM: Record<string, string> = {
  storage: 'execute: custom role (storage.buckets.*)',
  firewalls: 'execute: custom role (compute.firewalls.*)',
  globalOperations: 'execute: custom role (compute.globalOperations.get)',
  assets: 'detect-sweep: roles/cloudasset.viewer on the organization',
  compute: 'execute: custom role (one compute.* permission per method, see API_CALLS)',
  sql: 'execute: custom role (cloudsql.instances.*)',
  kms: 'execute: custom role (cloudkms.*)',
  kmsIam: 'execute: custom role (cloudkms.keyRings|cryptoKeys.getIamPolicy/setIamPolicy)',
  iamAdmin: 'execute: custom role (iam.serviceAccountKeys.get/disable/enable)',
  secretManager: 'execute: custom role (secretmanager.secrets.*)',
  container: 'execute: custom role (container.clusters.*)',
  resourceManager: 'execute: custom role (resourcemanager.projects|folders|organizations get/update/IAM)',
  serviceUsage: 'execute: custom role (serviceusage.services.*)',
  bigquery: 'execute: custom role (bigquery.datasets.*)',
  dns: 'execute: custom role (dns.managedZones.*, dns.policies.*)',
};

/** The module holding each registered function's handler (imported by its functions/<dir>/index.ts). */
const HANDLER_MODULES: Record<string, string> = {
  detect: 'functions/detect/handle-asset-change.ts',
  'detect-sweep': 'functions/detect/handle-sweep.ts',
  'detect-authors': 'functions/detect/handle-change-log.ts',
  'assess-risk': 'functions/assess-risk/handler.ts',
  execute: 'functions/execute/handler.ts',
  rollback: 'functions/rollback/handler.ts',
  report: 'functions/report/handler.ts',
  'request-approval': 'functions/request-approval/handler.ts',
  api: 'functions/api/handler.ts',
  slack: 'functions/api/slack-handler.ts',
};

/** Queries Firestore can only serve with a composite index (terraform/firestore.tf explains the others). */
const COMPOSITE_QUERIES: ReadonlyArray<{
  collection: string;
  fields: Array<[string, 'ASCENDING' | 'DESCENDING']>;
  source: string;
  evidence: string[];
}> = [
  {
    collection: 'findings',
    fields: [
      ['resourceName', 'ASCENDING'],
      ['status', 'ASCENDING'],
    ],
    source: 'shared/engine/repository.ts',
    evidence: ["['resourceName', '=='", "['status', '=='"],
  },
];

/** Files whose collection constants make up the store's schema (plus any other direct store user). */
/** Environment variables from-environment.ts reads that terraform deliberately does not set, and why. */
const ENV_NOT_SET_BY_TERRAFORM: Record<string, string> = {
  GCLOUD_PROJECT: 'legacy alias of GOOGLE_CLOUD_PROJECT',
  K_SERVICE: 'set by Cloud Run',
  FUNCTION_TARGET: 'set by the functions runtime',
  WARDEN_TWIN_URL: 'local modes only: points the clients at the GCP twin',
  WARDEN_POLICIES_DIR: 'optional (var.policies_dir); default is the policies/ shipped in the zip',
  WARDEN_APPROVALS_FILE: 'optional; default is approvals.yaml in the policies folder',
  WARDEN_SLACK_API_URL: 'tests only: points the Slack client at the local stand-in',
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** hcl2json renders every block as an array of bodies; terraform here never repeats a labelled block. */
function body(v: unknown, what: string): Obj {
  const first = Array.isArray(v) ? v[0] : v;
  if (!isObj(first)) throw new Error(`${what}: not a block`);
  return first;
}

function blocks(v: unknown, what: string): Obj[] {
  if (!Array.isArray(v) || !v.every(isObj)) throw new Error(`${what}: not a list of blocks`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new Error(`${what}: expected a list of strings, got ${JSON.stringify(v)}`);
  }
  return v;
}

interface Terraform {
  files: string[];
  resources: Map<string, Obj>;
  locals: Obj;
  variables: Map<string, Obj>;
  /** Every string anywhere in the configuration, for reference scans. */
  allStrings: string[];
}

function collectStrings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, out));
  else if (isObj(v)) Object.values(v).forEach((x) => collectStrings(x, out));
}

async function loadTerraform(): Promise<Terraform> {
  const files = (await readdir(TF_DIR)).filter((f) => f.endsWith('.tf')).sort();
  const tf: Terraform = { files, resources: new Map(), locals: {}, variables: new Map(), allStrings: [] };
  for (const file of files) {
    const json = (await parse(file, await readFile(path.join(TF_DIR, file), 'utf8'))) as Obj;
    collectStrings(json, tf.allStrings);
    for (const l of (json['locals'] as unknown[] | undefined) ?? []) {
      for (const [k, v] of Object.entries(body(l, `${file} locals`))) {
        if (k in tf.locals) throw new Error(`local.${k} is defined twice`);
        tf.locals[k] = v;
      }
    }
    for (const [name, v] of Object.entries((json['variable'] as Obj | undefined) ?? {})) {
      tf.variables.set(name, body(v, `variable ${name}`));
    }
    for (const [type, byName] of Object.entries((json['resource'] as Obj | undefined) ?? {})) {
      if (!isObj(byName)) continue;
      for (const [name, v] of Object.entries(byName)) {
        const key = `${type}.${name}`;
        if (tf.resources.has(key)) throw new Error(`${key} is declared twice`);
        tf.resources.set(key, body(v, key));
      }
    }
  }
  return tf;
}

function resource(tf: Terraform, key: string): Obj {
  const r = tf.resources.get(key);
  if (!r) throw new Error(`terraform declares no ${key}`);
  return r;
}

function resourcesOfType(tf: Terraform, type: string): Array<[string, Obj]> {
  return [...tf.resources].filter(([k]) => k.startsWith(`${type}.`));
}

function local(tf: Terraform, name: string): unknown {
  if (!(name in tf.locals)) throw new Error(`terraform declares no local.${name}`);
  return tf.locals[name];
}

async function source(rel: string): Promise<string> {
  return readFile(path.join(ROOT, rel), 'utf8');
}

interface Registration {
  name: string;
  topic: string;
  file: string;
}

/** functions.http('NAME', …): called by people and Slack, not by Pub/Sub. */
interface HttpRegistration {
  name: string;
  file: string;
}
let httpRegistered: HttpRegistration[] = [];

/** The functions-framework registrations: functions.cloudEvent('NAME', cloudEventFunction('TOPIC', …)). */
async function registrations(): Promise<Registration[]> {
  const dirs = (await readdir(path.join(ROOT, 'functions'), { withFileTypes: true })).filter((d) =>
    d.isDirectory(),
  );
  const found: Registration[] = [];
  httpRegistered = [];
  for (const d of dirs) {
    const file = `functions/${d.name}/index.ts`;
    if (!existsSync(path.join(ROOT, file))) continue;
    const text = await source(file);
    const calls = text.match(/functions\.(cloudEvent|http)\(/g) ?? [];
    const re = /functions\.cloudEvent\(\s*['"]([^'"]+)['"]\s*,\s*cloudEventFunction\(\s*['"]([^'"]+)['"]/g;
    const matched = [...text.matchAll(re)].map((m) => ({ name: m[1] ?? '', topic: m[2] ?? '', file }));
    const http = [...text.matchAll(/functions\.http\(\s*['"]([^'"]+)['"]/g)].map((m) => ({
      name: m[1] ?? '',
      file,
    }));
    if (matched.length + http.length !== calls.length) {
      throw new Error(
        `${file}: ${calls.length} registrations, ${matched.length} in the cloudEventFunction shape, ${http.length} HTTP`,
      );
    }
    found.push(...matched);
    httpRegistered.push(...http);
  }
  return found;
}

/** Relative runtime imports of a module (type-only imports carry no code and are skipped). */
function runtimeImports(file: string, text: string): string[] {
  const out: string[] = [];
  const re = /^(?:import|export)\s+(type\s+)?[^'";]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) {
    if (m[1]) continue;
    const spec = (m[2] ?? '').replace(/\.js$/, '.ts');
    out.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)));
  }
  return out;
}

/** Topics published by a module and everything it imports at run time: `bus.publish('TOPIC'`. */
async function publishedTopics(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const topics = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop() as string;
    if (seen.has(file) || !existsSync(path.join(ROOT, file))) continue;
    seen.add(file);
    const text = await source(file);
    for (const m of text.matchAll(/bus\.publish\(\s*['"]([^'"]+)['"]/g)) topics.add(m[1] ?? '');
    queue.push(...runtimeImports(file, text));
  }
  return topics;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

let tf: Terraform;
let registered: Registration[];

beforeAll(async () => {
  tf = await loadTerraform();
  registered = await registrations();
});

describe('terraform parses', () => {
  it('has the files the deployment is split into, each valid HCL', () => {
    for (const f of [
      'versions.tf',
      'variables.tf',
      'pubsub.tf',
      'functions.tf',
      'iam.tf',
      'firestore.tf',
      'feeds.tf',
      'scheduler.tf',
      'outputs.tf',
    ]) {
      expect(tf.files).toContain(f);
    }
  });

  it('pins Terraform >= 1.5 and hashicorp/google ~> 6.0', async () => {
    const json = (await parse('versions.tf', await source('terraform/versions.tf'))) as Obj;
    const terraform = body(json['terraform'], 'terraform');
    expect(terraform['required_version']).toBe('>= 1.5');
    const providers = body(terraform['required_providers'], 'required_providers');
    expect(providers['google']).toEqual({ source: 'hashicorp/google', version: '~> 6.0' });
  });

  it('uses the prefix the functions default to', async () => {
    const fromEnv = await source('shared/roots/from-environment.ts');
    const codeDefault = /env\['WARDEN_PREFIX'\]\s*\?\?\s*'([^']*)'/.exec(fromEnv)?.[1];
    expect(codeDefault).toBeDefined();
    expect(tf.variables.get('prefix')?.['default']).toBe(codeDefault);
  });

  it('references only topics that exist', () => {
    const refs = tf.allStrings.flatMap((s) => [...s.matchAll(/google_pubsub_topic\.bus\["([^"]+)"\]/g)]);
    expect(refs.length).toBeGreaterThan(0);
    for (const m of refs) expect(TOPICS).toContain(m[1]);
  });
});

describe('topics and subscriptions', () => {
  it('declares every topic of TOPICS, with the prefix', () => {
    expect(local(tf, 'topics')).toEqual([...TOPICS]);
    const bus = resource(tf, 'google_pubsub_topic.bus');
    expect(bus['for_each']).toBe('${toset(local.topics)}');
    expect(bus['name']).toBe('${var.prefix}${each.key}');
  });

  it('subscribes each registered function to the topic its code consumes', () => {
    const functions = local(tf, 'functions') as Obj;
    for (const r of registered) {
      expect(TOPICS).toContain(r.topic);
      expect(body(functions[r.name], `local.functions["${r.name}"]`)['topic']).toBe(r.topic);
    }
    const push = resource(tf, 'google_pubsub_subscription.push');
    expect(push['for_each']).toBe('${local.functions}');
    expect(push['topic']).toBe('${google_pubsub_topic.bus[each.value.topic].id}');
  });

  it('gives every subscribed topic a dead-letter topic, kept on a subscription', () => {
    expect(local(tf, 'subscribed_topics')).toBe('${toset([for f in local.functions : f.topic])}');
    const dlTopic = resource(tf, 'google_pubsub_topic.dead_letter');
    expect(dlTopic['for_each']).toBe('${local.subscribed_topics}');
    expect(dlTopic['name']).toBe('${var.prefix}${each.key}-dead-letter');
    const dlSub = resource(tf, 'google_pubsub_subscription.dead_letter');
    expect(dlSub['for_each']).toBe('${local.subscribed_topics}');
    expect(dlSub['topic']).toBe('${google_pubsub_topic.dead_letter[each.key].id}');
  });

  it('has a dead-letter policy (5 attempts), a retry policy with backoff and an ack deadline on each push subscription', () => {
    const push = resource(tf, 'google_pubsub_subscription.push');
    const dl = body(push['dead_letter_policy'], 'dead_letter_policy');
    expect(dl['dead_letter_topic']).toBe('${google_pubsub_topic.dead_letter[each.value.topic].id}');
    expect(dl['max_delivery_attempts']).toBe('${local.max_delivery_attempts}');
    expect(local(tf, 'max_delivery_attempts')).toBe(5);
    const retry = body(push['retry_policy'], 'retry_policy');
    expect(retry['minimum_backoff']).toMatch(/^\d+s$/);
    expect(retry['maximum_backoff']).toMatch(/^\d+s$/);
    expect(push['ack_deadline_seconds']).toBe('${min(600, each.value.timeout_seconds + 30)}');
  });

  it('pushes to the function URL with an OIDC token of the push invoker', () => {
    const push = resource(tf, 'google_pubsub_subscription.push');
    const cfg = body(push['push_config'], 'push_config');
    expect(str(cfg['push_endpoint'], 'push_endpoint')).toMatch(
      /^\$\{google_cloudfunctions2_function\.fn\[each\.key\]\.service_config\[0\]\.uri\}\/projects\//,
    );
    const oidc = body(cfg['oidc_token'], 'oidc_token');
    expect(oidc['service_account_email']).toBe('${google_service_account.push_invoker.email}');
    expect(oidc['audience']).toBe('${google_cloudfunctions2_function.fn[each.key].service_config[0].uri}');
  });

  it('lets the Pub/Sub service agent publish dead letters, acknowledge the source and sign push tokens', () => {
    expect(str(local(tf, 'pubsub_service_agent'), 'pubsub_service_agent')).toBe(
      'serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com',
    );
    const pub = resource(tf, 'google_pubsub_topic_iam_member.dead_letter_publisher');
    expect(pub['for_each']).toBe('${local.subscribed_topics}');
    expect(pub['topic']).toBe('${google_pubsub_topic.dead_letter[each.key].name}');
    expect(pub['role']).toBe('roles/pubsub.publisher');
    expect(pub['member']).toBe('${local.pubsub_service_agent}');
    const sub = resource(tf, 'google_pubsub_subscription_iam_member.dead_letter_subscriber');
    expect(sub['for_each']).toBe('${local.functions}');
    expect(sub['subscription']).toBe('${google_pubsub_subscription.push[each.key].name}');
    expect(sub['role']).toBe('roles/pubsub.subscriber');
    expect(sub['member']).toBe('${local.pubsub_service_agent}');
    const token = resource(tf, 'google_service_account_iam_member.pubsub_mints_invoker_tokens');
    expect(token['service_account_id']).toBe('${google_service_account.push_invoker.name}');
    expect(token['role']).toBe('roles/iam.serviceAccountTokenCreator');
  });
});

describe('functions', () => {
  it('finds the registrations in functions/*/index.ts', () => {
    // The parser sanity check: the five of the first release at least (a new one must then be in terraform).
    expect(registered.map((r) => r.name)).toEqual(
      expect.arrayContaining(['assess-risk', 'detect', 'detect-sweep', 'execute', 'report']),
    );
  });

  it('declares one function per registered name, with that entry point, and no others', () => {
    const functions = local(tf, 'functions') as Obj;
    expect(Object.keys(functions).sort()).toEqual(registered.map((r) => r.name).sort());
    for (const r of registered) {
      expect(body(functions[r.name], r.name)['entry_point']).toBe(r.name);
    }
    const fn = resource(tf, 'google_cloudfunctions2_function.fn');
    expect(fn['for_each']).toBe('${local.functions}');
    expect(fn['name']).toBe('${var.prefix}${each.key}');
    const build = body(fn['build_config'], 'build_config');
    expect(build['runtime']).toBe('nodejs20');
    expect(build['entry_point']).toBe('${each.value.entry_point}');
    const src = body(body(build['source'], 'source')['storage_source'], 'storage_source');
    expect(src).toMatchObject({ bucket: '${var.source_bucket}', object: '${var.source_object}' });
    expect(fn['event_trigger']).toBeUndefined();
  });

  it('runs each function as its own service account, behind internal ingress', () => {
    const fn = resource(tf, 'google_cloudfunctions2_function.fn');
    const svc = body(fn['service_config'], 'service_config');
    expect(svc['service_account_email']).toBe('${google_service_account.function[each.key].email}');
    expect(['ALLOW_INTERNAL_ONLY', 'ALLOW_INTERNAL_AND_GCLB']).toContain(svc['ingress_settings']);
    const sa = resource(tf, 'google_service_account.function');
    expect(sa['for_each']).toBe('${local.all_functions}');
    expect(local(tf, 'all_functions')).toBe('${merge(local.functions, local.http_functions)}');
    expect(str(sa['account_id'], 'account_id')).toContain('${each.key}');
  });

  it('keeps each function within the Pub/Sub push deadline', () => {
    const functions = local(tf, 'functions') as Obj;
    for (const [name, f] of Object.entries(functions)) {
      const timeout = body(f, name)['timeout_seconds'];
      expect(typeof timeout).toBe('number');
      expect(timeout as number).toBeLessThanOrEqual(570);
    }
  });

  it('grants run.invoker on each function to the push invoker only', () => {
    const grants = [
      ...resourcesOfType(tf, 'google_cloud_run_service_iam_member'),
      ...resourcesOfType(tf, 'google_cloud_run_v2_service_iam_member'),
      ...resourcesOfType(tf, 'google_cloudfunctions2_function_iam_member'),
    ];
    // The push invoker on the Pub/Sub functions; the HTTP functions' callers are tested below.
    expect(grants.map(([k]) => k).sort()).toEqual([
      'google_cloud_run_service_iam_member.api_invokers',
      'google_cloud_run_service_iam_member.invoker',
      'google_cloud_run_service_iam_member.slack_public',
    ]);
    const invoker = resource(tf, 'google_cloud_run_service_iam_member.invoker');
    expect(invoker['for_each']).toBe('${local.functions}');
    expect(invoker['service']).toBe('${google_cloudfunctions2_function.fn[each.key].name}');
    expect(invoker['role']).toBe('roles/run.invoker');
    expect(invoker['member']).toBe('serviceAccount:${google_service_account.push_invoker.email}');
    const projectWide = resourcesOfType(tf, 'google_project_iam_member').filter(([, r]) =>
      /run\.invoker|cloudfunctions\.invoker/.test(String(r['role'])),
    );
    expect(projectWide).toEqual([]);
  });

  it('sets the environment the deployed composition root reads', async () => {
    const env = local(tf, 'function_env');
    // Per-function environment and secrets count too (the API's audience, the Slack secrets).
    const text = JSON.stringify([env, local(tf, 'functions'), local(tf, 'http_functions')]);
    const fromEnv = await source('shared/roots/from-environment.ts');
    const read = new Set([...fromEnv.matchAll(/env\['([A-Z_]+)'\]/g)].map((m) => m[1] ?? ''));
    expect(read.size).toBeGreaterThan(0);
    for (const name of read) {
      if (name in ENV_NOT_SET_BY_TERRAFORM) continue;
      expect(`${name}: ${text.includes(name) ? 'set' : 'not set'}`).toBe(`${name}: set`);
    }
    expect(text).toMatch(/GOOGLE_CLOUD_PROJECT\s*=\s*var\.project_id/);
    expect(text).toMatch(/WARDEN_PREFIX\s*=\s*var\.prefix/);
    expect(text).toMatch(/WARDEN_DRY_RUN\s*=\s*tostring\(var\.dry_run\)/);
    expect(text).toMatch(/WARDEN_POLICIES_DIR\s*=\s*var\.policies_dir/);
  });
});

describe('HTTP functions (the automation API, the Slack endpoint)', () => {
  it('declares one HTTP function per functions.http registration, with that entry point, and no others', () => {
    const http = local(tf, 'http_functions') as Obj;
    expect(httpRegistered.map((r) => r.name).sort()).toEqual(['api', 'slack']);
    expect(Object.keys(http).sort()).toEqual(httpRegistered.map((r) => r.name).sort());
    for (const r of httpRegistered) expect(body(http[r.name], r.name)['entry_point']).toBe(r.name);
    const fn = resource(tf, 'google_cloudfunctions2_function.http');
    expect(fn['for_each']).toBe('${local.http_functions}');
    expect(fn['name']).toBe('${var.prefix}${each.key}');
    const build = body(fn['build_config'], 'build_config');
    expect(build['entry_point']).toBe('${each.value.entry_point}');
    const svc = body(fn['service_config'], 'service_config');
    expect(svc['service_account_email']).toBe('${google_service_account.function[each.key].email}');
    expect(svc['ingress_settings']).toBe('${each.value.ingress}');
    expect(svc['environment_variables']).toBe('${merge(local.function_env, each.value.env)}');
  });

  it('lets only var.api_invokers call the API, which checks the ID token and its audience itself', async () => {
    const grant = resource(tf, 'google_cloud_run_service_iam_member.api_invokers');
    expect(grant['for_each']).toBe('${toset(var.api_invokers)}');
    expect(grant['service']).toBe('${google_cloudfunctions2_function.http["api"].name}');
    expect(grant['role']).toBe('roles/run.invoker');
    expect(grant['member']).toBe('${each.key}');
    const api = body((local(tf, 'http_functions') as Obj)['api'], 'api');
    expect(JSON.stringify(api['env'])).toContain(
      'https://${var.region}-${var.project_id}.cloudfunctions.net/${var.prefix}api',
    );
    const fromEnv = await source('shared/roots/from-environment.ts');
    expect(fromEnv).toMatch(/googleIdTokenAuthenticator\(\{\s*audience/);
  });

  it('makes only the Slack endpoint public, and it verifies every request’s signature', async () => {
    const grant = resource(tf, 'google_cloud_run_service_iam_member.slack_public');
    expect(grant['service']).toBe('${google_cloudfunctions2_function.http["slack"].name}');
    expect(grant['member']).toBe('allUsers');
    const everyone = [...tf.resources].filter(([, r]) =>
      /allUsers|allAuthenticatedUsers/.test(JSON.stringify(r)),
    );
    expect(everyone.map(([k]) => k)).toEqual(['google_cloud_run_service_iam_member.slack_public']);
    const slack = body((local(tf, 'http_functions') as Obj)['slack'], 'slack');
    expect(slack['secrets']).toEqual({
      SLACK_BOT_TOKEN: '${var.slack_bot_token_secret_id}',
      SLACK_SIGNING_SECRET: '${var.slack_signing_secret_secret_id}',
    });
    expect(await source('functions/api/slack-handler.ts')).toContain('handleSlackInteraction(');
    expect(await source('shared/slack/interaction-endpoint.ts')).toMatch(/verifySlackSignature\(/);
  });

  it('gives the signing secret to the Slack endpoint only', () => {
    const all = { ...(local(tf, 'functions') as Obj), ...(local(tf, 'http_functions') as Obj) };
    const holders = Object.entries(all)
      .filter(([name, f]) => JSON.stringify(body(f, name)['secrets']).includes('slack_signing_secret'))
      .map(([name]) => name);
    expect(holders).toEqual(['slack']);
  });

  it('keeps service account ids within 30 characters for the longest prefix the variable allows', () => {
    const prefix = tf.variables.get('prefix');
    const validation = body(prefix?.['validation'], 'prefix validation');
    const max = /\{0,(\d+)\}/.exec(String(validation['condition']))?.[1];
    expect(max).toBeDefined();
    const longest = Number(max) + 1;
    const names = [...registered.map((r) => r.name), ...httpRegistered.map((r) => r.name)];
    for (const n of names) expect(`${n}: ${longest + `fn-${n}`.length <= 30}`).toBe(`${n}: true`);
  });
});

describe('least privilege', () => {
  it('lets each function publish exactly to the topics its code publishes to', async () => {
    const functions = { ...(local(tf, 'functions') as Obj), ...(local(tf, 'http_functions') as Obj) };
    for (const r of [...registered, ...httpRegistered]) {
      const handler = HANDLER_MODULES[r.name];
      expect(handler).toBeDefined();
      const index = await source(r.file);
      const spec = `./${path.posix.basename(handler as string).replace(/\.ts$/, '.js')}`;
      expect(index).toContain(`from '${spec}'`);
      const published = [...(await publishedTopics(handler as string))].sort();
      const declared = strings(body(functions[r.name], r.name)['publishes'], `${r.name}.publishes`);
      expect({ function: r.name, publishes: [...declared].sort() }).toEqual({
        function: r.name,
        publishes: published,
      });
    }
    const grant = resource(tf, 'google_pubsub_topic_iam_member.publisher');
    expect(grant['for_each']).toBe('${local.publish_grants}');
    expect(grant['topic']).toBe('${google_pubsub_topic.bus[each.value.topic].name}');
    expect(grant['role']).toBe('roles/pubsub.publisher');
    expect(grant['member']).toBe(
      'serviceAccount:${google_service_account.function[each.value.function].email}',
    );
  });

  it('gives every function Firestore access and nothing project-wide beyond it', () => {
    const ds = resource(tf, 'google_project_iam_member.datastore_user');
    expect(ds['for_each']).toBe('${local.all_functions}');
    expect(ds['role']).toBe('roles/datastore.user');
    const projectGrants = resourcesOfType(tf, 'google_project_iam_member');
    for (const [key, r] of projectGrants) {
      if (key === 'google_project_iam_member.datastore_user') continue;
      // Only the build identity holds other project roles.
      expect(`${key}: ${String(r['member'])}`).toBe(
        `${key}: serviceAccount:\${google_service_account.build.email}`,
      );
    }
  });

  it('holds exactly the permissions the remediations call in the execute custom role', () => {
    const role = resource(tf, 'google_organization_iam_custom_role.execute');
    const perms = strings(role['permissions'], 'permissions');
    expect([...perms].sort()).toEqual([...new Set(EXECUTE_PERMISSIONS.map((p) => p.permission))].sort());
    expect(role['org_id']).toBe('${var.org_id}');
  });

  it('justifies every permission of the role by a call the actions still make', async () => {
    const text = (
      await Promise.all((await walk(path.join(ROOT, 'shared/actions'))).map((f) => readFile(f, 'utf8')))
    ).join('\n');
    for (const p of EXECUTE_PERMISSIONS) {
      expect(`${p.permission} <- ${p.call}: ${p.evidence.test(text) ? 'found' : 'no such call'}`).toBe(
        `${p.permission} <- ${p.call}: found`,
      );
    }
  });

  it('covers every API call of the remediations with the role', async () => {
    const role = new Set(EXECUTE_PERMISSIONS.map((p) => p.permission));
    let calls = 0;
    for (const file of await walk(path.join(ROOT, 'shared/actions'))) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const text = await readFile(file, 'utf8');
      const rel = path.relative(ROOT, file);
      // Clients are obtained as `const x = await ctx.cloud.NAME()`; each method called on x is an API call.
      // …or `const x = await ctx.cloud.compute('XClient')` for the other Compute Engine clients.
      for (const m of text.matchAll(/const\s+(\w+)\s*=\s*await\s+ctx\.cloud\.(\w+)\((?:'(\w+)')?\)/g)) {
        const [, variable, getter, named] = m as unknown as [string, string, string, string | undefined];
        const client = named ? `${getter}:${named}` : getter;
        const methods = API_CALLS[client];
        expect(`${rel}: client ${client} ${methods ? 'known' : 'has no IAM decided for execute'}`).toBe(
          `${rel}: client ${client} known`,
        );
        const re =
          client === 'storage'
            ? new RegExp(`\\b${variable}\\.bucket\\([^)]*\\)\\.((?:iam\\.)?\\w+)\\(`, 'g')
            : client === 'bigquery'
              ? new RegExp(`\\b${variable}\\.dataset\\([^)]*\\)\\.(\\w+)\\(`, 'g')
              : new RegExp(`\\b${variable}\\.(\\w+)\\(`, 'g');
        for (const call of text.matchAll(re)) {
          const method = call[1] ?? '';
          calls += 1;
          const needs = methods?.[method];
          expect(`${rel}: ${client}.${method} ${needs ? 'known' : 'is not in API_CALLS'}`).toBe(
            `${rel}: ${client}.${method} known`,
          );
          for (const perm of needs ?? [])
            expect(`${client}.${method} needs ${perm}: ${role.has(perm)}`).toBe(
              `${client}.${method} needs ${perm}: true`,
            );
        }
      }
    }
    expect(calls).toBeGreaterThanOrEqual(5);
  });

  it('grants the custom role to the functions that change resources only (execute, rollback), and org-wide roles to those and the sweep only', () => {
    expect(local(tf, 'resource_changers')).toBe('${toset(["execute", "rollback"])}');
    const orgish = [
      ...resourcesOfType(tf, 'google_organization_iam_member'),
      ...resourcesOfType(tf, 'google_folder_iam_member'),
    ];
    const byMember = orgish.map(([key, r]) => ({ key, role: r['role'], member: r['member'] }));
    expect(byMember).toEqual(
      expect.arrayContaining([
        {
          key: 'google_organization_iam_member.sweep_asset_viewer',
          role: 'roles/cloudasset.viewer',
          member: 'serviceAccount:${google_service_account.function["detect-sweep"].email}',
        },
      ]),
    );
    for (const g of byMember) {
      if (g.role === '${google_organization_iam_custom_role.execute.name}') {
        expect(g.member).toMatch(
          /^serviceAccount:\$\{google_service_account\.function\[each\.(key|value\.function)\]\.email\}$/,
        );
      } else {
        expect(g.key).toBe('google_organization_iam_member.sweep_asset_viewer');
      }
    }
    expect(
      byMember.filter((g) => g.role === '${google_organization_iam_custom_role.execute.name}'),
    ).toHaveLength(2);
    expect(byMember.some((g) => String(g.member).includes('function["detect"]'))).toBe(false);
  });

  it('has an IAM decision for every cloud client the code can call', async () => {
    const text = await source('shared/cloud/clients.ts');
    const iface = /export interface CloudClients \{([\s\S]*?)\n\}/.exec(text)?.[1];
    expect(iface).toBeDefined();
    // Getters returning a client (`storage(): Promise<Storage>`), not lifecycle members (`close(): Promise<void>`).
    const clients = [
      ...(iface ?? '').matchAll(/^\s*([A-Za-z]+)\s*(?:<[^>]*>)?\([^)]*\)\s*:\s*Promise<([A-Z]\w*)/gm),
    ].map((m) => m[1] ?? '');
    expect(clients.length).toBeGreaterThan(0);
    for (const c of clients) {
      expect(
        `${c}: ${CLOUD_CLIENT_IAM[c] ?? 'no IAM decided (add it to terraform/iam.tf and CLOUD_CLIENT_IAM)'}`,
      ).toBe(`${c}: ${CLOUD_CLIENT_IAM[c]}`);
    }
  });
});

describe('Firestore', () => {
  /** Every collection constant any store or transaction call in shared/ or functions/ is made with. */
  async function collectionsInCode(): Promise<Set<string>> {
    const constants = new Map<string, Set<string>>();
    const used = new Set<string>();
    const files = [
      ...(await walk(path.join(ROOT, 'shared'))),
      ...(await walk(path.join(ROOT, 'functions'))),
    ].filter((f) => f.endsWith('.ts'));
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/(?:export\s+)?const\s+([A-Z_]+)\s*=\s*'([^']+)'/g)) {
        const values = constants.get(m[1] ?? '') ?? new Set<string>();
        constants.set(m[1] ?? '', values.add(m[2] ?? ''));
      }
      for (const m of text.matchAll(/\b(?:store|tx)\.(?:get|set|query|count|delete)\(\s*([A-Z_]+)\b/g)) {
        used.add(m[1] ?? '');
      }
    }
    const names = new Set<string>();
    for (const c of used) {
      const values = constants.get(c);
      if (values?.size !== 1)
        throw new Error(
          `collection constant ${c} is defined ${values?.size ?? 0} times with different values`,
        );
      names.add([...values][0]!);
    }
    return names;
  }

  it('declares the (default) database in Native mode', () => {
    const db = resource(tf, 'google_firestore_database.default');
    expect(db['name']).toBe('(default)');
    expect(db['type']).toBe('FIRESTORE_NATIVE');
  });

  it('accounts for every collection the code uses', async () => {
    const inCode = await collectionsInCode();
    expect(inCode.size).toBeGreaterThanOrEqual(8);
    const declared = Object.keys(local(tf, 'firestore_collections') as Obj);
    expect(declared.sort()).toEqual([...inCode].sort());
  });

  it('has a composite index for each query that needs one', async () => {
    const indexes = resourcesOfType(tf, 'google_firestore_index').map(([, r]) => ({
      collection: r['collection'],
      fields: blocks(r['fields'], 'fields').map((f) => [f['field_path'], f['order']]),
    }));
    for (const q of COMPOSITE_QUERIES) {
      const text = await source(q.source);
      for (const e of q.evidence) expect(text).toContain(e);
      expect(indexes).toContainEqual({ collection: `\${var.prefix}${q.collection}`, fields: q.fields });
    }
    const known = Object.keys(local(tf, 'firestore_collections') as Obj);
    for (const i of indexes) expect(known.map((c) => `\${var.prefix}${c}`)).toContain(i.collection);
  });

  it('never exempts a queried field from indexing', async () => {
    const queried = new Set<string>();
    for (const file of (await walk(path.join(ROOT, 'shared'))).concat(
      await walk(path.join(ROOT, 'functions')),
    )) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(
        /\[\s*'([A-Za-z.]+)'\s*,\s*'(?:==|!=|<|<=|>|>=|in|not-in|array-contains)'/g,
      )) {
        queried.add(m[1] ?? '');
      }
      for (const m of text.matchAll(/orderBy:\s*\{\s*field:\s*'([A-Za-z.]+)'/g)) queried.add(m[1] ?? '');
      for (const m of text.matchAll(/\bcount\(\s*'([A-Za-z.]+)'/g)) queried.add(m[1] ?? '');
    }
    expect([...queried]).toEqual(
      expect.arrayContaining(['status', 'state', 'resourceName', 'updatedAt', 'seq']),
    );
    const collections = Object.keys(local(tf, 'firestore_collections') as Obj);
    for (const entry of strings(local(tf, 'unindexed_fields'), 'unindexed_fields')) {
      const [collection, field] = entry.split('/');
      expect(collections).toContain(collection);
      expect(queried.has(field ?? '')).toBe(false);
    }
  });
});

describe('Cloud Asset Inventory feeds', () => {
  it('watches exactly the asset types the engine tracks (policies, their related types, the hierarchy)', async () => {
    const policies = await loadPolicies(path.join(ROOT, 'policies'));
    expect(policies.errors).toEqual([]);
    const expected = new Set(trackedAssetTypes(policies));
    for (const t of CONTEXT_ASSET_TYPES) expect(expected.has(t)).toBe(true);
    const watched = strings(tf.variables.get('watched_asset_types')?.['default'], 'watched_asset_types');
    expect([...watched].sort()).toEqual([...expected].sort());
  });

  it('sends RESOURCE and IAM_POLICY changes of those types to asset-changes', () => {
    expect(local(tf, 'feed_content_types')).toEqual({ resources: 'RESOURCE', 'iam-policies': 'IAM_POLICY' });
    const feed = resource(tf, 'google_cloud_asset_organization_feed.changes');
    expect(feed['for_each']).toBe('${local.feed_content_types}');
    expect(feed['content_type']).toBe('${each.value}');
    expect(feed['asset_types']).toBe('${var.watched_asset_types}');
    const dest = body(body(feed['feed_output_config'], 'feed_output_config')['pubsub_destination'], 'dest');
    expect(dest['topic']).toBe('${google_pubsub_topic.bus["asset-changes"].id}');
  });

  it('lets the Cloud Asset service agent publish there', () => {
    expect(local(tf, 'asset_service_agent')).toBe(
      'serviceAccount:service-${data.google_project.this.number}@gcp-sa-cloudasset.iam.gserviceaccount.com',
    );
    const grant = resource(tf, 'google_pubsub_topic_iam_member.asset_feed_publisher');
    expect(grant['topic']).toBe('${google_pubsub_topic.bus["asset-changes"].name}');
    expect(grant['role']).toBe('roles/pubsub.publisher');
    expect(grant['member']).toBe('${local.asset_service_agent}');
  });
});

describe('audit log sink (who changed what)', () => {
  it("sends the organization's successful Admin Activity entries, not Warden's own, to change-log", () => {
    const sink = resource(tf, 'google_logging_organization_sink.change_log');
    expect(sink['org_id']).toBe('${var.org_id}');
    expect(sink['include_children']).toBe(true);
    expect(sink['destination']).toBe('pubsub.googleapis.com/${google_pubsub_topic.bus["change-log"].id}');
    const filter = JSON.stringify(sink['filter']);
    for (const part of [
      'cloudaudit.googleapis.com%2Factivity',
      'type.googleapis.com/google.cloud.audit.AuditLog',
      'severity<ERROR',
      'principalEmail!=',
      'google_service_account.function[\\"execute\\"].email',
    ])
      expect(filter).toContain(part);
  });

  it("lets the sink's writer identity publish there, and detect-authors consume it", () => {
    const grant = resource(tf, 'google_pubsub_topic_iam_member.change_log_publisher');
    expect(grant['topic']).toBe('${google_pubsub_topic.bus["change-log"].name}');
    expect(grant['role']).toBe('roles/pubsub.publisher');
    expect(grant['member']).toBe('${google_logging_organization_sink.change_log.writer_identity}');
    expect(body((local(tf, 'functions') as Obj)['detect-authors'], 'detect-authors')['topic']).toBe(
      'change-log',
    );
  });
});

describe('scheduled sweep', () => {
  function sweepEvent(): Obj {
    const event = local(tf, 'sweep_event');
    if (!isObj(event)) throw new Error('local.sweep_event is not an object literal');
    // The only interpolation is the organization id.
    return JSON.parse(JSON.stringify(event).replaceAll('${var.org_id}', '123456789012')) as Obj;
  }

  it('publishes the sweep event to the sweeps topic on the schedule', () => {
    const job = resource(tf, 'google_cloud_scheduler_job.sweep');
    expect(job['schedule']).toBe('${var.sweep_schedule}');
    expect(tf.variables.get('sweep_schedule')?.['default']).toBe('*/30 * * * *');
    const target = body(job['pubsub_target'], 'pubsub_target');
    expect(target['topic_name']).toBe('${google_pubsub_topic.bus["sweeps"].id}');
    expect(target['data']).toBe('${base64encode(jsonencode(local.sweep_event))}');
  });

  it('sends an organization-wide sweep without a fixed sweepId (a fixed one would run once, ever)', () => {
    const event = sweepEvent();
    expect(event).toEqual({ kind: 'sweep', scope: 'organizations/123456789012', category: 'all' });
    expect(SweepEventSchema.safeParse({ ...event, sweepId: 'pubsub-1234567890' }).success).toBe(true);
  });

  // handle-sweep derives the id from the Pub/Sub messageId (terraform/README.md "The sweep id").
  it('is accepted by SweepEventSchema as Cloud Scheduler sends it', () => {
    expect(SweepEventSchema.safeParse(sweepEvent()).success).toBe(true);
  });
});

describe('scheduled approval tick and daily digest', () => {
  for (const [job, event, schedule, expected] of [
    ['approval_tick', 'approval_tick_event', 'approval_tick_schedule', '*/5 * * * *'],
    ['digest', 'digest_event', 'digest_schedule', '0 8 * * *'],
  ] as const) {
    it(`publishes ${event} to approval-requests on ${schedule}, as request-approval reads it`, () => {
      const j = resource(tf, `google_cloud_scheduler_job.${job}`);
      expect(j['schedule']).toBe(`\${var.${schedule}}`);
      expect(tf.variables.get(schedule)?.['default']).toBe(expected);
      const target = body(j['pubsub_target'], 'pubsub_target');
      expect(target['topic_name']).toBe('${google_pubsub_topic.bus["approval-requests"].id}');
      expect(target['data']).toBe(`\${base64encode(jsonencode(local.${event}))}`);
      expect(ApprovalTopicMessageSchema.safeParse(local(tf, event)).success).toBe(true);
    });
  }

  it('has request-approval consume approval-requests', () => {
    expect(registered).toContainEqual(
      expect.objectContaining({ name: 'request-approval', topic: 'approval-requests' }),
    );
  });
});

describe('cloudbuild.yaml', () => {
  interface Step {
    id?: string;
    name: string;
    entrypoint?: string;
    args?: string[];
    dir?: string;
  }
  let build: { steps: Step[]; substitutions?: Record<string, string> };
  const script = (s: Step) => [s.entrypoint ?? '', ...(s.args ?? [])].join(' ');

  beforeAll(async () => {
    const doc: unknown = parseYaml(await source('cloudbuild.yaml'));
    if (!isObj(doc) || !Array.isArray(doc['steps'])) throw new Error('cloudbuild.yaml has no steps');
    build = doc as typeof build;
  });

  it('installs, runs the tests, then builds', () => {
    const scripts = build.steps.map(script);
    const install = scripts.findIndex((s) => /\bnpm ci\b/.test(s));
    const test = scripts.findIndex((s) => /\bnpm (?:test|run test:jest)\b/.test(s));
    const compile = scripts.findIndex((s) => /\bnpm run build\b/.test(s));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(test).toBeGreaterThan(install);
    expect(compile).toBeGreaterThan(test);
  });

  it('ships dist, policies, package.json and the lockfile with the entry module as main', () => {
    const all = build.steps.map(script).join('\n');
    for (const part of ['dist', 'policies', 'package.json', 'package-lock.json']) expect(all).toContain(part);
    expect(all).toContain('npm pkg set main=dist/functions/index.js');
  });

  it('applies terraform with the uploaded object as the function source', () => {
    const tfSteps = build.steps.filter((s) => s.name.startsWith('hashicorp/terraform'));
    expect(tfSteps.map((s) => s.args?.[0])).toEqual(['init', 'plan', 'apply']);
    for (const s of tfSteps) expect(s.dir).toBe('terraform');
    const upload = /gs:\/\/\$\{_SOURCE_BUCKET\}\/([^"\s]+)/.exec(build.steps.map(script).join('\n'))?.[1];
    expect(upload).toBeDefined();
    const plan = tfSteps[1]?.args ?? [];
    expect(plan).toContain(`-var=source_object=${upload}`);
    expect(plan).toContain('-var=source_bucket=${_SOURCE_BUCKET}');
    expect(plan).toContain('-var=org_id=${_ORG_ID}');
    expect(plan).toContain('-var=region=${_REGION}');
    expect(plan).toContain('-var=project_id=${PROJECT_ID}');
    for (const s of ['_SOURCE_BUCKET', '_ORG_ID', '_REGION', '_TF_STATE_BUCKET']) {
      expect(Object.keys(build.substitutions ?? {})).toContain(s);
    }
  });
});
