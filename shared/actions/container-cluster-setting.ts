import type { protos } from '@google-cloud/container';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import type { Risk } from '../model/policy.js';
import {
  CLUSTER_TYPE,
  clusterOf,
  clusterUrl,
  describeCluster,
  getCluster,
  operationUrl,
  parseClusterState,
  sameConfig,
  sendAndWait,
  type ClusterRef,
  type ClusterState,
  type Json,
  readLiveCluster,
  captureCluster,
} from './container-cluster-resource.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

type IOperation = protos.google.container.v1.IOperation;

/**
 * One cluster setting changed by one GKE call that takes no precondition (setLegacyAbac, setAddons): the
 * guard is a re-read right before the call, compared with the captured cluster (GKE's own runtime fields
 * aside); a window of one round trip remains, the most these methods allow. (Cluster.etag exists, but only
 * clusters.update and nodePools.update take it; these set* methods do not.)
 */
export interface ClusterSettingSpec {
  id: string;
  title: string;
  risk: Risk;
  reversible: boolean;
  /** The call's path suffix (":setLegacyAbac") and what the plan shows of it. */
  verb: string;
  /** Why this cluster must not be changed (a conflict; nothing is sent). */
  refusal?(data: Json): string | undefined;
  isFixed(data: Json): boolean;
  /** The request body that fixes `data` (as the client sends it: name is in the path). */
  fixBody(data: Json): Json;
  fix(ctx: ActionContext, ref: ClusterRef, live: Json): Promise<IOperation>;
  /** Whether the live cluster already has `before`'s value of the setting. */
  isRestored(before: Json, live: Json): boolean;
  /** Why the before-state cannot be restored on this cluster, if so (undo is then refused). */
  undoRefusal?(before: Json, live: Json): string | undefined;
  restore(ctx: ActionContext, ref: ClusterRef, before: Json, live: Json): Promise<IOperation>;
  describe(ref: ClusterRef, data: Json): string;
}

export function clusterSettingAction(spec: ClusterSettingSpec): RemediationAction<ClusterState> {
  return {
    id: spec.id,
    title: spec.title,
    risk: spec.risk,
    reversible: spec.reversible,
    assetTypes: [CLUSTER_TYPE],

    plan(asset: Asset, _settings: ActionSettings): Plan {
      const ref = clusterOf(asset);
      const data = asset.resource?.data ?? {};
      const url = clusterUrl(ref);
      return {
        description: spec.describe(ref, data),
        requests: [
          { method: 'GET', url },
          { method: 'POST', url: `${url}${spec.verb}`, body: spec.fixBody(data) },
          { method: 'GET', url: operationUrl(ref) },
        ],
      };
    },

    captureBefore: captureCluster,

    async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
      const before = parseClusterState(rawBefore, 'before-state');
      const { ref } = before;
      const guarded = await rereadBeforeApply(() => getCluster(ctx, ref), {
        refusal: (live) => {
          const refused = spec.refusal?.(live);
          return refused && `${describeCluster(ref)}: ${refused}`;
        },
        alreadyApplied: (live) => (spec.isFixed(live) ? { ref, data: live } : undefined),
        asCaptured: (live) => sameConfig(live, before.data),
        what: describeCluster(ref),
      });
      if ('outcome' in guarded) return guarded.outcome;
      const { live } = guarded;
      const r = await sendAndWait(ctx, ref, `${spec.verb.slice(1)} on ${describeCluster(ref)}`, () =>
        spec.fix(ctx, ref, live),
      );
      if (r !== 'done') return { status: 'gone' };
      const data = await getCluster(ctx, ref);
      if (!data) return { status: 'gone' };
      ctx.logger.info('GKE cluster setting changed', { action: spec.id, ...ref });
      return { status: 'applied', after: { ref, data } };
    },

    readLive: readLiveCluster,

    async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
      const before = parseClusterState(rawBefore, 'before-state');
      const after = parseClusterState(rawAfter, 'after-state');
      const { ref } = before;
      const guarded = await rereadBeforeUndo(() => getCluster(ctx, ref), {
        asFixLeftIt: (live) => sameConfig(live, after.data),
        what: describeCluster(ref),
        restored: (live) => spec.isRestored(before.data, live),
      });
      if ('outcome' in guarded) return guarded.outcome;
      const { live } = guarded;
      const why = spec.undoRefusal?.(before.data, live);
      if (why) return { status: 'refused', reason: `${describeCluster(ref)}: ${why}` };
      const r = await sendAndWait(
        ctx,
        ref,
        `restoring ${spec.verb.slice(1)} on ${describeCluster(ref)}`,
        () => spec.restore(ctx, ref, before.data, live),
      );
      if (r !== 'done') return { status: 'gone' };
      ctx.logger.info('GKE cluster setting restored', { action: spec.id, ...ref });
      return { status: 'restored' };
    },
  };
}
