import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import {
  CLUSTER_TYPE,
  clusterName,
  clusterOf,
  clusterUrl,
  describeCluster,
  getCluster,
  isAutopilot,
  nodePoolsOf,
  operationUrl,
  parseClusterState,
  rec,
  releaseChannel,
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

const ID = 'container.cluster.enable-node-auto-repair';

interface Management {
  autoUpgrade: boolean;
  autoRepair: boolean;
}

const truthy = (v: unknown): boolean => String(v ?? false).toLowerCase() === 'true';

/** A pool's management as gke-node-auto-repair-disabled reads it: {} or absent means both off. */
function managementOf(pool: Json): Management {
  const m = rec(pool['management']) ?? {};
  return { autoUpgrade: truthy(m['autoUpgrade']), autoRepair: truthy(m['autoRepair']) };
}

function poolNamed(data: Json, name: string): Json | undefined {
  return nodePoolsOf(data).find((p) => p['name'] === name);
}

function poolsWithoutRepair(data: Json): Json[] {
  return nodePoolsOf(data).filter((p) => !managementOf(p).autoRepair);
}

/** The management the fix sends to `pool`: auto-repair on, auto-upgrade as it is (replaced wholesale). */
function fixedManagement(pool: Json): Management {
  return { autoUpgrade: managementOf(pool).autoUpgrade, autoRepair: true };
}

/**
 * `data` with every pool that moved from `from`'s management to `to`'s put back to `from`'s: the progress a
 * fix (or an undo) interrupted half-way made itself, which a resumed call must not mistake for someone
 * else's change. Anything else that differs still does.
 */
function withoutOwnProgress(data: Json, from: Json, to: (pool: Json) => Management | undefined): Json {
  const pools = nodePoolsOf(data).map((p) => {
    const name = String(p['name'] ?? '');
    const was = poolNamed(from, name);
    const target = was ? to(was) : undefined;
    if (!was || !target) return p;
    const now = managementOf(p);
    if (now.autoRepair !== target.autoRepair || now.autoUpgrade !== target.autoUpgrade) return p;
    const { management: _m, ...rest } = p;
    return 'management' in was ? { ...rest, management: was['management'] } : rest;
  });
  return Array.isArray(data['nodePools']) ? { ...data, nodePools: pools } : data;
}

function refusal(data: Json): string | undefined {
  if (isAutopilot(data)) return 'it is an Autopilot cluster, where GKE manages node repair itself';
  const channel = releaseChannel(data);
  const stuck = poolsWithoutRepair(data).filter((p) => !managementOf(p).autoUpgrade);
  if (channel && stuck.length > 0) {
    return (
      `it is on the ${channel} release channel, where GKE accepts auto-repair only together with auto-upgrade, ` +
      `which node pool(s) ${stuck.map((p) => String(p['name'])).join(', ')} lack: Warden does not turn ` +
      'auto-upgrade on (it starts node upgrades); enable both on those pools by hand'
    );
  }
  return undefined;
}

function poolUrl(ref: ClusterRef, pool: string): string {
  return `${clusterUrl(ref)}/nodePools/${pool}`;
}

async function setManagement(ctx: ActionContext, ref: ClusterRef, pool: string, management: Management) {
  const doing = `setting the management of node pool ${pool} of ${describeCluster(ref)}`;
  return sendAndWait(ctx, ref, doing, async () => {
    const client = await ctx.cloud.container('ClusterManagerClient');
    const [op] = await client.setNodePoolManagement({
      name: `${clusterName(ref)}/nodePools/${pool}`,
      management: { autoUpgrade: management.autoUpgrade, autoRepair: management.autoRepair },
    });
    return op;
  });
}

/**
 * Turns node auto-repair on for every node pool of a Standard cluster that lacks it (CIS GKE 5.5.2):
 * nodePools.setManagement replaces the pool's whole management, so each call carries auto-repair on and the
 * pool's current auto-upgrade unchanged (turning auto-upgrade on starts node upgrades:
 * gke-node-auto-upgrade-disabled stays recommend-only). GKE runs one operation per cluster at a time, so the
 * pools are done one after the other, each operation waited for before the next call.
 *
 * setManagement takes no etag: the guard is the cluster re-read before each call and compared with the
 * captured one (a pool this fix already changed counts as progress, so an interrupted fix resumes). If
 * someone else changes the cluster half-way, the fix stops there and reports what it did; verification
 * then finds pools left without auto-repair and undo puts back the ones it changed.
 *
 * Medium risk: GKE starts repairing unhealthy nodes at once (drain and recreate). Reversible except on a
 * release channel, where GKE refuses auto-repair off: undo is refused there.
 */
export const clusterEnableNodeAutoRepair: RemediationAction<ClusterState> = {
  id: ID,
  title: 'Turn on node auto-repair for the node pools of a GKE cluster',
  risk: 'medium',
  reversible: true,
  assetTypes: [CLUSTER_TYPE],

  plan(asset: Asset, _settings: ActionSettings): Plan {
    const ref = clusterOf(asset);
    const data = asset.resource?.data ?? {};
    const pools = poolsWithoutRepair(data);
    return {
      description:
        `Turn on node auto-repair for node pool(s) ${pools.map((p) => String(p['name'])).join(', ') || '(none)'} ` +
        `of ${describeCluster(ref)} with nodePools.setManagement, one pool at a time (GKE runs one operation per ` +
        'cluster), each call carrying the whole management: autoRepair true and the pool’s current autoUpgrade ' +
        'unchanged. The cluster is re-read before each call and checked unchanged (the method takes no etag), ' +
        'and each operation is waited for. GKE then recreates nodes that fail health checks. Reversible: undo ' +
        'restores each pool’s previous management if the cluster is still as the fix left it (not on a release ' +
        'channel, where GKE requires auto-repair). Autopilot clusters are refused.',
      requests: [
        { method: 'GET', url: clusterUrl(ref) },
        ...pools.flatMap((p) => [
          {
            method: 'POST' as const,
            url: `${poolUrl(ref, String(p['name']))}:setManagement`,
            body: { management: fixedManagement(p) },
          },
          { method: 'GET' as const, url: operationUrl(ref) },
        ]),
      ],
    };
  },

  captureBefore: captureCluster,

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseClusterState(rawBefore, 'before-state');
    const { ref } = before;
    const unchanged = (data: Json): boolean =>
      sameConfig(
        withoutOwnProgress(data, before.data, (p) =>
          managementOf(p).autoRepair ? undefined : fixedManagement(p),
        ),
        before.data,
      );
    const guarded = await rereadBeforeApply(() => getCluster(ctx, ref), {
      refusal: (data) => {
        const refused = refusal(data);
        return refused && `${describeCluster(ref)}: ${refused}`;
      },
      alreadyApplied: (data) => (poolsWithoutRepair(data).length === 0 ? { ref, data } : undefined),
      asCaptured: unchanged,
      what: describeCluster(ref),
    });
    if ('outcome' in guarded) return guarded.outcome;
    let live: Json | null = guarded.live;
    const done: string[] = [];
    for (let pool = poolsWithoutRepair(live)[0]; pool; pool = poolsWithoutRepair(live)[0]) {
      const name = String(pool['name']);
      if (done.includes(name)) {
        throw new WardenError(
          `node pool ${name} of ${describeCluster(ref)} still has no auto-repair after its setManagement operation ended`,
          { retryable: false, code: 'operation_failed' },
        );
      }
      if ((await setManagement(ctx, ref, name, fixedManagement(pool))) !== 'done') return { status: 'gone' };
      done.push(name);
      live = await getCluster(ctx, ref);
      if (!live) return { status: 'gone' };
      if (!unchanged(live)) {
        ctx.logger.warn(
          'GKE cluster changed by someone else while node auto-repair was being turned on; stopped',
          {
            ...ref,
            done,
          },
        );
        break;
      }
    }
    ctx.logger.info('node auto-repair enabled', { action: ID, ...ref, pools: done });
    return { status: 'applied', after: { ref, data: live } };
  },

  readLive: readLiveCluster,

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseClusterState(rawBefore, 'before-state');
    const after = parseClusterState(rawAfter, 'after-state');
    const { ref } = before;
    const previous = (name: string): Management | undefined => {
      const p = poolNamed(before.data, name);
      return p ? managementOf(p) : undefined;
    };
    /** after's data with the pools this undo already restored counted as not yet restored. */
    const asFixLeftIt = (data: Json): boolean =>
      sameConfig(
        withoutOwnProgress(data, after.data, (p) => previous(String(p['name']))),
        after.data,
      );
    const toRestore = (data: Json): Json[] =>
      nodePoolsOf(data).filter((p) => {
        const was = previous(String(p['name']));
        const now = managementOf(p);
        return (
          was !== undefined && (was.autoRepair !== now.autoRepair || was.autoUpgrade !== now.autoUpgrade)
        );
      });

    const guarded = await rereadBeforeUndo(() => getCluster(ctx, ref), {
      asFixLeftIt,
      what: describeCluster(ref),
      restored: (data) => toRestore(data).length === 0,
    });
    if ('outcome' in guarded) return guarded.outcome;
    let live: Json | null = guarded.live;
    const channel = releaseChannel(live);
    if (channel) {
      return {
        status: 'refused',
        reason: `${describeCluster(ref)} is on the ${channel} release channel, where GKE refuses node pools without auto-repair`,
      };
    }
    const restored: string[] = [];
    for (let pool = toRestore(live)[0]; pool; pool = toRestore(live)[0]) {
      const name = String(pool['name']);
      const was = previous(name);
      if (!was || restored.includes(name)) {
        throw new WardenError(
          `node pool ${name} of ${describeCluster(ref)} did not take its previous management back`,
          { retryable: false, code: 'operation_failed' },
        );
      }
      if ((await setManagement(ctx, ref, name, was)) !== 'done') return { status: 'gone' };
      restored.push(name);
      live = await getCluster(ctx, ref);
      if (!live) return { status: 'gone' };
      if (!asFixLeftIt(live)) {
        return {
          status: 'refused',
          reason: `${describeCluster(ref)} changed while the undo was in progress; restored so far: ${restored.join(', ')}`,
        };
      }
    }
    ctx.logger.info('node pool management restored', { action: ID, ...ref, pools: restored });
    return { status: 'restored' };
  },
};
