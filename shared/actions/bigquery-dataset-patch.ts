import { z } from 'zod';
import type { Plan } from '../model/action.js';
import type { Asset, IamPolicy } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import type { Risk } from '../model/policy.js';
import { isNotFound, isPreconditionFailed, toWardenError } from '../cloud/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import { rec } from './compute-fingerprint-patch.js';
import { parseState, type Json } from './compute-resource.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { withLiveData } from './live-asset.js';

export const DATASET_TYPE = 'bigquery.googleapis.com/Dataset';
export const BIGQUERY_API = 'https://bigquery.googleapis.com/bigquery/v2';

/**
 * Read and written with accessPolicyVersion=3: a dataset's conditional access entries then come back with
 * their condition (below 3, BigQuery renames their role to "…withcond<hash>"), and a patch that carries
 * them back is accepted (below 3 it is rejected).
 */
export const ACCESS_POLICY_VERSION = 3;
const POLICY_V3 = { accessPolicyVersion: ACCESS_POLICY_VERSION };

export const DatasetRefSchema = z.object({ project: z.string(), dataset: z.string() });
export type DatasetRef = z.infer<typeof DatasetRefSchema>;

const StateSchema = z.object({
  ref: DatasetRefSchema,
  etag: z.string(),
  /** The dataset as datasets.get returned it (REST JSON). */
  data: z.record(z.string(), z.unknown()),
});
export type DatasetState = z.infer<typeof StateSchema>;

/** Parses a CAI name `//bigquery.googleapis.com/projects/P/datasets/D`. */
export function datasetRefOf(asset: Asset): DatasetRef {
  const m = /^\/\/bigquery\.googleapis\.com\/projects\/([^/]+)\/datasets\/([^/]+)$/.exec(asset.name);
  if (m?.[1] && m[2]) return { project: m[1], dataset: m[2] };
  throw new WardenError(`${asset.name} is not a BigQuery dataset`, {
    retryable: false,
    code: 'not_applicable',
  });
}

export function datasetUrl(ref: DatasetRef): string {
  return `${BIGQUERY_API}/projects/${encodeURIComponent(ref.project)}/datasets/${encodeURIComponent(ref.dataset)}?accessPolicyVersion=${ACCESS_POLICY_VERSION}`;
}

function describeRef(ref: DatasetRef): string {
  return `dataset ${ref.project}:${ref.dataset}`;
}

export function etagOf(data: Json): string {
  return String(data['etag'] ?? '');
}

/** datasets.get, or null when the dataset is gone. */
export async function getDataset(ctx: ActionContext, ref: DatasetRef): Promise<Json | null> {
  const { project, dataset } = ref;
  const bq = await ctx.cloud.bigquery();
  try {
    const [data] = await bq.dataset(dataset, { projectId: project }).getMetadata(POLICY_V3);
    return data as Json;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading ${describeRef(ref)}`);
  }
}

type PatchResult = { ok: true; data: Json } | { ok: false; why: 'precondition_failed' | 'gone' };

/**
 * datasets.patch guarded by the etag: the client sends `etag` in the body and as If-Match, and BigQuery
 * answers 412 "Precondition check failed." when the dataset changed since it was read.
 */
async function patchDataset(
  ctx: ActionContext,
  ref: DatasetRef,
  body: Json,
  etag: string,
): Promise<PatchResult> {
  const { project, dataset } = ref;
  const metadata = { ...body, etag };
  const bq = await ctx.cloud.bigquery();
  try {
    const [data] = await bq.dataset(dataset, { projectId: project }).setMetadata(metadata, POLICY_V3);
    return { ok: true, data: data as Json };
  } catch (err) {
    if (isPreconditionFailed(err)) return { ok: false, why: 'precondition_failed' };
    if (isNotFound(err)) return { ok: false, why: 'gone' };
    throw toWardenError(err, `patching ${describeRef(ref)}`);
  }
}

/** The IAM role a dataset access entry's role stands for (basic roles map to the BigQuery data roles). */
const BASIC_ROLES: Record<string, string> = {
  READER: 'roles/bigquery.dataViewer',
  WRITER: 'roles/bigquery.dataEditor',
  OWNER: 'roles/bigquery.dataOwner',
};
const SPECIAL_GROUPS: Record<string, (project: string) => string> = {
  projectOwners: (p) => `projectOwner:${p}`,
  projectWriters: (p) => `projectEditor:${p}`,
  projectReaders: (p) => `projectViewer:${p}`,
  allAuthenticatedUsers: () => 'allAuthenticatedUsers',
  allUsers: () => 'allUsers',
};

/** The IAM member an access entry grants to; undefined for authorized views, routines and datasets. */
function memberOf(entry: Json, project: string): string | undefined {
  const s = (k: string): string | undefined =>
    typeof entry[k] === 'string' ? (entry[k] as string) : undefined;
  const user = s('userByEmail');
  if (user) return user.endsWith('.gserviceaccount.com') ? `serviceAccount:${user}` : `user:${user}`;
  const group = s('groupByEmail');
  if (group) return `group:${group}`;
  const domain = s('domain');
  if (domain) return `domain:${domain}`;
  const special = s('specialGroup');
  if (special) return SPECIAL_GROUPS[special]?.(project) ?? special;
  return s('iamMember');
}

/**
 * The dataset's IAM policy as CAI's IAM_POLICY part shows it: BigQuery keeps one access list, and the
 * dataset IAM policy is that list read as bindings (READER = roles/bigquery.dataViewer, projectWriters =
 * projectEditor:P, a service account's userByEmail = serviceAccount:…, as in the landing-zone export).
 */
export function datasetIamPolicy(data: Json, project: string): IamPolicy {
  const byRole = new Map<string, { role: string; members: Set<string>; condition?: Json }>();
  for (const raw of Array.isArray(data['access']) ? data['access'] : []) {
    const entry = rec(raw);
    const member = entry ? memberOf(entry, project) : undefined;
    if (!entry || !member || typeof entry['role'] !== 'string') continue;
    const role = BASIC_ROLES[entry['role']] ?? entry['role'];
    const condition = rec(entry['condition']);
    const key = condition ? `${role}|${canonicalJson(condition)}` : role;
    const binding = byRole.get(key) ?? {
      role,
      members: new Set<string>(),
      ...(condition ? { condition } : {}),
    };
    binding.members.add(member);
    byRole.set(key, binding);
  }
  const bindings = [...byRole.values()]
    .sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0))
    .map((b) => ({
      role: b.role,
      members: [...b.members].sort(),
      ...(b.condition
        ? {
            condition: {
              expression: String(b.condition['expression'] ?? ''),
              ...(typeof b.condition['title'] === 'string' ? { title: b.condition['title'] } : {}),
              ...(typeof b.condition['description'] === 'string'
                ? { description: b.condition['description'] }
                : {}),
            },
          }
        : {}),
    }));
  return { version: bindings.some((b) => b.condition) ? 3 : 1, bindings };
}

/** The live dataset as a CAI-shaped asset: the REST Dataset and the IAM policy its access list makes. */
export function liveDatasetAsset(asset: Asset, ref: DatasetRef, data: Json): Asset {
  return { ...withLiveData(asset, data), iamPolicy: datasetIamPolicy(data, ref.project) };
}

/** One fix of a dataset by datasets.patch with the dataset's etag as precondition. */
export interface DatasetPatchSpec {
  id: string;
  title: string;
  risk: Risk;
  /**
   * The part of the dataset the action reads and writes. apply goes ahead when only other fields changed
   * since the capture (another fix), with the etag of its re-read as If-Match; a change of this part is a
   * conflict.
   */
  aspect(data: Json): unknown;
  /** Whether the live dataset already passes the policy the action fixes. */
  isFixed(data: Json, settings: ActionSettings): boolean;
  /** The patch body (without etag) that fixes `data`. */
  fixBody(data: Json, settings: ActionSettings): Json;
  /** The patch body (without etag) that restores `before` on `live`; null when nothing differs. */
  undoBody(before: Json, live: Json): Json | null;
  describe(ref: DatasetRef, data: Json, settings: ActionSettings): string;
}

export function datasetPatchAction(spec: DatasetPatchSpec): RemediationAction<DatasetState> {
  const stateOf = (ref: DatasetRef, data: Json): DatasetState => ({ ref, etag: etagOf(data), data });
  const label = (ref: DatasetRef): string => describeRef(ref);

  return {
    id: spec.id,
    title: spec.title,
    risk: spec.risk,
    reversible: true,
    assetTypes: [DATASET_TYPE],

    plan(asset: Asset, settings: ActionSettings): Plan {
      const ref = datasetRefOf(asset);
      const data = asset.resource?.data ?? {};
      const url = datasetUrl(ref);
      return {
        description: spec.describe(ref, data, settings),
        requests: [
          { method: 'GET', url },
          { method: 'PATCH', url, body: { ...spec.fixBody(data, settings), etag: etagOf(data) || '{etag}' } },
        ],
      };
    },

    async captureBefore(asset, ctx) {
      const ref = datasetRefOf(asset);
      const data = await getDataset(ctx, ref);
      return data ? stateOf(ref, data) : null;
    },

    async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
      const before = parseState(StateSchema, rawBefore, 'before-state');
      const { ref } = before;
      const live = await getDataset(ctx, ref);
      if (!live) return { status: 'gone' };
      if (spec.isFixed(live, ctx.settings)) return { status: 'already_applied', after: stateOf(ref, live) };
      if (canonicalJson(spec.aspect(live)) !== canonicalJson(spec.aspect(before.data))) {
        return {
          status: 'conflict',
          reason: `the part of ${label(ref)} this fix changes was changed since it was captured (etag ${before.etag} → ${etagOf(live)})`,
          stale: true,
        };
      }
      // Computed from this re-read and guarded by its etag: a change by anyone since answers 412.
      const etag = etagOf(live);
      const r = await patchDataset(ctx, ref, spec.fixBody(live, ctx.settings), etag);
      if (!r.ok) {
        if (r.why === 'gone') return { status: 'gone' };
        return {
          status: 'conflict',
          reason: `${label(ref)} changed while the fix was being sent (412 Precondition check failed on etag ${etag})`,
          stale: true,
        };
      }
      ctx.logger.info('dataset patched', { action: spec.id, dataset: label(ref), etag: etagOf(r.data) });
      return { status: 'applied', after: stateOf(ref, r.data) };
    },

    async readLive(asset, ctx) {
      const ref = datasetRefOf(asset);
      const data = await getDataset(ctx, ref);
      return data ? liveDatasetAsset(asset, ref, data) : null;
    },

    async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
      const before = parseState(StateSchema, rawBefore, 'before-state');
      const after = parseState(StateSchema, rawAfter, 'after-state');
      const { ref } = before;
      const live = await getDataset(ctx, ref);
      if (!live) return { status: 'gone' };
      if (etagOf(live) !== after.etag) {
        return {
          status: 'refused',
          reason: `${label(ref)} changed after the fix (etag ${after.etag} → ${etagOf(live)}); restoring would overwrite that change`,
        };
      }
      const body = spec.undoBody(before.data, live);
      if (!body) return { status: 'restored' };
      const r = await patchDataset(ctx, ref, body, after.etag);
      if (!r.ok) {
        if (r.why === 'gone') return { status: 'gone' };
        return { status: 'refused', reason: `${label(ref)} changed while the undo was being sent (412)` };
      }
      ctx.logger.info('dataset restored', { action: spec.id, dataset: label(ref) });
      return { status: 'restored' };
    },
  };
}
