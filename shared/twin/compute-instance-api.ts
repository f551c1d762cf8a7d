import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Asset } from '../model/asset.js';
import { computeOperations, type OperationScope } from './compute-operations.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import type { JsonObject } from './merge-patch.js';
import { parseBody, type ApiSurface, type Route, type RouteRequest, type RouteResponse } from './routes.js';

/**
 * Compute Engine v1: instances (get, setMetadata, setLabels, setDeletionProtection), disks (get,
 * setLabels, addResourcePolicies, removeResourcePolicies), regional disks (get, addResourcePolicies,
 * removeResourcePolicies), resource policies (get), the compute project (get, setCommonInstanceMetadata), zone
 * operations (get, wait) and the global operations the project calls start (regional ones are served by the
 * network surface from the same store).
 *
 * What @google-cloud/compute (REST fallback) sends, as logged by test/twin/compute-instance-api.test.ts:
 * - instances.setMetadata: POST …/zones/Z/instances/I/setMetadata, body = the Metadata resource
 *   `{fingerprint, items: [{key, value}]}` (an empty `items` list is omitted: no items = clear them all);
 * - projects.setCommonInstanceMetadata: POST /projects/P/setCommonInstanceMetadata, the same body;
 * - instances.setLabels / disks.setLabels: POST …/setLabels, body `{labels, labelFingerprint}`;
 * - instances.setDeletionProtection: POST …/instances/I/setDeletionProtection?deletionProtection=true|false
 *   with no body (the API's default for an absent parameter is true);
 * - zoneOperations.wait: POST …/zones/Z/operations/OP/wait with the JSON string `""` as body;
 * - disks.addResourcePolicies / removeResourcePolicies (zonal and regional): POST …/disks/D/addResourcePolicies
 *   with `{resourcePolicies: [url]}`; no fingerprint (the API takes none), the disk's resourcePolicies[] holds
 *   full www.googleapis.com URLs once the operation is DONE.
 *
 * Metadata and labels are optimistic-locked (catalog F10): a write must carry the current fingerprint, or it
 * fails with 412 conditionNotMet; `items` and `labels` replace the whole list. Every accepted change gets a
 * new fingerprint. As with firewalls, the change lands when its operation completes.
 */

const P = '([^/]+)';
const INSTANCE = new RegExp(`^/compute/v1/projects/${P}/zones/${P}/instances/${P}$`);
const INSTANCE_METHOD = (m: string) =>
  new RegExp(`^/compute/v1/projects/${P}/zones/${P}/instances/${P}/${m}$`);
const INSTANCE_ANY = new RegExp(`^/compute/v1/projects/${P}/zones/${P}/instances/${P}(?:/[A-Za-z]+)?$`);
const DISK = new RegExp(`^/compute/v1/projects/${P}/zones/${P}/disks/${P}$`);
const DISK_SET_LABELS = new RegExp(`^/compute/v1/projects/${P}/zones/${P}/disks/${P}/setLabels$`);
const DISK_ANY = new RegExp(`^/compute/v1/projects/${P}/zones/${P}/disks/${P}(?:/[A-Za-z]+)?$`);
const DISK_METHOD = (m: string) => new RegExp(`^/compute/v1/projects/${P}/zones/${P}/disks/${P}/${m}$`);
const REGION_DISK = new RegExp(`^/compute/v1/projects/${P}/regions/${P}/disks/${P}$`);
const REGION_DISK_METHOD = (m: string) =>
  new RegExp(`^/compute/v1/projects/${P}/regions/${P}/disks/${P}/${m}$`);
const REGION_DISK_ANY = new RegExp(`^/compute/v1/projects/${P}/regions/${P}/disks/${P}(?:/[A-Za-z]+)?$`);
const RESOURCE_POLICY = new RegExp(`^/compute/v1/projects/${P}/regions/${P}/resourcePolicies/${P}$`);
/** A resource policy reference in a request body: a full URL (either compute host) or a relative path. */
const RESOURCE_POLICY_REF =
  /^(?:https:\/\/(?:www|compute)\.googleapis\.com\/compute\/(?:v1|beta)\/)?projects\/([^/]+)\/regions\/([^/]+)\/resourcePolicies\/([^/]+)$/;
const PROJECT = new RegExp(`^/compute/v1/projects/${P}$`);
const PROJECT_SET_METADATA = new RegExp(`^/compute/v1/projects/${P}/setCommonInstanceMetadata$`);
const PROJECT_ANY = new RegExp(`^/compute/v1/projects/${P}(?:/setCommonInstanceMetadata)?$`);

const API_BASE = 'https://www.googleapis.com/compute/v1';
export const INSTANCE_TYPE = 'compute.googleapis.com/Instance';
export const DISK_TYPE = 'compute.googleapis.com/Disk';
export const COMPUTE_PROJECT_TYPE = 'compute.googleapis.com/Project';
export const RESOURCE_POLICY_TYPE = 'compute.googleapis.com/ResourcePolicy';

export function instanceAssetName(project: string, zone: string, instance: string): string {
  return `//compute.googleapis.com/projects/${project}/zones/${zone}/instances/${instance}`;
}
export function diskAssetName(project: string, zone: string, disk: string): string {
  return `//compute.googleapis.com/projects/${project}/zones/${zone}/disks/${disk}`;
}
export function regionDiskAssetName(project: string, region: string, disk: string): string {
  return `//compute.googleapis.com/projects/${project}/regions/${region}/disks/${disk}`;
}
export function resourcePolicyAssetName(project: string, region: string, policy: string): string {
  return `//compute.googleapis.com/projects/${project}/regions/${region}/resourcePolicies/${policy}`;
}
export function computeProjectAssetName(project: string): string {
  return `//compute.googleapis.com/projects/${project}`;
}

const MetadataBody = z.looseObject({
  kind: z.string().optional(),
  fingerprint: z.string().optional(),
  items: z
    .array(
      z.looseObject({
        key: z.string().regex(/^[a-zA-Z0-9-_]{1,128}$/, 'Must be 1-128 letters, digits, - or _.'),
        value: z.string().max(262_144).optional(),
      }),
    )
    .optional(),
});

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const LabelsBody = z.looseObject({
  labelFingerprint: z.string().optional(),
  labels: z
    .record(
      z.string().regex(LABEL_KEY, 'Label keys must start with a lowercase letter (max 63 characters).'),
      z.string().regex(LABEL_VALUE, 'Label values must be lowercase letters, digits, _ or - (max 63).'),
    )
    .refine((l) => Object.keys(l).length <= 64, 'At most 64 labels.')
    .optional(),
});

/** disks.addResourcePolicies / removeResourcePolicies (and the regional ones): `{resourcePolicies: [url]}`. */
const ResourcePoliciesBody = z.looseObject({
  resourcePolicies: z.array(z.string()).min(1, 'At least one resource policy must be specified.'),
});

function notFound(what: string): TwinHttpError {
  return new TwinHttpError(404, `The resource '${what}' was not found`, { reason: 'notFound' });
}

function conditionNotMet(message: string): TwinHttpError {
  return new TwinHttpError(412, message, { reason: 'conditionNotMet' });
}

export function computeInstanceApi(inv: Inventory, operationPolls: number): ApiSurface {
  const operations = computeOperations(inv, operationPolls);
  let seq = 0;

  /** A new opaque 8-byte fingerprint, as compute returns them (base64). Every accepted change gets one. */
  const nextFingerprint = (salt: string): string => {
    seq += 1;
    return createHash('sha256').update(`${salt}/${seq}`).digest().subarray(0, 8).toString('base64');
  };

  const assetOf = (name: string, type: string, what: string): Asset => {
    const a = inv.get(name);
    if (!a || a.assetType !== type) throw notFound(what);
    return a;
  };
  const instance = (p: string, z: string, i: string) =>
    assetOf(instanceAssetName(p, z, i), INSTANCE_TYPE, `projects/${p}/zones/${z}/instances/${i}`);
  const disk = (p: string, z: string, d: string) =>
    assetOf(diskAssetName(p, z, d), DISK_TYPE, `projects/${p}/zones/${z}/disks/${d}`);
  const project = (p: string) => assetOf(computeProjectAssetName(p), COMPUTE_PROJECT_TYPE, `projects/${p}`);
  const regionDisk = (p: string, r: string, d: string) =>
    assetOf(regionDiskAssetName(p, r, d), DISK_TYPE, `projects/${p}/regions/${r}/disks/${d}`);
  const resourcePolicy = (p: string, r: string, n: string) =>
    assetOf(
      resourcePolicyAssetName(p, r, n),
      RESOURCE_POLICY_TYPE,
      `projects/${p}/regions/${r}/resourcePolicies/${n}`,
    );

  const render = (kind: string, a: Asset): JsonObject => ({
    kind,
    ...(structuredClone(a.resource?.data ?? {}) as JsonObject),
  });

  /** Starts an operation (in the twin's one compute operation store) whose change lands when it is DONE. */
  const startOperation = async (
    req: RouteRequest,
    scope: OperationScope,
    projectId: string,
    operationType: string,
    target: Asset,
    targetLink: string,
    complete: () => Promise<void>,
  ): Promise<RouteResponse> => ({
    status: 200,
    body: await operations.start({
      project: projectId,
      scope,
      operationType,
      targetLink,
      targetId: String(target.resource?.data['id'] ?? ''),
      fail: req.failOperation,
      complete,
    }),
  });

  /** Replaces a metadata object's items if `fingerprint` is its current one (412 otherwise). */
  const checkFingerprint = (current: unknown, sent: string | undefined, what: string): void => {
    if (sent === undefined || sent !== current) {
      throw conditionNotMet(
        sent === undefined
          ? `Required field 'fingerprint' not specified: the ${what} fingerprint must be supplied.`
          : `Supplied fingerprint does not match current ${what} fingerprint.`,
      );
    }
  };

  const metadataOf = (data: JsonObject, field: string): JsonObject =>
    (data[field] && typeof data[field] === 'object' ? data[field] : {}) as JsonObject;

  /** A metadata write: the whole item list replaced, a new fingerprint. */
  const newMetadata = (items: unknown[] | undefined, salt: string): JsonObject => {
    const m: JsonObject = { fingerprint: nextFingerprint(salt) };
    if (items && items.length > 0) m['items'] = structuredClone(items) as JsonObject[];
    return m;
  };

  /** Any change to an instance also changes its own fingerprint (the one instances.update checks). */
  const touchInstance = (data: JsonObject, salt: string): void => {
    if (data['fingerprint'] !== undefined) data['fingerprint'] = nextFingerprint(`${salt}/instance`);
  };

  // A concurrent change must move the same fingerprints a real edit would, so that actions see it as one.
  const addMetadataItemBySomeoneElse = (data: JsonObject, field: string, salt: string, n: number): void => {
    const items = (metadataOf(data, field)['items'] as unknown[] | undefined) ?? [];
    data[field] = newMetadata(
      [...items, { key: 'changed-by-someone-else', value: String(n) }],
      `${salt}/metadata`,
    );
  };
  const addLabelBySomeoneElse = (data: JsonObject, salt: string, n: number): void => {
    data['labels'] = { ...((data['labels'] as JsonObject | undefined) ?? {}), 'changed-by': `someone-${n}` };
    data['labelFingerprint'] = nextFingerprint(`${salt}/labels`);
  };

  const changeData = (name: string, mutate: (data: JsonObject) => void): Promise<Asset> =>
    inv.change(name, ['RESOURCE'], (a) => {
      const data = structuredClone(a.resource?.data ?? {}) as JsonObject;
      mutate(data);
      a.resource = { ...(a.resource ?? {}), data };
    });

  const setLabelsRoute = (kind: 'instance' | 'disk', pattern: RegExp): ApiSurface['routes'][number] => ({
    method: 'POST',
    pattern,
    async handle(req) {
      const [p, z, r] = req.params as [string, string, string];
      const target = kind === 'instance' ? instance(p, z, r) : disk(p, z, r);
      const body = parseBody(LabelsBody, req.body, kind === 'instance' ? 'resource' : 'resource');
      const data = target.resource?.data ?? {};
      if (body.labelFingerprint === undefined || body.labelFingerprint !== data['labelFingerprint']) {
        throw conditionNotMet('Labels fingerprint either invalid or resource labels have changed');
      }
      const labels = structuredClone(body.labels ?? {});
      const plural = kind === 'instance' ? 'instances' : 'disks';
      return startOperation(
        req,
        { kind: 'zone', zone: z },
        p,
        'setLabels',
        target,
        `${API_BASE}/projects/${p}/zones/${z}/${plural}/${r}`,
        async () => {
          await changeData(target.name, (d) => {
            d['labels'] = labels;
            d['labelFingerprint'] = nextFingerprint(`${target.name}/labels`);
            if (kind === 'instance') touchInstance(d, target.name);
          });
        },
      );
    },
  });

  /** A zone's region: a compute zone is its region's name plus "-" and a letter (us-central1-a). */
  const regionOfZone = (zone: string): string => zone.replace(/-[a-z]$/, '');
  const policyKey = (ref: string): string | undefined => {
    const m = RESOURCE_POLICY_REF.exec(ref);
    return m ? `${m[1]}/${m[2]}/${m[3]}` : undefined;
  };
  const attachedPolicies = (data: JsonObject): string[] =>
    Array.isArray(data['resourcePolicies']) ? (data['resourcePolicies'] as unknown[]).map(String) : [];
  /** Whether an attached policy is a snapshot schedule (known to the inventory with a snapshotSchedulePolicy). */
  const isSnapshotSchedule = (ref: string): boolean => {
    const m = RESOURCE_POLICY_REF.exec(ref);
    if (!m) return false;
    const a = inv.get(resourcePolicyAssetName(m[1] as string, m[2] as string, m[3] as string));
    return a?.assetType === RESOURCE_POLICY_TYPE && a.resource?.data['snapshotSchedulePolicy'] !== undefined;
  };

  /**
   * disks.addResourcePolicies / removeResourcePolicies, zonal or regional. Compute checks the references when
   * the call is made: an unknown policy is a 404 (as for any referenced resource), one in another region or
   * one that is (add) / is not (remove) attached is a 400, and a disk takes at most one snapshot schedule.
   */
  const resourcePoliciesRoute = (scope: 'zone' | 'region', verb: 'add' | 'remove'): Route => ({
    method: 'POST',
    pattern:
      scope === 'zone'
        ? DISK_METHOD(`${verb}ResourcePolicies`)
        : REGION_DISK_METHOD(`${verb}ResourcePolicies`),
    async handle(req) {
      const [p, loc, d] = req.params as [string, string, string];
      const target = scope === 'zone' ? disk(p, loc, d) : regionDisk(p, loc, d);
      const region = scope === 'zone' ? regionOfZone(loc) : loc;
      const diskPath = `projects/${p}/${scope === 'zone' ? 'zones' : 'regions'}/${loc}/disks/${d}`;
      const body = parseBody(ResourcePoliciesBody, req.body);
      const attached = attachedPolicies(target.resource?.data ?? {});
      const urls: string[] = [];
      body.resourcePolicies.forEach((ref, i) => {
        const m = RESOURCE_POLICY_REF.exec(ref);
        if (!m) {
          throw new TwinHttpError(
            400,
            `Invalid value for field 'resource.resourcePolicies[${i}]': '${ref}'. The URL is malformed.`,
            { reason: 'invalid' },
          );
        }
        const [, pp, rr, nn] = m as unknown as [string, string, string, string];
        const key = `${pp}/${rr}/${nn}`;
        const isAttached = attached.some((a) => policyKey(a) === key);
        if (verb === 'add') {
          resourcePolicy(pp, rr, nn); // 404 for an unknown policy
          if (rr !== region) {
            throw new TwinHttpError(
              400,
              `Invalid value for field 'resource.resourcePolicies[${i}]': '${ref}'. Resource policy must be in the same region as the disk (${region}).`,
              { reason: 'invalid' },
            );
          }
          if (isAttached) {
            throw new TwinHttpError(
              400,
              `Resource policy '${ref}' is already attached to disk '${diskPath}'.`,
              { reason: 'invalid' },
            );
          }
          if (isSnapshotSchedule(ref) && attached.some(isSnapshotSchedule)) {
            throw new TwinHttpError(
              400,
              `Disk '${diskPath}' already has a snapshot schedule attached: a disk can have at most one snapshot schedule attached at a time.`,
              { reason: 'invalid' },
            );
          }
        } else if (!isAttached) {
          throw new TwinHttpError(400, `Resource policy '${ref}' is not attached to disk '${diskPath}'.`, {
            reason: 'invalid',
          });
        }
        urls.push(`${API_BASE}/projects/${pp}/regions/${rr}/resourcePolicies/${nn}`);
      });
      return startOperation(
        req,
        scope === 'zone' ? { kind: 'zone', zone: loc } : { kind: 'region', region: loc },
        p,
        `${verb}ResourcePolicies`,
        target,
        `${API_BASE}/${diskPath}`,
        async () => {
          await changeData(target.name, (data) => {
            const current = attachedPolicies(data);
            const keys = new Set(urls.map(policyKey));
            const next =
              verb === 'add'
                ? [...current, ...urls.filter((u) => !current.some((c) => policyKey(c) === policyKey(u)))]
                : current.filter((c) => !keys.has(policyKey(c)));
            // REST (and CAI) omit an empty list.
            if (next.length > 0) data['resourcePolicies'] = next;
            else delete data['resourcePolicies'];
          });
        },
      );
    },
  });

  return {
    routes: [
      {
        method: 'GET',
        pattern: INSTANCE,
        async handle(req) {
          const [p, z, i] = req.params as [string, string, string];
          return { status: 200, body: render('compute#instance', instance(p, z, i)) };
        },
      },
      {
        method: 'POST',
        pattern: INSTANCE_METHOD('setMetadata'),
        async handle(req) {
          const [p, z, i] = req.params as [string, string, string];
          const target = instance(p, z, i);
          const body = parseBody(MetadataBody, req.body);
          const current = metadataOf(target.resource?.data ?? {}, 'metadata');
          checkFingerprint(current['fingerprint'], body.fingerprint, 'metadata');
          const items = body.items ?? [];
          return startOperation(
            req,
            { kind: 'zone', zone: z },
            p,
            'setMetadata',
            target,
            `${API_BASE}/projects/${p}/zones/${z}/instances/${i}`,
            async () => {
              await changeData(target.name, (d) => {
                d['metadata'] = newMetadata(items, `${target.name}/metadata`);
                touchInstance(d, target.name);
              });
            },
          );
        },
      },
      setLabelsRoute('instance', INSTANCE_METHOD('setLabels')),
      {
        method: 'POST',
        pattern: INSTANCE_METHOD('setDeletionProtection'),
        async handle(req) {
          const [p, z, i] = req.params as [string, string, string];
          const target = instance(p, z, i);
          const raw = req.query.get('deletionProtection');
          if (raw !== null && raw !== 'true' && raw !== 'false') {
            throw new TwinHttpError(400, `Invalid value for parameter 'deletionProtection': '${raw}'`, {
              reason: 'invalidParameter',
            });
          }
          const value = raw !== 'false'; // the API's default is true
          return startOperation(
            req,
            { kind: 'zone', zone: z },
            p,
            'setDeletionProtection',
            target,
            `${API_BASE}/projects/${p}/zones/${z}/instances/${i}`,
            async () => {
              await changeData(target.name, (d) => {
                if (d['deletionProtection'] === value) return;
                d['deletionProtection'] = value;
                touchInstance(d, target.name);
              });
            },
          );
        },
      },
      {
        method: 'GET',
        pattern: DISK,
        async handle(req) {
          const [p, z, d] = req.params as [string, string, string];
          return { status: 200, body: render('compute#disk', disk(p, z, d)) };
        },
      },
      setLabelsRoute('disk', DISK_SET_LABELS),
      resourcePoliciesRoute('zone', 'add'),
      resourcePoliciesRoute('zone', 'remove'),
      {
        method: 'GET',
        pattern: REGION_DISK,
        async handle(req) {
          const [p, r, d] = req.params as [string, string, string];
          return { status: 200, body: render('compute#disk', regionDisk(p, r, d)) };
        },
      },
      resourcePoliciesRoute('region', 'add'),
      resourcePoliciesRoute('region', 'remove'),
      {
        method: 'GET',
        pattern: RESOURCE_POLICY,
        async handle(req) {
          const [p, r, n] = req.params as [string, string, string];
          return { status: 200, body: render('compute#resourcePolicy', resourcePolicy(p, r, n)) };
        },
      },
      {
        method: 'GET',
        pattern: PROJECT,
        async handle(req) {
          return { status: 200, body: render('compute#project', project(req.params[0] as string)) };
        },
      },
      {
        method: 'POST',
        pattern: PROJECT_SET_METADATA,
        async handle(req) {
          const p = req.params[0] as string;
          const target = project(p);
          const body = parseBody(MetadataBody, req.body);
          const current = metadataOf(target.resource?.data ?? {}, 'commonInstanceMetadata');
          checkFingerprint(current['fingerprint'], body.fingerprint, 'common instance metadata');
          const items = body.items ?? [];
          return startOperation(
            req,
            { kind: 'global' },
            p,
            'compute.projects.setCommonInstanceMetadata',
            target,
            `${API_BASE}/projects/${p}`,
            async () => {
              await changeData(target.name, (d) => {
                d['commonInstanceMetadata'] = newMetadata(items, `${target.name}/metadata`);
              });
            },
          );
        },
      },
      ...operations.routes('zone'),
    ],
    concurrentChanges: [
      {
        // Someone else edits the VM: a metadata item and a label added, so both fingerprints move.
        pattern: INSTANCE_ANY,
        async apply(params) {
          const target = instance(params[0] as string, params[1] as string, params[2] as string);
          seq += 1;
          const n = seq;
          await changeData(target.name, (d) => {
            addMetadataItemBySomeoneElse(d, 'metadata', target.name, n);
            addLabelBySomeoneElse(d, target.name, n);
            touchInstance(d, target.name);
          });
        },
      },
      {
        pattern: DISK_ANY,
        async apply(params) {
          const target = disk(params[0] as string, params[1] as string, params[2] as string);
          seq += 1;
          const n = seq;
          await changeData(target.name, (d) => addLabelBySomeoneElse(d, target.name, n));
        },
      },
      {
        pattern: REGION_DISK_ANY,
        async apply(params) {
          const target = regionDisk(params[0] as string, params[1] as string, params[2] as string);
          seq += 1;
          const n = seq;
          await changeData(target.name, (d) => addLabelBySomeoneElse(d, target.name, n));
        },
      },
      {
        pattern: PROJECT_ANY,
        async apply(params) {
          const target = project(params[0] as string);
          seq += 1;
          const n = seq;
          await changeData(target.name, (d) =>
            addMetadataItemBySomeoneElse(d, 'commonInstanceMetadata', target.name, n),
          );
        },
      },
    ],
  };
}
