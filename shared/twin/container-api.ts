import { createHash } from 'node:crypto';
import { z } from 'zod';
import { protoRestJson, renderProtoJson } from '../cloud/proto-rest-json.js';
import type { Asset } from '../model/asset.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { Inventory } from './inventory.js';
import { isObject, type JsonObject } from './merge-patch.js';
import type {
  ApiSurface,
  ConcurrentChange,
  Route,
  RouteRequest,
  RouteResponse,
  SurfaceOptions,
} from './routes.js';

/**
 * GKE v1 (container.googleapis.com), the calls Warden's cluster actions make, by resource name as the
 * official client sends them (REST, `$alt=json;enum-encoding=int`):
 * - GET  /v1/projects/P/locations/L/clusters/C                              clusters.get
 * - POST /v1/projects/P/locations/L/clusters/C:setLegacyAbac {enabled}      clusters.setLegacyAbac
 * - POST /v1/projects/P/locations/L/clusters/C:setAddons {addonsConfig}     clusters.setAddons (replaces it)
 * - POST /v1/projects/P/locations/L/clusters/C:setResourceLabels {resourceLabels, labelFingerprint}
 * - POST /v1/projects/P/locations/L/clusters/C/nodePools/NP:setManagement {management} (replaces it)
 * - GET  /v1/projects/P/locations/L/operations/OP                            operations.get
 *
 * Every mutation returns an Operation (PENDING → RUNNING → DONE after `operationPolls` reads; DONE with
 * `error` under the failOperation fault) and its change lands when it is DONE, published as a RESOURCE feed
 * message. GKE runs one operation per cluster at a time: a mutation while another is running answers
 * 400 FAILED_PRECONDITION "Cluster is running incompatible operation …" (ErrorInfo reason
 * CLUSTER_ALREADY_HAS_OPERATION). The only precondition the API takes is setResourceLabels'
 * labelFingerprint; a stale or missing one answers 400 FAILED_PRECONDITION "Labels could not be set due to
 * fingerprint mismatch …". Clusters on a release channel refuse node pools without auto-upgrade and
 * auto-repair (400 "Auto_upgrade and auto_repair cannot be false when release_channel REGULAR is set.").
 */

const ID = '([^/:]+)';
const PREFIX = `^/v1/projects/${ID}/locations/${ID}`;
const CLUSTER = new RegExp(`${PREFIX}/clusters/${ID}$`);
const SET_LEGACY_ABAC = new RegExp(`${PREFIX}/clusters/${ID}:setLegacyAbac$`);
const SET_ADDONS = new RegExp(`${PREFIX}/clusters/${ID}:setAddons$`);
const SET_RESOURCE_LABELS = new RegExp(`${PREFIX}/clusters/${ID}:setResourceLabels$`);
const SET_MANAGEMENT = new RegExp(`${PREFIX}/clusters/${ID}/nodePools/${ID}:setManagement$`);
const OPERATION = new RegExp(`${PREFIX}/operations/${ID}$`);
/** Any path addressing a cluster or one of its node pools (the concurrent-modification fault). */
const CLUSTER_ANY = new RegExp(`${PREFIX}/clusters/${ID}(?::[A-Za-z]+|/nodePools/${ID}(?::[A-Za-z]+)?)?$`);

export const CLUSTER_TYPE = 'container.googleapis.com/Cluster';
const API = 'https://container.googleapis.com/v1';
const CLUSTER_MESSAGE = 'google.container.v1.Cluster';

/** The AddonsConfig fields of google.container.v1 (setAddons refuses any other). */
const ADDONS = [
  'httpLoadBalancing',
  'horizontalPodAutoscaling',
  'kubernetesDashboard',
  'networkPolicyConfig',
  'cloudRunConfig',
  'dnsCacheConfig',
  'configConnectorConfig',
  'gcePersistentDiskCsiDriverConfig',
  'gcpFilestoreCsiDriverConfig',
  'gkeBackupAgentConfig',
  'gcsFuseCsiDriverConfig',
  'statefulHaConfig',
  'parallelstoreCsiDriverConfig',
  'rayOperatorConfig',
  'highScaleCheckpointingConfig',
  'lustreCsiDriverConfig',
  'podSnapshotConfig',
  'slurmOperatorConfig',
  'sliceControllerConfig',
  'nodeReadinessConfig',
] as const;

/** The request fields every one of these methods also takes (deprecated ones, and name, bound by the path). */
const Common = {
  name: z.string().optional(),
  projectId: z.string().optional(),
  zone: z.string().optional(),
  clusterId: z.string().optional(),
};
const SetLegacyAbacBody = z.strictObject({ ...Common, enabled: z.boolean().optional() });
const SetAddonsBody = z.strictObject({ ...Common, addonsConfig: z.record(z.string(), z.unknown()) });
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const SetResourceLabelsBody = z.strictObject({
  ...Common,
  resourceLabels: z
    .record(
      z.string().regex(LABEL_KEY, 'invalid label key'),
      z.string().regex(LABEL_VALUE, 'invalid label value'),
    )
    .optional(),
  labelFingerprint: z.string().optional(),
});
const SetManagementBody = z.strictObject({
  ...Common,
  nodePoolId: z.string().optional(),
  management: z.strictObject({
    autoUpgrade: z.boolean().optional(),
    autoRepair: z.boolean().optional(),
    upgradeOptions: z.looseObject({}).optional(),
  }),
});

/** A GKE error: gRPC status names do not follow the HTTP code here (400 FAILED_PRECONDITION). */
class GkeError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

function errorResponse(e: GkeError): RouteResponse {
  return {
    status: e.httpStatus,
    body: {
      error: {
        code: e.httpStatus,
        message: e.message,
        status: e.status,
        errors: [{ domain: 'global', reason: e.reason, message: e.message }],
      },
    },
  };
}

const notFound = (what: string): GkeError =>
  new GkeError(404, 'NOT_FOUND', `Not found: ${what}.`, 'notFound');
const badRequest = (message: string): GkeError =>
  new GkeError(400, 'INVALID_ARGUMENT', message, 'badRequest');

/** ESF's answer to a body that does not match the request message. */
function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = (issue?.path ?? []).map(String).join('.');
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    throw badRequest(
      `Invalid JSON payload received. Unknown name "${key}"${at ? ` at '${at}'` : ''}: Cannot find field.`,
    );
  }
  throw badRequest(`Invalid value at '${at}': ${issue?.message ?? 'invalid'}`);
}

/** GKE's labelFingerprint: a short hash of the label map (8 hex digits). */
function labelFingerprintOf(labels: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(isObject(labels) ? labels : {}))
    .digest('hex')
    .slice(0, 8);
}

/** A GKE version string "1.31.12-gke.1265000" as [major, minor]; undefined when absent or malformed. */
function minorVersion(v: unknown): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(String(v ?? ''));
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function dashboardOn(addons: unknown): boolean {
  const d = isObject(addons) ? addons['kubernetesDashboard'] : undefined;
  return isObject(d) && d['disabled'] !== true;
}

interface OperationState {
  op: JsonObject;
  reads: number;
  fail: boolean;
  cluster: string;
  complete: () => Promise<void>;
}

export function containerApi(inv: Inventory, opts: SurfaceOptions): ApiSurface {
  const operations = new Map<string, OperationState>();
  /** The operation each cluster (asset name) is running, until it is DONE. */
  const running = new Map<string, string>();
  let seq = 0;

  const clusterAsset = (project: string, location: string, cluster: string): Asset => {
    const tail = `/clusters/${cluster}`;
    const direct =
      inv.get(`//container.googleapis.com/projects/${project}/locations/${location}${tail}`) ??
      inv.get(`//container.googleapis.com/projects/${project}/zones/${location}${tail}`);
    // The API takes the project's number as well as its id; CAI names use the id.
    const asset =
      direct ??
      (/^\d+$/.test(project)
        ? inv
            .all()
            .find(
              (a) =>
                a.assetType === CLUSTER_TYPE &&
                a.ancestors.includes(`projects/${project}`) &&
                new RegExp(`/(locations|zones)/${location}${tail}$`).test(a.name),
            )
        : undefined);
    if (!asset || asset.assetType !== CLUSTER_TYPE)
      throw notFound(`projects/${project}/locations/${location}/clusters/${cluster}`);
    return asset;
  };

  const dataOf = (a: Asset): JsonObject => structuredClone(a.resource?.data ?? {}) as JsonObject;

  const render = (data: JsonObject): JsonObject => {
    const out = renderProtoJson('@google-cloud/container', CLUSTER_MESSAGE, data);
    out['labelFingerprint'] ??= labelFingerprintOf(data['resourceLabels']);
    return out;
  };

  /** Every change through inv.change (so it is published); a cluster with an etag gets a new one. */
  const changeCluster = (name: string, mutate: (data: JsonObject) => void): Promise<Asset> =>
    inv.change(name, ['RESOURCE'], (a) => {
      const data = dataOf(a);
      mutate(data);
      if (typeof data['etag'] === 'string')
        data['etag'] = createHash('sha256').update(`${name}/${++seq}`).digest('hex').slice(0, 16);
      a.resource = { ...(a.resource ?? {}), data };
    });

  const projectNumber = (project: string): string => inv.projectNumber(project) ?? project;

  const finish = async (state: OperationState): Promise<void> => {
    const now = inv.now();
    state.op['status'] = 'DONE';
    state.op['endTime'] = now;
    if (running.get(state.cluster) === state.op['name']) running.delete(state.cluster);
    if (state.fail) {
      const message = 'The operation failed (fault injected by the GCP twin).';
      state.op['error'] = { code: 13, message };
      state.op['statusMessage'] = message;
      return;
    }
    await state.complete();
  };

  const start = async (
    req: RouteRequest,
    asset: Asset,
    s: { project: string; location: string; type: string; target: string; complete: () => Promise<void> },
  ): Promise<JsonObject> => {
    const busy = running.get(asset.name);
    if (busy) {
      throw new GkeError(
        400,
        'FAILED_PRECONDITION',
        `Cluster is running incompatible operation ${busy}.`,
        'failedPrecondition',
      );
    }
    seq += 1;
    const now = inv.clock.now();
    const name = `operation-${now.getTime()}-${createHash('sha256').update(`${asset.name}/${seq}`).digest('hex').slice(0, 8)}`;
    const where = `projects/${projectNumber(s.project)}/locations/${s.location}`;
    const op: JsonObject = {
      name,
      zone: s.location,
      operationType: s.type,
      status: 'PENDING',
      selfLink: `${API}/${where}/operations/${name}`,
      targetLink: `${API}/${where}/${s.target}`,
      location: s.location,
      startTime: now.toISOString(),
    };
    const state: OperationState = {
      op,
      reads: 0,
      fail: req.failOperation,
      cluster: asset.name,
      complete: s.complete,
    };
    operations.set(`projects/${s.project}/locations/${s.location}/operations/${name}`, state);
    if (s.project !== projectNumber(s.project)) operations.set(`${where}/operations/${name}`, state);
    running.set(asset.name, name);
    if (opts.operationPolls <= 0) await finish(state);
    return structuredClone(state.op);
  };

  const readOperation = async (project: string, location: string, name: string): Promise<JsonObject> => {
    const state = operations.get(`projects/${project}/locations/${location}/operations/${name}`);
    if (!state) throw notFound(`operation ${name}`);
    if (state.op['status'] !== 'DONE') {
      state.reads += 1;
      if (state.reads >= opts.operationPolls) await finish(state);
      else state.op['status'] = 'RUNNING';
    }
    return structuredClone(state.op);
  };

  /** Wraps a handler: GKE's errors become Google's JSON error body with GKE's own status names. */
  const route = (
    method: Route['method'],
    pattern: RegExp,
    handle: (req: RouteRequest) => Promise<RouteResponse>,
  ): Route => ({
    method,
    pattern,
    async handle(req) {
      try {
        return await handle(req);
      } catch (err) {
        if (err instanceof GkeError) return errorResponse(err);
        throw err;
      }
    },
  });

  const clusterOf = (params: string[]): [string, string, string, Asset] => {
    const [project, location, cluster] = params as [string, string, string];
    return [project, location, cluster, clusterAsset(project, location, cluster)];
  };

  const clusterWrite = (
    pattern: RegExp,
    type: string,
    prepare: (req: RouteRequest, data: JsonObject) => (data: JsonObject) => void,
  ): Route =>
    route('POST', pattern, async (req) => {
      const [project, location, cluster, asset] = clusterOf(req.params);
      const mutate = prepare(req, dataOf(asset));
      const op = await start(req, asset, {
        project,
        location,
        type,
        target: `clusters/${cluster}`,
        complete: async () => {
          await changeCluster(asset.name, mutate);
        },
      });
      return { status: 200, body: op };
    });

  const routes: Route[] = [
    route('GET', CLUSTER, async (req) => {
      const [, , , asset] = clusterOf(req.params);
      return { status: 200, body: render(dataOf(asset)) };
    }),
    clusterWrite(SET_LEGACY_ABAC, 'UPDATE_CLUSTER', (req) => {
      const body = parse(SetLegacyAbacBody, req.body);
      // proto3 JSON omits false: a cluster without ABAC shows legacyAbac {}.
      return (data) => {
        data['legacyAbac'] = body.enabled === true ? { enabled: true } : {};
      };
    }),
    clusterWrite(SET_ADDONS, 'UPDATE_CLUSTER', (req, current) => {
      const body = parse(SetAddonsBody, req.body);
      for (const [k, v] of Object.entries(body.addonsConfig)) {
        if (!(ADDONS as readonly string[]).includes(k))
          throw badRequest(
            `Invalid JSON payload received. Unknown name "${k}" at 'addons_config': Cannot find field.`,
          );
        if (!isObject(v)) throw badRequest(`Invalid value at 'addons_config.${k}': expected an object.`);
      }
      // Stored as GKE returns it: enums by name, false and zero values omitted.
      const addons = protoRestJson(
        '@google-cloud/container',
        'google.container.v1.AddonsConfig',
        body.addonsConfig,
      );
      const version = minorVersion(current['currentMasterVersion']);
      if (
        dashboardOn(addons) &&
        !dashboardOn(current['addonsConfig']) &&
        (!version || version[0] > 1 || version[1] >= 15)
      ) {
        // The add-on was removed in GKE 1.15 (the twin's wording of GKE's refusal).
        throw badRequest('The Kubernetes Dashboard add-on is not supported on GKE 1.15 and later.');
      }
      return (data) => {
        data['addonsConfig'] = addons;
      };
    }),
    clusterWrite(SET_RESOURCE_LABELS, 'SET_LABELS', (req, current) => {
      const body = parse(SetResourceLabelsBody, req.body);
      const labels = body.resourceLabels ?? {};
      if (Object.keys(labels).length > 64) throw badRequest('A cluster can have at most 64 labels.');
      const expected =
        typeof current['labelFingerprint'] === 'string'
          ? current['labelFingerprint']
          : labelFingerprintOf(current['resourceLabels']);
      const supplied = body.labelFingerprint ?? '';
      if (supplied !== expected) {
        throw new GkeError(
          400,
          'FAILED_PRECONDITION',
          `Labels could not be set due to fingerprint mismatch; try again with the proper fingerprint: incorrect fingerprint supplied was "${supplied}", the expected one is "${expected}".`,
          'failedPrecondition',
        );
      }
      return (data) => {
        if (Object.keys(labels).length > 0) data['resourceLabels'] = { ...labels };
        else delete data['resourceLabels'];
        data['labelFingerprint'] = labelFingerprintOf(labels);
      };
    }),
    route('POST', SET_MANAGEMENT, async (req) => {
      const [project, location, cluster, asset] = clusterOf(req.params);
      const pool = req.params[3] as string;
      const body = parse(SetManagementBody, req.body);
      const data = dataOf(asset);
      const pools = Array.isArray(data['nodePools']) ? (data['nodePools'] as JsonObject[]) : [];
      if (!pools.some((p) => p['name'] === pool))
        throw notFound(`projects/${project}/locations/${location}/clusters/${cluster}/nodePools/${pool}`);
      if (isObject(data['autopilot']) && data['autopilot']['enabled'] === true)
        throw badRequest('Node pool management cannot be changed on an Autopilot cluster.');
      const autoUpgrade = body.management.autoUpgrade === true;
      const autoRepair = body.management.autoRepair === true;
      const channel = isObject(data['releaseChannel']) ? String(data['releaseChannel']['channel'] ?? '') : '';
      if (['RAPID', 'REGULAR', 'STABLE', 'EXTENDED'].includes(channel) && !(autoUpgrade && autoRepair)) {
        throw badRequest(
          `Auto_upgrade and auto_repair cannot be false when release_channel ${channel} is set.`,
        );
      }
      const op = await start(req, asset, {
        project,
        location,
        type: 'SET_NODE_POOL_MANAGEMENT',
        target: `clusters/${cluster}/nodePools/${pool}`,
        complete: async () => {
          await changeCluster(asset.name, (d) => {
            for (const p of Array.isArray(d['nodePools']) ? (d['nodePools'] as JsonObject[]) : []) {
              if (p['name'] !== pool) continue;
              const before = isObject(p['management']) ? p['management'] : {};
              // management is replaced whole; upgradeOptions is GKE's own (output) and lives while auto-upgrade does.
              const next: JsonObject = {};
              if (autoUpgrade) next['autoUpgrade'] = true;
              if (autoRepair) next['autoRepair'] = true;
              if (autoUpgrade && isObject(before['upgradeOptions']))
                next['upgradeOptions'] = before['upgradeOptions'];
              p['management'] = next;
            }
          });
        },
      });
      return { status: 200, body: op };
    }),
    route('GET', OPERATION, async (req) => {
      const [project, location, name] = req.params as [string, string, string];
      return { status: 200, body: await readOperation(project, location, name) };
    }),
  ];

  const concurrentChanges: ConcurrentChange[] = [
    {
      pattern: CLUSTER_ANY,
      async apply(params) {
        const [, , , asset] = clusterOf(params);
        seq += 1;
        const n = seq;
        await changeCluster(asset.name, (data) => {
          const labels = isObject(data['resourceLabels']) ? data['resourceLabels'] : {};
          data['resourceLabels'] = { ...labels, 'changed-by': `someone-else-${n}` };
          data['labelFingerprint'] = labelFingerprintOf(data['resourceLabels']);
          data['description'] = `changed by someone else (${n})`;
        });
      },
    },
  ];

  return { routes, concurrentChanges };
}
