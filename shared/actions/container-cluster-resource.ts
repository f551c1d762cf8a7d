import type { protos } from '@google-cloud/container';
import { z } from 'zod';
import { describeCloudError, isNotFound, toWardenError } from '../cloud/errors.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import { protoRestJson } from '../cloud/proto-rest-json.js';
import { pollUntilDone } from './operation-poll.js';
import type { ActionContext } from './types.js';
import { parseRecordedState } from './recorded-state.js';
import { withLiveData } from './live-asset.js';

export const CLUSTER_TYPE = 'container.googleapis.com/Cluster';
export const CONTAINER_API = 'https://container.googleapis.com/v1';

export type Json = Record<string, unknown>;
type IOperation = protos.google.container.v1.IOperation;

export const ClusterRefSchema = z.object({ project: z.string(), location: z.string(), cluster: z.string() });
export type ClusterRef = z.infer<typeof ClusterRefSchema>;

/** What the cluster actions record: the cluster as clusters.get returned it (REST JSON). */
export const ClusterStateSchema = z.object({
  ref: ClusterRefSchema,
  data: z.record(z.string(), z.unknown()),
});
export type ClusterState = z.infer<typeof ClusterStateSchema>;

/** `//container.googleapis.com/projects/P/(locations|zones)/L/clusters/C` (CAI uses locations for both). */
export function clusterOf(asset: Asset): ClusterRef {
  const m =
    /^\/\/container\.googleapis\.com\/projects\/([^/]+)\/(?:locations|zones)\/([^/]+)\/clusters\/([^/]+)$/.exec(
      asset.name,
    );
  if (!m?.[1] || !m[2] || !m[3]) {
    throw new WardenError(`${asset.name} is not a GKE cluster`, { retryable: false, code: 'not_applicable' });
  }
  return { project: m[1], location: m[2], cluster: m[3] };
}

/** The resource name the v1 API takes: projects/P/locations/L/clusters/C. */
export function clusterName(r: ClusterRef): string {
  return `projects/${r.project}/locations/${r.location}/clusters/${r.cluster}`;
}
export function clusterUrl(r: ClusterRef): string {
  return `${CONTAINER_API}/${clusterName(r)}`;
}
export function operationUrl(r: ClusterRef): string {
  return `${CONTAINER_API}/projects/${r.project}/locations/${r.location}/operations/{operation}`;
}
export function describeCluster(r: ClusterRef): string {
  return `GKE cluster ${r.cluster} (project ${r.project}, location ${r.location})`;
}

export function rec(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

export function nodePoolsOf(data: Json): Json[] {
  const pools = data['nodePools'];
  return Array.isArray(pools) ? pools.filter((p): p is Json => rec(p) !== undefined) : [];
}

export function isAutopilot(data: Json): boolean {
  return rec(data['autopilot'])?.['enabled'] === true;
}

/** The cluster's release channel (RAPID, REGULAR, STABLE, EXTENDED), or undefined for a static version. */
export function releaseChannel(data: Json): string | undefined {
  const c = String(rec(data['releaseChannel'])?.['channel'] ?? '');
  return ['RAPID', 'REGULAR', 'STABLE', 'EXTENDED'].includes(c) ? c : undefined;
}

/**
 * Fields GKE changes by itself (status, node counts, versions during its auto-upgrades, node pool instance
 * groups, conditions, the etag that follows them): not somebody's configuration change, so not part of the
 * guarded comparison.
 */
const CLUSTER_RUNTIME = [
  'status',
  'statusMessage',
  'conditions',
  'currentNodeCount',
  'currentMasterVersion',
  'currentNodeVersion',
  'instanceGroupUrls',
  'etag',
  'endpoint',
  'expireTime',
];
const POOL_RUNTIME = [
  'status',
  'statusMessage',
  'conditions',
  'instanceGroupUrls',
  'version',
  'etag',
  'updateInfo',
];

export function configView(data: Json): Json {
  const copy: Json = { ...data };
  for (const f of CLUSTER_RUNTIME) delete copy[f];
  if (Array.isArray(copy['nodePools'])) {
    copy['nodePools'] = nodePoolsOf(copy).map((p) => {
      const pool: Json = { ...p };
      for (const f of POOL_RUNTIME) delete pool[f];
      const management = rec(pool['management']);
      if (management) {
        // upgradeOptions (autoUpgradeStartTime, description) is output only, set by GKE's upgrade scheduler.
        const { upgradeOptions: _u, ...rest } = management;
        pool['management'] = rest;
      }
      return pool;
    });
  }
  return copy;
}

export function sameConfig(a: Json, b: Json): boolean {
  return canonicalJson(configView(a)) === canonicalJson(configView(b));
}

/** clusters.get as REST JSON, null when the cluster is gone. */
export async function getCluster(ctx: ActionContext, r: ClusterRef): Promise<Json | null> {
  const client = await ctx.cloud.container('ClusterManagerClient');
  try {
    const [cluster] = await client.getCluster({ name: clusterName(r) });
    return protoRestJson('@google-cloud/container', 'google.container.v1.Cluster', cluster);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading ${describeCluster(r)}`);
  }
}

/** captureBefore of the actions that record the whole cluster as clusters.get returned it. */
export async function captureCluster(asset: Asset, ctx: ActionContext): Promise<ClusterState | null> {
  const ref = clusterOf(asset);
  const data = await getCluster(ctx, ref);
  return data ? { ref, data } : null;
}

export async function readLiveCluster(asset: Asset, ctx: ActionContext): Promise<Asset | null> {
  const data = await getCluster(ctx, clusterOf(asset));
  return data ? withLiveData(asset, data) : null;
}

export function parseClusterState(value: unknown, what: string): ClusterState {
  return parseRecordedState(ClusterStateSchema, value, what);
}

/** GKE's answer while another operation runs on the cluster: 400 FAILED_PRECONDITION (not 409). */
export function isClusterBusy(err: unknown): boolean {
  const info = describeCloudError(err);
  return (
    info.status === 'FAILED_PRECONDITION' &&
    /incompatible operation|is currently (upgrading|operating|creating|deleting)/i.test(info.message)
  );
}

/** GKE's answer to a stale labelFingerprint: 400 FAILED_PRECONDITION "… fingerprint mismatch …". */
export function isLabelFingerprintMismatch(err: unknown): boolean {
  const info = describeCloudError(err);
  return info.status === 'FAILED_PRECONDITION' && /fingerprint mismatch/i.test(info.message);
}

export type SendResult = 'done' | 'gone' | 'stale';

/**
 * Starts one cluster mutation and waits for its operation. A 404 is 'gone'. Another operation running on the
 * cluster (GKE runs one at a time) is a retryable error: the executor tries again once it has finished, and
 * apply re-reads the cluster first. `stale` tells the call's precondition failure apart ('stale'); everything
 * else is toWardenError's verdict.
 */
export async function sendAndWait(
  ctx: ActionContext,
  r: ClusterRef,
  doing: string,
  call: () => Promise<IOperation>,
  stale?: (err: unknown) => boolean,
): Promise<SendResult> {
  let started: IOperation;
  try {
    started = await call();
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    if (stale?.(err)) return 'stale';
    if (isClusterBusy(err)) {
      throw new WardenError(
        `${doing}: ${describeCluster(r)} is running another operation; retry when it is done`,
        {
          retryable: true,
          code: 'cluster_busy',
          cause: err,
        },
      );
    }
    throw toWardenError(err, doing);
  }
  await waitForClusterOperation(ctx, r, started);
  return 'done';
}

/**
 * Waits for a GKE operation (operations.get; GKE has no wait method) until DONE. A DONE operation with
 * `error` (google.rpc.Status) failed: a non-retryable WardenError, as the cluster must be judged again from a
 * fresh read rather than the call blindly re-sent. ABORTING is still running.
 */
export async function waitForClusterOperation(
  ctx: ActionContext,
  r: ClusterRef,
  started: IOperation,
): Promise<void> {
  const id = started.name;
  if (!id) {
    throw new WardenError('GKE returned an operation without a name', {
      retryable: false,
      code: 'invalid_response',
    });
  }
  const name = `projects/${r.project}/locations/${r.location}/operations/${id}`;
  const client = await ctx.cloud.container('ClusterManagerClient');
  const done = await pollUntilDone(
    started,
    (op) => op.status === 'DONE',
    async () => {
      try {
        const [op] = await client.getOperation({ name });
        return op;
      } catch (err) {
        throw toWardenError(err, `waiting for GKE operation ${id}`);
      }
    },
    `GKE operation ${id} on ${describeCluster(r)}`,
  );
  const error = done.error;
  if (error && (Number(error.code ?? 0) !== 0 || (error.message ?? '') !== '')) {
    throw new WardenError(
      `GKE operation ${id} (${String(done.operationType)}) on ${describeCluster(r)} failed: ${error.message ?? `code ${String(error.code)}`}`,
      { retryable: false, code: 'operation_failed' },
    );
  }
}
