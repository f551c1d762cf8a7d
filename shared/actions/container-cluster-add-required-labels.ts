import { z } from 'zod';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { missingLabels } from './compute-labels.js';
import {
  CLUSTER_TYPE,
  ClusterRefSchema,
  clusterName,
  clusterOf,
  clusterUrl,
  describeCluster,
  getCluster,
  isLabelFingerprintMismatch,
  operationUrl,
  rec,
  sendAndWait,
  type ClusterRef,
  type Json,
  readLiveCluster,
} from './container-cluster-resource.js';
import { parseState } from './compute-resource.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

const LabelStateSchema = z.object({
  ref: ClusterRefSchema,
  labelFingerprint: z.string(),
  labels: z.record(z.string(), z.string()),
});
export type ClusterLabelState = z.infer<typeof LabelStateSchema>;

const ID = 'container.cluster.add-required-labels';

/** A cluster's labels live in resourceLabels (GKE has no `labels`). */
function labelsOf(data: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec(data['resourceLabels']) ?? {})) out[k] = String(v ?? '');
  return out;
}

function stateOf(ref: ClusterRef, data: Json): ClusterLabelState {
  return { ref, labelFingerprint: String(data['labelFingerprint'] ?? ''), labels: labelsOf(data) };
}

async function readState(ctx: ActionContext, ref: ClusterRef): Promise<ClusterLabelState | null> {
  const data = await getCluster(ctx, ref);
  return data ? stateOf(ref, data) : null;
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** setResourceLabels (replaces the whole map, labelFingerprint required) and its operation. */
async function writeLabels(
  ctx: ActionContext,
  ref: ClusterRef,
  labels: Record<string, string>,
  fingerprint: string,
) {
  return sendAndWait(
    ctx,
    ref,
    `setting the resource labels of ${describeCluster(ref)}`,
    async () => {
      const client = await ctx.cloud.container('ClusterManagerClient');
      const [op] = await client.setLabels({
        name: clusterName(ref),
        resourceLabels: labels,
        labelFingerprint: fingerprint,
      });
      return op;
    },
    isLabelFingerprintMismatch,
  );
}

/**
 * Adds the required labels a GKE cluster lacks (settings.requiredLabels, policy labels-gke-cluster-required)
 * with their default values; no existing label is ever changed. clusters.setResourceLabels replaces the
 * whole map and must carry the current labelFingerprint: a stale one makes GKE answer 400
 * FAILED_PRECONDITION "Labels could not be set due to fingerprint mismatch" and nothing is overwritten. GKE
 * propagates cluster labels to the nodes' VMs and disks.
 */
export const clusterAddRequiredLabels: RemediationAction<ClusterLabelState> = {
  id: ID,
  title: 'Add the required labels a GKE cluster lacks',
  risk: 'low',
  reversible: true,
  assetTypes: [CLUSTER_TYPE],

  plan(asset: Asset, settings: ActionSettings): Plan {
    const ref = clusterOf(asset);
    const known = stateOf(ref, asset.resource?.data ?? {});
    const added = missingLabels(known.labels, settings);
    const url = clusterUrl(ref);
    return {
      description:
        `Add the missing required labels ${JSON.stringify(added)} to ${describeCluster(ref)}, keeping every ` +
        'existing label unchanged. The labels and labelFingerprint are re-read right before the write, which ' +
        'carries that fingerprint (GKE refuses a stale one with 400 FAILED_PRECONDITION), then wait for the ' +
        'GKE operation. GKE passes cluster labels on to the nodes’ VMs and disks. Reversible: undo removes the ' +
        'added labels if the labels are still as the fix left them.',
      requests: [
        { method: 'GET', url },
        {
          method: 'POST',
          url: `${url}:setResourceLabels`,
          body: { resourceLabels: { ...known.labels, ...added }, labelFingerprint: known.labelFingerprint },
        },
        { method: 'GET', url: operationUrl(ref) },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    return readState(ctx, clusterOf(asset));
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseState(LabelStateSchema, rawBefore, 'before-state');
    const { ref } = before;
    const guarded = await rereadBeforeApply(() => readState(ctx, ref), {
      alreadyApplied: (live) =>
        Object.keys(missingLabels(live.labels, ctx.settings)).length === 0 ? live : undefined,
      asCaptured: (live) => live.labelFingerprint === before.labelFingerprint,
      changedReason: (live) =>
        `the labels of ${describeCluster(ref)} changed since they were captured (labelFingerprint ${before.labelFingerprint} → ${live.labelFingerprint})`,
    });
    if ('outcome' in guarded) return guarded.outcome;
    const { live } = guarded;
    const added = missingLabels(live.labels, ctx.settings);
    const r = await writeLabels(ctx, ref, { ...live.labels, ...added }, live.labelFingerprint);
    if (r === 'gone') return { status: 'gone' };
    if (r === 'stale') {
      return {
        status: 'conflict',
        reason: `the labels of ${describeCluster(ref)} changed while the fix was being sent (400 FAILED_PRECONDITION: labelFingerprint ${live.labelFingerprint} no longer current)`,
        stale: true,
      };
    }
    const afterData = await getCluster(ctx, ref);
    if (!afterData) return { status: 'gone' };
    ctx.logger.info('required labels added', { action: ID, ...ref, added });
    return { status: 'applied', after: stateOf(ref, afterData) };
  },

  readLive: readLiveCluster,

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseState(LabelStateSchema, rawBefore, 'before-state');
    const after = parseState(LabelStateSchema, rawAfter, 'after-state');
    const { ref } = before;
    const guarded = await rereadBeforeUndo(() => readState(ctx, ref), {
      asFixLeftIt: (live) =>
        live.labelFingerprint === after.labelFingerprint && sameLabels(live.labels, after.labels),
      changedReason: (live) =>
        `the labels of ${describeCluster(ref)} changed after the fix (labelFingerprint ${after.labelFingerprint} → ${live.labelFingerprint}); restoring would overwrite that change`,
      restored: (live) => sameLabels(live.labels, before.labels),
    });
    if ('outcome' in guarded) return guarded.outcome;
    const { live } = guarded;
    const r = await writeLabels(ctx, ref, before.labels, live.labelFingerprint);
    if (r === 'gone') return { status: 'gone' };
    if (r === 'stale') {
      return {
        status: 'refused',
        reason: `the labels of ${describeCluster(ref)} changed while the undo was being sent (400 FAILED_PRECONDITION: fingerprint mismatch)`,
      };
    }
    ctx.logger.info('cluster labels restored', { action: ID, ...ref });
    return { status: 'restored' };
  },
};
