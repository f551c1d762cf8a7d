import { z } from 'zod';
import type { protos } from '@google-cloud/compute';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import type { Risk } from '../model/policy.js';
import { isNotFound, isPreconditionFailed, toWardenError } from '../cloud/errors.js';
import { restJson } from '../cloud/rest-json.js';
import { waitForGlobalOperation, waitForRegionOperation } from './compute-operation.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { parseRecordedState } from './recorded-state.js';
import { withLiveData } from './live-asset.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

export const COMPUTE_API = 'https://compute.googleapis.com/compute/v1';

type IOperation = protos.google.cloud.compute.v1.IOperation;
export type ResourceJson = Record<string, unknown>;

/** A compute resource addressed by project, optional region (absent = global) and name. */
export const ComputeRefSchema = z.object({
  project: z.string(),
  region: z.string().optional(),
  name: z.string(),
});
export type ComputeRef = z.infer<typeof ComputeRefSchema>;

const StateSchema = z.object({
  ref: ComputeRefSchema,
  /** The resource as get returned it (REST JSON, with its fingerprint). */
  data: z.record(z.string(), z.unknown()),
});
export type ComputeResourceState = z.infer<typeof StateSchema>;

/** Parses a CAI name `//compute.googleapis.com/projects/P/(global|regions/R)/COLLECTION/NAME`. */
export function computeRefOf(asset: Asset, collection: string, regional: 'region' | 'any'): ComputeRef {
  const m = new RegExp(
    `^//compute\\.googleapis\\.com/projects/([^/]+)/(?:global|regions/([^/]+))/${collection}/([^/]+)$`,
  ).exec(asset.name);
  if (m?.[1] && m[3] && (regional === 'any' || m[2])) {
    return m[2] ? { project: m[1], region: m[2], name: m[3] } : { project: m[1], name: m[3] };
  }
  throw new WardenError(`${asset.name} is not a compute ${collection} resource this action handles`, {
    retryable: false,
    code: 'not_applicable',
  });
}

export function computeUrl(ref: ComputeRef, collection: string): string {
  const scope = ref.region ? `regions/${encodeURIComponent(ref.region)}` : 'global';
  return `${COMPUTE_API}/projects/${encodeURIComponent(ref.project)}/${scope}/${collection}/${encodeURIComponent(ref.name)}`;
}

export function operationWaitUrl(ref: ComputeRef): string {
  const scope = ref.region ? `regions/${encodeURIComponent(ref.region)}` : 'global';
  return `${COMPUTE_API}/projects/${encodeURIComponent(ref.project)}/${scope}/operations/{operation}/wait`;
}

/** The Operation a compute mutation started: compute's LRO wrapper keeps it in latestResponse. */
export function startedOperation(lro: unknown): IOperation {
  return (lro as { latestResponse: IOperation }).latestResponse;
}

export async function waitForOperation(
  ctx: ActionContext,
  ref: ComputeRef,
  started: IOperation,
): Promise<IOperation> {
  return ref.region
    ? waitForRegionOperation(ctx, ref.project, ref.region, started)
    : waitForGlobalOperation(ctx, ref.project, started);
}

export function parseComputeState(value: unknown, what: string): ComputeResourceState {
  return parseRecordedState(StateSchema, value, what);
}

/**
 * gax decodes every map field, so an absent one (BackendService.metadatas) comes back as `{}`, which REST
 * and CAI omit; dropped here so the live resource compares with the captured one and with CAI's.
 */
function withoutEmptyMaps(data: ResourceJson): ResourceJson {
  return Object.fromEntries(
    Object.entries(data).filter(([, v]) => !(rec(v) !== undefined && Object.keys(v as object).length === 0)),
  );
}

/** Reads a resource through `read`; null when it does not exist, other failures as WardenErrors. */
export async function readResource(
  ref: ComputeRef,
  what: string,
  read: () => Promise<unknown>,
): Promise<ResourceJson | null> {
  try {
    return withoutEmptyMaps(restJson(await read()));
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading ${what} ${ref.project}/${ref.region ?? 'global'}/${ref.name}`);
  }
}

export const liveAsset = withLiveData;

export function rec(v: unknown): ResourceJson | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as ResourceJson) : undefined;
}

/**
 * One fix on a compute resource that carries a fingerprint (subnetworks, backend services, SSL policies:
 * catalog F10): the patch sends the fingerprint read with the before-state, so a change made by anyone
 * since makes compute answer 412 conditionNotMet and nothing is overwritten.
 */
export interface FingerprintPatchSpec {
  id: string;
  title: string;
  risk: Risk;
  assetTypes: readonly string[];
  /** The REST collection (subnetworks, backendServices, sslPolicies). */
  collection: string;
  /** 'region' when only regional resources exist (subnetworks). */
  scopes: 'region' | 'any';
  what: string;
  get(ctx: ActionContext, ref: ComputeRef): Promise<unknown>;
  /** Sends the patch (body includes the fingerprint) and returns the Operation it started. */
  patch(ctx: ActionContext, ref: ComputeRef, body: ResourceJson): Promise<IOperation>;
  /** Why the fix must not be applied to this resource at all (reported as a conflict), if so. */
  refusal?(data: ResourceJson): string | undefined;
  /** Whether the live resource already passes the policy the action fixes. */
  isFixed(data: ResourceJson): boolean;
  /** The patch body (without fingerprint) that fixes `data`. */
  fixBody(data: ResourceJson): ResourceJson;
  /** The patch body (without fingerprint) that restores `before` on `live`; null when nothing differs. */
  undoBody(before: ResourceJson, live: ResourceJson): ResourceJson | null;
  describe(ref: ComputeRef, data: ResourceJson): string;
}

function fingerprintOf(data: ResourceJson): string | undefined {
  return typeof data['fingerprint'] === 'string' ? data['fingerprint'] : undefined;
}

export function fingerprintPatchAction(spec: FingerprintPatchSpec): RemediationAction<ComputeResourceState> {
  const refOf = (asset: Asset): ComputeRef => computeRefOf(asset, spec.collection, spec.scopes);
  const get = (ctx: ActionContext, ref: ComputeRef) => readResource(ref, spec.what, () => spec.get(ctx, ref));
  const label = (ref: ComputeRef): string =>
    `${spec.what} ${ref.project}/${ref.region ?? 'global'}/${ref.name}`;

  /** patch + wait; 'stale' when compute answered 412 (the fingerprint is no longer current). */
  const send = async (
    ctx: ActionContext,
    ref: ComputeRef,
    body: ResourceJson,
  ): Promise<'done' | 'stale' | 'gone'> => {
    let started: IOperation;
    try {
      started = await spec.patch(ctx, ref, body);
    } catch (err) {
      if (isPreconditionFailed(err)) return 'stale';
      if (isNotFound(err)) return 'gone';
      throw toWardenError(err, `patching ${label(ref)}`);
    }
    await waitForOperation(ctx, ref, started);
    return 'done';
  };

  return {
    id: spec.id,
    title: spec.title,
    risk: spec.risk,
    reversible: true,
    assetTypes: spec.assetTypes,

    plan(asset: Asset, _settings: ActionSettings): Plan {
      const ref = refOf(asset);
      const data = asset.resource?.data ?? {};
      const url = computeUrl(ref, spec.collection);
      return {
        description: spec.describe(ref, data),
        requests: [
          { method: 'GET', url },
          {
            method: 'PATCH',
            url,
            body: { fingerprint: fingerprintOf(data) ?? '{fingerprint}', ...spec.fixBody(data) },
          },
          { method: 'POST', url: operationWaitUrl(ref) },
        ],
      };
    },

    async captureBefore(asset, ctx) {
      const ref = refOf(asset);
      const data = await get(ctx, ref);
      return data ? { ref, data } : null;
    },

    async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
      const before = parseComputeState(rawBefore, 'before-state');
      const { ref } = before;
      const fingerprint = fingerprintOf(before.data);
      const guarded = await rereadBeforeApply(() => get(ctx, ref), {
        refusal: (live) => {
          const refused = spec.refusal?.(live);
          return refused && `${label(ref)}: ${refused}`;
        },
        alreadyApplied: (live) => (spec.isFixed(live) ? { ref, data: live } : undefined),
        asCaptured: (live) => fingerprintOf(live) === fingerprint,
        changedReason: (live) =>
          `${label(ref)} changed since its state was captured (fingerprint ${String(fingerprint)} → ${String(fingerprintOf(live))})`,
      });
      if ('outcome' in guarded) return guarded.outcome;
      const { live } = guarded;
      const r = await send(ctx, ref, { fingerprint, ...spec.fixBody(live) });
      if (r === 'gone') return { status: 'gone' };
      if (r === 'stale') {
        return {
          status: 'conflict',
          reason: `${label(ref)} changed while the fix was being sent (412 conditionNotMet on fingerprint ${String(fingerprint)})`,
          stale: true,
        };
      }
      const data = await get(ctx, ref);
      if (!data) return { status: 'gone' };
      ctx.logger.info('compute resource patched', { action: spec.id, resource: label(ref) });
      return { status: 'applied', after: { ref, data } };
    },

    async readLive(asset, ctx) {
      const data = await get(ctx, refOf(asset));
      return data ? liveAsset(asset, data) : null;
    },

    async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
      const before = parseComputeState(rawBefore, 'before-state');
      const after = parseComputeState(rawAfter, 'after-state');
      const { ref } = before;
      const guarded = await rereadBeforeUndo(() => get(ctx, ref), {
        asFixLeftIt: (live) => fingerprintOf(live) === fingerprintOf(after.data),
        changedReason: (live) =>
          `${label(ref)} changed after the fix (fingerprint ${String(fingerprintOf(after.data))} → ${String(fingerprintOf(live))}); restoring would overwrite that change`,
      });
      if ('outcome' in guarded) return guarded.outcome;
      const { live } = guarded;
      const body = spec.undoBody(before.data, live);
      if (!body) return { status: 'restored' };
      const r = await send(ctx, ref, { fingerprint: fingerprintOf(live), ...body });
      if (r === 'gone') return { status: 'gone' };
      if (r === 'stale') {
        return { status: 'refused', reason: `${label(ref)} changed while the undo was being sent (412)` };
      }
      ctx.logger.info('compute resource restored', { action: spec.id, resource: label(ref) });
      return { status: 'restored' };
    },
  };
}
