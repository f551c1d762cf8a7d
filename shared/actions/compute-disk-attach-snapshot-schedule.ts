import { z } from 'zod';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import {
  COMPUTE_API,
  DISK_TYPE,
  gkeConflict,
  gkeManagedDisk,
  guardedCall,
  liveAsset,
  parseState,
  readOrNull,
  type Json,
} from './compute-resource.js';
import { startedOperation } from './compute-fingerprint-patch.js';
import { waitForRegionOperation, waitForZoneOperation } from './compute-operation.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { rereadBeforeUndo } from './guarded-write.js';

/**
 * Attaches the organization's snapshot schedule for the disk's region to an attached persistent disk that has
 * none (disk-no-snapshot-schedule): disks.addResourcePolicies (regionDisks.addResourcePolicies for a regional
 * disk), then waits for the operation. The schedule is a snapshot-schedule resource policy the platform team
 * created in each region; Warden never creates one (retention and timing are the organization's choice).
 *
 * Which schedule: `settings.snapshotSchedules[region]` (snapshot_schedules in policies/params.yaml: a resource
 * policy URL or `projects/P/regions/R/resourcePolicies/N`); with no schedule for the disk's region the action
 * answers `conflict` and sends nothing.
 *
 * addResourcePolicies takes no fingerprint, so the write is a guarded one: the disk is re-read right before it
 * and compared with the captured disk (ignoring attach/detach timestamps and status); a window of one round
 * trip remains, the most the API allows. Undo is removeResourcePolicies with the same URL, after the same check
 * against what the fix left.
 */
const TargetSchema = z.object({
  project: z.string(),
  scope: z.enum(['zone', 'region']),
  /** The zone of a zonal disk, the region of a regional one. */
  location: z.string(),
  name: z.string(),
});
type Target = z.infer<typeof TargetSchema>;

const StateSchema = z.object({
  target: TargetSchema,
  /** The schedule this fix attaches (before) or attached (after): a full resource policy URL; null = none. */
  schedule: z.string().nullable(),
  /** The disk as disks.get returned it (REST JSON). */
  data: z.record(z.string(), z.unknown()),
});
export type SnapshotScheduleState = z.infer<typeof StateSchema>;

/** The resource policy URL form compute itself uses in a disk's resourcePolicies[] and in selfLinks. */
const SELF_LINK_BASE = 'https://www.googleapis.com/compute/v1';
const POLICY_REF =
  /^(?:https:\/\/(?:www|compute)\.googleapis\.com\/compute\/(?:v1|beta)\/)?projects\/([^/]+)\/regions\/([^/]+)\/resourcePolicies\/([^/]+)$/;

interface PolicyRef {
  project: string;
  region: string;
  name: string;
}

function policyRefOf(url: string): PolicyRef | undefined {
  const m = POLICY_REF.exec(url.trim());
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { project: m[1], region: m[2], name: m[3] };
}

function policyUrl(r: PolicyRef): string {
  return `${SELF_LINK_BASE}/projects/${r.project}/regions/${r.region}/resourcePolicies/${r.name}`;
}

function sameRef(a: string, b: string): boolean {
  const x = policyRefOf(a);
  const y = policyRefOf(b);
  return !!x && !!y && x.project === y.project && x.region === y.region && x.name === y.name;
}

function targetOf(asset: Asset): Target {
  const m =
    /^\/\/compute\.googleapis\.com\/projects\/([^/]+)\/(zones|regions)\/([^/]+)\/disks\/([^/]+)$/.exec(
      asset.name,
    );
  if (!m?.[1] || !m[2] || !m[3] || !m[4]) {
    throw new WardenError(`${asset.name} is not a persistent disk`, {
      retryable: false,
      code: 'not_applicable',
    });
  }
  return { project: m[1], scope: m[2] === 'zones' ? 'zone' : 'region', location: m[3], name: m[4] };
}

/** A zone's region: a compute zone is its region's name plus "-" and a letter (us-central1-a). */
function regionOf(t: Target): string {
  return t.scope === 'zone' ? t.location.replace(/-[a-z]$/, '') : t.location;
}

const enc = encodeURIComponent;
function diskUrl(t: Target): string {
  const where = t.scope === 'zone' ? 'zones' : 'regions';
  return `${COMPUTE_API}/projects/${enc(t.project)}/${where}/${enc(t.location)}/disks/${enc(t.name)}`;
}
function operationWaitUrl(t: Target): string {
  const where = t.scope === 'zone' ? 'zones' : 'regions';
  return `${COMPUTE_API}/projects/${enc(t.project)}/${where}/${enc(t.location)}/operations/{operation}/wait`;
}
function resourcePolicyApiUrl(r: PolicyRef): string {
  return `${COMPUTE_API}/projects/${enc(r.project)}/regions/${enc(r.region)}/resourcePolicies/${enc(r.name)}`;
}

function describe(t: Target): string {
  return `disk ${t.name} (project ${t.project}, ${t.scope} ${t.location})`;
}

/** The schedule configured for the disk's region, as a full URL; undefined when none (or not a policy URL). */
function scheduleFor(settings: ActionSettings, t: Target): { url?: string; why?: string } {
  const region = regionOf(t);
  const configured = settings.snapshotSchedules[region];
  if (!configured) {
    return {
      why: `no snapshot schedule is configured for region ${region} (settings.snapshotSchedules["${region}"]): Warden does not choose a backup schedule itself`,
    };
  }
  const ref = policyRefOf(configured);
  if (!ref)
    return {
      why: `the snapshot schedule configured for region ${region} is not a resource policy URL: ${configured}`,
    };
  if (ref.region !== region) {
    return {
      why: `the snapshot schedule configured for region ${region} (${configured}) is in region ${ref.region}: compute attaches only a schedule of the disk's own region`,
    };
  }
  return { url: policyUrl(ref) };
}

function attachedPolicies(data: Json): string[] {
  const rp = data['resourcePolicies'];
  return Array.isArray(rp) ? rp.map(String) : [];
}

/** Fields the disk's own life changes (attach, detach, status): not somebody's configuration change. */
const RUNTIME_FIELDS = ['status', 'lastAttachTimestamp', 'lastDetachTimestamp'];

function configView(data: Json): string {
  const copy: Json = { ...data };
  for (const f of RUNTIME_FIELDS) delete copy[f];
  return canonicalJson(copy);
}

/** Why a disk is managed by GKE, or undefined: the policy skips them, and so does the action. */
function gkeReason(data: Json): string | undefined {
  const why = gkeManagedDisk(data);
  if (why) return why;
  if (String(data['description'] ?? '').includes('kubernetes.io/created-for'))
    return 'its description says Kubernetes created it for a PersistentVolumeClaim';
  const users = Array.isArray(data['users']) ? data['users'].map(String) : [];
  if (users.some((u) => u.includes('/instances/gke-'))) return 'it is attached to a GKE node';
  return undefined;
}

async function getDiskOf(ctx: ActionContext, t: Target): Promise<Json | null> {
  const doing = `reading ${describe(t)}`;
  if (t.scope === 'zone') {
    const disks = await ctx.cloud.compute('DisksClient');
    return readOrNull(doing, async () => {
      const [data] = await disks.get({ project: t.project, zone: t.location, disk: t.name });
      return data;
    });
  }
  const regionDisks = await ctx.cloud.compute('RegionDisksClient');
  return readOrNull(doing, async () => {
    const [data] = await regionDisks.get({ project: t.project, region: t.location, disk: t.name });
    return data;
  });
}

async function getResourcePolicy(ctx: ActionContext, ref: PolicyRef): Promise<Json | null> {
  const policies = await ctx.cloud.compute('ResourcePoliciesClient');
  return readOrNull(`reading resource policy ${ref.name} (region ${ref.region})`, async () => {
    const [data] = await policies.get({
      project: ref.project,
      region: ref.region,
      resourcePolicy: ref.name,
    });
    return data;
  });
}

/** Why the configured schedule cannot be attached (it does not exist, is no snapshot schedule, is not ready). */
async function scheduleProblem(ctx: ActionContext, url: string): Promise<string | undefined> {
  const ref = policyRefOf(url) as PolicyRef;
  const policy = await getResourcePolicy(ctx, ref);
  if (!policy) return `the configured snapshot schedule ${url} does not exist`;
  if (policy['snapshotSchedulePolicy'] === undefined)
    return `the configured resource policy ${url} is not a snapshot schedule`;
  const status = policy['status'];
  if (typeof status === 'string' && status !== 'READY')
    return `the configured snapshot schedule ${url} is ${status}, not READY`;
  return undefined;
}

/** add- or removeResourcePolicies with one URL, then the zone or region operation. */
async function changeResourcePolicies(
  ctx: ActionContext,
  t: Target,
  verb: 'add' | 'remove',
  url: string,
): Promise<'ok' | 'gone'> {
  const doing = `${verb === 'add' ? 'attaching' : 'detaching'} ${url} ${verb === 'add' ? 'to' : 'from'} ${describe(t)}`;
  const body = { resourcePolicies: [url] };
  const r =
    t.scope === 'zone'
      ? await guardedCall(doing, async () => {
          const disks = await ctx.cloud.compute('DisksClient');
          const [lro] =
            verb === 'add'
              ? await disks.addResourcePolicies({
                  project: t.project,
                  zone: t.location,
                  disk: t.name,
                  disksAddResourcePoliciesRequestResource: body,
                })
              : await disks.removeResourcePolicies({
                  project: t.project,
                  zone: t.location,
                  disk: t.name,
                  disksRemoveResourcePoliciesRequestResource: body,
                });
          return startedOperation(lro);
        })
      : await guardedCall(doing, async () => {
          const regionDisks = await ctx.cloud.compute('RegionDisksClient');
          const [lro] =
            verb === 'add'
              ? await regionDisks.addResourcePolicies({
                  project: t.project,
                  region: t.location,
                  disk: t.name,
                  regionDisksAddResourcePoliciesRequestResource: body,
                })
              : await regionDisks.removeResourcePolicies({
                  project: t.project,
                  region: t.location,
                  disk: t.name,
                  regionDisksRemoveResourcePoliciesRequestResource: body,
                });
          return startedOperation(lro);
        });
  if (!r.ok) {
    if (r.why === 'precondition_failed') {
      // add/removeResourcePolicies take no precondition: a 412 is not expected, and not retried blindly.
      throw new WardenError(`unexpected 412 ${doing}`, { retryable: false, code: 'FAILED_PRECONDITION' });
    }
    // A 404 names the disk or the policy: only a fresh read says which.
    if (!(await getDiskOf(ctx, t))) return 'gone';
    throw new WardenError(`${doing}: compute answered 404 (the resource policy no longer exists)`, {
      retryable: false,
      code: 'NOT_FOUND',
    });
  }
  if (t.scope === 'zone') await waitForZoneOperation(ctx, t.project, t.location, r.value);
  else await waitForRegionOperation(ctx, t.project, t.location, r.value);
  return 'ok';
}

function stateOf(target: Target, schedule: string | null, data: Json): SnapshotScheduleState {
  return { target, schedule, data };
}

export const diskAttachSnapshotSchedule: RemediationAction<SnapshotScheduleState> = {
  id: 'compute.disk.attach-snapshot-schedule',
  title: "Attach the region's snapshot schedule to a persistent disk",
  risk: 'medium',
  reversible: true,
  assetTypes: [DISK_TYPE],

  plan(asset: Asset, settings: ActionSettings): Plan {
    const t = targetOf(asset);
    const url = diskUrl(t);
    const schedule = scheduleFor(settings, t);
    if (!schedule.url) {
      return {
        description:
          `Nothing will be changed on ${describe(t)}: ${schedule.why ?? 'no schedule'}. Configure the ` +
          "region's snapshot schedule, then the fix attaches it with disks.addResourcePolicies.",
        requests: [{ method: 'GET', url }],
      };
    }
    const ref = policyRefOf(schedule.url) as PolicyRef;
    return {
      description:
        `Attach the snapshot schedule ${schedule.url} to ${describe(t)}, after re-reading the disk and checking ` +
        'nobody changed it (addResourcePolicies takes no fingerprint) and that the schedule exists and is READY; ' +
        `then wait for the ${t.scope} operation. Snapshots are then taken on the schedule's timing and kept for ` +
        'its retention, and are billed as snapshot storage. Reversible: undo detaches the schedule ' +
        '(removeResourcePolicies) if the disk is still as the fix left it; snapshots already taken are kept.',
      requests: [
        { method: 'GET', url },
        { method: 'GET', url: resourcePolicyApiUrl(ref) },
        { method: 'POST', url: `${url}/addResourcePolicies`, body: { resourcePolicies: [schedule.url] } },
        { method: 'POST', url: operationWaitUrl(t) },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const t = targetOf(asset);
    const data = await getDiskOf(ctx, t);
    return data ? stateOf(t, scheduleFor(ctx.settings, t).url ?? null, data) : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseState(StateSchema, rawBefore, 'before-state');
    const t = before.target;
    const live = await getDiskOf(ctx, t);
    if (!live) return { status: 'gone' };
    const gke = gkeReason(live);
    if (gke) return gkeConflict(describe(t), gke);
    // Any attached resource policy passes disk-no-snapshot-schedule, and a disk takes at most one snapshot
    // schedule: a disk with a policy is left as it is.
    if (attachedPolicies(live).length > 0)
      return { status: 'already_applied', after: stateOf(t, null, live) };
    const schedule = scheduleFor(ctx.settings, t);
    if (!schedule.url)
      return { status: 'conflict', reason: `${describe(t)}: ${schedule.why ?? 'no schedule'}` };
    if (configView(live) !== configView(before.data)) {
      return {
        status: 'conflict',
        reason: `${describe(t)} changed since its state was captured`,
        stale: true,
      };
    }
    const problem = await scheduleProblem(ctx, schedule.url);
    if (problem) return { status: 'conflict', reason: `${describe(t)}: ${problem}` };
    if ((await changeResourcePolicies(ctx, t, 'add', schedule.url)) === 'gone') return { status: 'gone' };
    const data = await getDiskOf(ctx, t);
    if (!data) return { status: 'gone' };
    ctx.logger.info('snapshot schedule attached', { ...t, schedule: schedule.url });
    return { status: 'applied', after: stateOf(t, schedule.url, data) };
  },

  async readLive(asset, ctx) {
    const data = await getDiskOf(ctx, targetOf(asset));
    return data ? liveAsset(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseState(StateSchema, rawBefore, 'before-state');
    const after = parseState(StateSchema, rawAfter, 'after-state');
    const t = before.target;
    const attached = after.schedule;
    const guarded = await rereadBeforeUndo(() => getDiskOf(ctx, t), {
      asFixLeftIt: (live) => configView(live) === configView(after.data),
      what: describe(t),
      // Nothing attached by the fix (it found a policy already there), or already detached.
      restored: (live) => !attached || !attachedPolicies(live).some((p) => sameRef(p, attached)),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if (!attached) return { status: 'restored' }; // as restored() said; narrows `attached` for the call
    if ((await changeResourcePolicies(ctx, t, 'remove', attached)) === 'gone') return { status: 'gone' };
    ctx.logger.info('snapshot schedule detached', { ...t, schedule: attached });
    return { status: 'restored' };
  },
};
