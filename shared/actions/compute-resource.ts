import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { isNotFound, isPreconditionFailed, toWardenError } from '../cloud/errors.js';
import { restJson } from '../cloud/rest-json.js';
import type { ActionContext } from './types.js';
import { parseRecordedState } from './recorded-state.js';
import { withLiveData } from './live-asset.js';

export const COMPUTE_API = 'https://compute.googleapis.com/compute/v1';
export const INSTANCE_TYPE = 'compute.googleapis.com/Instance';
export const DISK_TYPE = 'compute.googleapis.com/Disk';
export const COMPUTE_PROJECT_TYPE = 'compute.googleapis.com/Project';

export type Json = Record<string, unknown>;

export interface ZonalRef {
  project: string;
  zone: string;
  name: string;
}

function notApplicable(asset: Asset, what: string): WardenError {
  return new WardenError(`${asset.name} is not ${what}`, { retryable: false, code: 'not_applicable' });
}

export function instanceOf(asset: Asset): ZonalRef {
  const m = /^\/\/compute\.googleapis\.com\/projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/.exec(
    asset.name,
  );
  if (!m?.[1] || !m[2] || !m[3]) throw notApplicable(asset, 'a Compute Engine VM instance');
  return { project: m[1], zone: m[2], name: m[3] };
}

export function diskOf(asset: Asset): ZonalRef {
  const m = /^\/\/compute\.googleapis\.com\/projects\/([^/]+)\/zones\/([^/]+)\/disks\/([^/]+)$/.exec(
    asset.name,
  );
  if (!m?.[1] || !m[2] || !m[3]) throw notApplicable(asset, 'a zonal persistent disk');
  return { project: m[1], zone: m[2], name: m[3] };
}

/** The compute project asset (//compute.googleapis.com/projects/PROJECT_ID), not the Resource Manager one. */
export function computeProjectOf(asset: Asset): string {
  const m = /^\/\/compute\.googleapis\.com\/projects\/([^/]+)$/.exec(asset.name);
  if (!m?.[1]) throw notApplicable(asset, 'a Compute Engine project');
  return m[1];
}

const enc = encodeURIComponent;
export function instanceUrl(r: ZonalRef): string {
  return `${COMPUTE_API}/projects/${enc(r.project)}/zones/${enc(r.zone)}/instances/${enc(r.name)}`;
}
export function diskUrl(r: ZonalRef): string {
  return `${COMPUTE_API}/projects/${enc(r.project)}/zones/${enc(r.zone)}/disks/${enc(r.name)}`;
}
export function projectUrl(project: string): string {
  return `${COMPUTE_API}/projects/${enc(project)}`;
}
export function zoneOperationWaitUrl(r: ZonalRef): string {
  return `${COMPUTE_API}/projects/${enc(r.project)}/zones/${enc(r.zone)}/operations/{operation}/wait`;
}
export function globalOperationWaitUrl(project: string): string {
  return `${COMPUTE_API}/projects/${enc(project)}/global/operations/{operation}/wait`;
}

/** A compute get as REST JSON, or null when the resource is gone. */
export async function readOrNull(doing: string, get: () => Promise<unknown>): Promise<Json | null> {
  try {
    return restJson(await get());
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, doing);
  }
}

export async function getInstance(ctx: ActionContext, r: ZonalRef): Promise<Json | null> {
  const client = await ctx.cloud.compute('InstancesClient');
  return readOrNull(`reading instance ${r.project}/${r.zone}/${r.name}`, async () => {
    const [data] = await client.get({ project: r.project, zone: r.zone, instance: r.name });
    return data;
  });
}

export async function getDisk(ctx: ActionContext, r: ZonalRef): Promise<Json | null> {
  const client = await ctx.cloud.compute('DisksClient');
  return readOrNull(`reading disk ${r.project}/${r.zone}/${r.name}`, async () => {
    const [data] = await client.get({ project: r.project, zone: r.zone, disk: r.name });
    return data;
  });
}

export async function getComputeProject(ctx: ActionContext, project: string): Promise<Json | null> {
  const client = await ctx.cloud.compute('ProjectsClient');
  return readOrNull(`reading compute project ${project}`, async () => {
    const [data] = await client.get({ project });
    return data;
  });
}

/** How a guarded write ended: sent and DONE, refused by its precondition (412), or the resource is gone. */
export type WriteResult = 'ok' | 'precondition_failed' | 'gone';

/** Starts a write, mapping 412 and 404 to results and every other failure to a WardenError. */
export async function guardedCall<T>(
  doing: string,
  call: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; why: 'precondition_failed' | 'gone' }> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    if (isPreconditionFailed(err)) return { ok: false, why: 'precondition_failed' };
    if (isNotFound(err)) return { ok: false, why: 'gone' };
    throw toWardenError(err, doing);
  }
}

export function labelsIn(data: Json): Record<string, string> {
  const l = data['labels'];
  if (!l || typeof l !== 'object' || Array.isArray(l)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(l as Json)) out[k] = String(v ?? '');
  return out;
}

export interface MetadataItem {
  key: string;
  value?: string;
}

export function metadataItems(metadata: unknown): MetadataItem[] {
  const items = (metadata as Json | undefined)?.['items'];
  if (!Array.isArray(items)) return [];
  return items
    .filter((i): i is Json => !!i && typeof i === 'object' && typeof (i as Json)['key'] === 'string')
    .map((i) =>
      i['value'] === undefined
        ? { key: String(i['key']) }
        : { key: String(i['key']), value: String(i['value']) },
    );
}

export function metadataItemValue(items: readonly MetadataItem[], key: string): string | null {
  const item = items.find((i) => i.key === key);
  return item ? (item.value ?? '') : null;
}

/**
 * Why a VM is managed by GKE, or undefined. GKE nodes are recreated from their node pool's template, so
 * a direct change is lost or fights GKE; they are fixed on the cluster (catalog F17).
 */
export function gkeManagedInstance(data: Json): string | undefined {
  const name = String(data['name'] ?? '');
  const labels = labelsIn(data);
  const items = metadataItems(data['metadata']);
  if (name.startsWith('gke-')) return `its name ${name} is a GKE node's`;
  for (const k of ['goog-gke-node', 'goog-k8s-cluster-name'])
    if (k in labels) return `it carries the GKE label ${k}`;
  if (metadataItemValue(items, 'cluster-name')) return 'its metadata names a GKE cluster (cluster-name)';
  if ((metadataItemValue(items, 'created-by') ?? '').includes('/instanceGroupManagers/gke-'))
    return "it belongs to a GKE node pool's instance group";
  return undefined;
}

/** Why a disk is managed by GKE (a node boot disk or a PersistentVolume), or undefined. */
export function gkeManagedDisk(data: Json): string | undefined {
  const name = String(data['name'] ?? '');
  const labels = labelsIn(data);
  if (name.startsWith('gke-')) return `its name ${name} is a GKE node disk's`;
  if (/^pvc-[0-9a-f-]{36}$/.test(name)) return `its name ${name} is a GKE PersistentVolume's`;
  const gke = Object.keys(labels).find((k) => k.startsWith('goog-gke-') || k === 'goog-k8s-cluster-name');
  if (gke) return `it carries the GKE label ${gke}`;
  return undefined;
}

export function gkeConflict(what: string, why: string): { status: 'conflict'; reason: string } {
  return {
    status: 'conflict',
    reason: `${what} is managed by GKE (${why}): Warden never changes GKE nodes directly; fix it on the cluster or node pool`,
  };
}

export const parseState = parseRecordedState;

/** The live resource as a CAI-shaped asset: the same name, type and ancestors, the resource data re-read. */
export const liveAsset = withLiveData;
