import { createHash } from 'node:crypto';
import type { Asset } from '../model/asset.js';
import { datasetIamPolicy } from '../actions/bigquery-dataset-patch.js';
import { canonicalJson } from '../util/canonical-json.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import { isObject, mergePatch, type JsonObject } from './merge-patch.js';
import type { ApiSurface, RouteRequest, SurfaceOptions } from './routes.js';

/**
 * BigQuery v2 datasets, the calls Warden makes: datasets.get and datasets.patch
 * (https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets/patch).
 *
 * CAI names a dataset //bigquery.googleapis.com/projects/P/datasets/D and holds the REST Dataset as
 * resource.data. patch "only replaces fields that are provided": `access` is replaced whole, `labels` merge
 * key by key and a label set to null is removed (BigQuery's way to delete a label) — JSON merge patch.
 * Every change gives the dataset a new etag and lastModifiedTime. The dataset IAM policy is the access list
 * read as bindings, so a change of `access` also changes the IAM_POLICY part CAI publishes.
 *
 * The precondition is the If-Match header (@google-cloud/bigquery sends the etag it read there, and in the
 * body, where BigQuery ignores it as output-only); a stale one answers 412 "Precondition check failed."
 *
 * accessPolicyVersion (0, 1 or 3): below 3, a conditional access entry is read with its role renamed to
 * "<role>withcond<hash>" and no condition, and a patch of the access list of a dataset with conditional
 * entries is rejected.
 */

const DATASET = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)$/;

export const DATASET_TYPE = 'bigquery.googleapis.com/Dataset';

export function datasetAssetName(project: string, dataset: string): string {
  return `//bigquery.googleapis.com/projects/${project}/datasets/${dataset}`;
}

const DATASET_FIELDS = new Set([
  'kind',
  'etag',
  'id',
  'selfLink',
  'datasetReference',
  'friendlyName',
  'description',
  'defaultTableExpirationMs',
  'defaultPartitionExpirationMs',
  'labels',
  'access',
  'creationTime',
  'lastModifiedTime',
  'location',
  'defaultEncryptionConfiguration',
  'satisfiesPzs',
  'satisfiesPzi',
  'type',
  'linkedDatasetSource',
  'linkedDatasetMetadata',
  'externalDatasetReference',
  'externalCatalogDatasetOptions',
  'isCaseInsensitive',
  'defaultCollation',
  'defaultRoundingMode',
  'maxTimeTravelHours',
  'tags',
  'storageBillingModel',
  'restrictions',
  'resourceTags',
]);
/** Output-only Dataset fields: ignored in a patch body. */
const READ_ONLY = [
  'kind',
  'etag',
  'id',
  'selfLink',
  'creationTime',
  'lastModifiedTime',
  'satisfiesPzs',
  'satisfiesPzi',
];

/** The member fields of an access entry: exactly one is set. */
const ENTRY_TARGETS = [
  'userByEmail',
  'groupByEmail',
  'domain',
  'specialGroup',
  'iamMember',
  'view',
  'routine',
  'dataset',
];
const PRINCIPALS = new Set(['userByEmail', 'groupByEmail', 'domain', 'specialGroup', 'iamMember']);
const SPECIAL_GROUPS = new Set([
  'projectOwners',
  'projectReaders',
  'projectWriters',
  'allAuthenticatedUsers',
]);
const IAM_MEMBER =
  /^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|principal|principalSet|deleted:user|deleted:serviceAccount|deleted:group):.+)$/;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

function invalid(message: string): TwinHttpError {
  return new TwinHttpError(400, message, { reason: 'invalid' });
}

function policyVersion(req: RouteRequest): number {
  const raw = req.query.get('accessPolicyVersion');
  if (raw === null) return 0;
  if (!['0', '1', '3'].includes(raw)) {
    throw invalid(`Invalid value for accessPolicyVersion: ${raw}. Valid values are 0, 1 and 3.`);
  }
  return Number(raw);
}

function hasConditions(access: unknown): boolean {
  return Array.isArray(access) && access.some((e) => isObject(e) && e['condition'] !== undefined);
}

function checkAccess(access: unknown): void {
  if (!Array.isArray(access)) throw invalid('Invalid value for access: must be a list of access entries.');
  for (const entry of access) {
    if (!isObject(entry)) throw invalid('Invalid value for access: an entry is not an object.');
    const targets = ENTRY_TARGETS.filter((k) => entry[k] !== undefined && entry[k] !== null);
    const [target] = targets;
    if (targets.length !== 1 || !target) {
      throw invalid(
        `Invalid value for access entry ${JSON.stringify(entry)}: exactly one of ${ENTRY_TARGETS.join(', ')} must be set.`,
      );
    }
    if (PRINCIPALS.has(target) && typeof entry['role'] !== 'string') {
      throw invalid(`Invalid value for access entry ${JSON.stringify(entry)}: a role is required.`);
    }
    if (target === 'specialGroup' && !SPECIAL_GROUPS.has(String(entry['specialGroup']))) {
      throw invalid(`Invalid value for specialGroup: ${String(entry['specialGroup'])}`);
    }
    if (target === 'iamMember' && !IAM_MEMBER.test(String(entry['iamMember']))) {
      throw invalid(`Invalid value for iamMember: ${String(entry['iamMember'])}`);
    }
  }
}

function checkLabels(labels: unknown): void {
  if (labels === undefined || labels === null) return;
  if (!isObject(labels)) throw invalid('Invalid value for labels: must be a map.');
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k)) throw invalid(`Invalid label key: ${k}`);
    if (v !== null && (typeof v !== 'string' || !LABEL_VALUE.test(v))) {
      throw invalid(`Invalid value for label ${k}: ${String(v)}`);
    }
  }
}

/** The dataset as the REST API renders it for one accessPolicyVersion. */
function render(project: string, dataset: string, data: JsonObject, version: number): JsonObject {
  const out: JsonObject = { kind: 'bigquery#dataset', ...structuredClone(data) };
  out['id'] ??= `${project}:${dataset}`;
  out['datasetReference'] ??= { datasetId: dataset, projectId: project };
  if (version < 3 && Array.isArray(out['access'])) {
    out['access'] = out['access'].map((e) => {
      if (!isObject(e) || e['condition'] === undefined) return e;
      const { condition, ...rest } = e;
      const hash = createHash('sha256').update(canonicalJson(condition)).digest('hex').slice(0, 8);
      return { ...rest, role: `${String(e['role'])}withcond${hash}` };
    });
  }
  return out;
}

export function bigqueryApi(inv: Inventory, opts: SurfaceOptions): ApiSurface {
  let seq = 0;
  // Every dataset has an etag; an asset fixture without one gets a stable one.
  for (const asset of inv.all()) {
    const data = asset.assetType === DATASET_TYPE ? asset.resource?.data : undefined;
    if (data && Object.keys(data).length > 0 && data['etag'] === undefined) {
      data['etag'] = createHash('sha256').update(asset.name).digest().subarray(0, 16).toString('base64');
    }
  }
  const datasetAsset = (project: string, dataset: string): Asset => {
    const asset = inv.get(datasetAssetName(project, dataset));
    if (!asset || asset.assetType !== DATASET_TYPE) {
      throw new TwinHttpError(404, `Not found: Dataset ${project}:${dataset}`, { reason: 'notFound' });
    }
    return asset;
  };
  const dataOf = (asset: Asset): JsonObject => (asset.resource?.data ?? {}) as JsonObject;

  /** A new opaque etag, as BigQuery's look (base64 of 16 bytes). */
  const nextEtag = (salt: string): string => {
    seq += 1;
    return createHash('sha256').update(`${salt}/${seq}`).digest().subarray(0, 16).toString('base64');
  };

  /** Applies a merge patch: new etag and lastModifiedTime; the IAM policy follows a changed access list. */
  const change = (asset: Asset, project: string, patch: JsonObject): Promise<Asset> =>
    inv.change(asset.name, ['RESOURCE', 'IAM_POLICY'], (a) => {
      const prior = dataOf(a);
      const data = mergePatch(prior, patch) as JsonObject;
      data['etag'] = nextEtag(a.name);
      data['lastModifiedTime'] = String(inv.clock.now().getTime());
      a.resource = { ...(a.resource ?? {}), data };
      if (canonicalJson(prior['access'] ?? []) !== canonicalJson(data['access'] ?? [])) {
        a.iamPolicy = { ...datasetIamPolicy(data, project), etag: opts.nextIamEtag() };
      }
    });

  return {
    routes: [
      {
        method: 'GET',
        pattern: DATASET,
        async handle(req) {
          const [project, dataset] = req.params as [string, string];
          const version = policyVersion(req);
          return {
            status: 200,
            body: render(project, dataset, dataOf(datasetAsset(project, dataset)), version),
          };
        },
      },
      {
        method: 'PATCH',
        pattern: DATASET,
        async handle(req) {
          const [project, dataset] = req.params as [string, string];
          const asset = datasetAsset(project, dataset);
          const data = dataOf(asset);
          const version = policyVersion(req);
          if (!isObject(req.body)) throw invalid('The request body must be a Dataset.');
          const body = req.body;
          for (const key of Object.keys(body)) {
            if (!DATASET_FIELDS.has(key)) {
              throw invalid(
                `Invalid JSON payload received. Unknown name "${key}" at 'dataset': Cannot find field.`,
              );
            }
          }
          const ifMatch = req.headers['if-match'];
          if (ifMatch !== undefined && ifMatch !== data['etag']) {
            throw new TwinHttpError(412, 'Precondition check failed.', { reason: 'conditionNotMet' });
          }
          const ref = body['datasetReference'];
          if (
            isObject(ref) &&
            ((ref['datasetId'] !== undefined && ref['datasetId'] !== dataset) ||
              (ref['projectId'] !== undefined && ref['projectId'] !== project))
          ) {
            throw invalid('The dataset reference in the body does not match the dataset in the URL.');
          }
          if (
            body['location'] !== undefined &&
            String(body['location']).toUpperCase() !== String(data['location'] ?? '').toUpperCase()
          ) {
            throw invalid('Cannot change dataset location.');
          }
          const patch: JsonObject = structuredClone(body);
          for (const f of READ_ONLY) delete patch[f];
          if (patch['access'] !== undefined) {
            checkAccess(patch['access']);
            if (version < 3 && (hasConditions(data['access']) || hasConditions(patch['access']))) {
              throw invalid(
                'The dataset has conditional access entries: they can only be updated with accessPolicyVersion=3.',
              );
            }
          }
          checkLabels(patch['labels']);
          const next = await change(asset, project, patch);
          return { status: 200, body: render(project, dataset, dataOf(next), version) };
        },
      },
    ],
    concurrentChanges: [
      {
        pattern: DATASET,
        async apply(params) {
          const [project, dataset] = params as [string, string];
          const asset = datasetAsset(project, dataset);
          await change(asset, project, { description: `changed by someone else (${seq + 1})` });
        },
      },
    ],
  };
}
