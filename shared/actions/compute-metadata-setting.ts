import { z } from 'zod';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import type { Risk } from '../model/policy.js';
import { metadataTrue } from '../policy/cel-environment.js';
import {
  computeProjectOf,
  COMPUTE_PROJECT_TYPE,
  getComputeProject,
  getInstance,
  gkeConflict,
  gkeManagedInstance,
  globalOperationWaitUrl,
  guardedCall,
  instanceOf,
  instanceUrl,
  INSTANCE_TYPE,
  liveAsset,
  metadataItems,
  metadataItemValue,
  parseState,
  projectUrl,
  zoneOperationWaitUrl,
  type Json,
  type MetadataItem,
} from './compute-resource.js';
import { startedOperation } from './compute-fingerprint-patch.js';
import { waitForGlobalOperation, waitForZoneOperation } from './compute-operation.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';

/**
 * One metadata key set on a VM (instances.setMetadata) or on the compute project's common instance
 * metadata (projects.setCommonInstanceMetadata). Both calls replace the whole item list and must carry the
 * current fingerprint (catalog F10): the live list is read, the one key set, every other item kept, and the
 * write is sent with the fingerprint read — compute answers 412 conditionNotMet if anything changed since,
 * so nobody's concurrent edit (an ssh key, a startup script) is ever overwritten.
 */
export interface MetadataSettingSpec {
  id: string;
  title: string;
  risk: Risk;
  scope: 'instance' | 'project';
  key: string;
  /** The value written: compute's own spelling, TRUE/FALSE. */
  value: 'TRUE' | 'FALSE';
  /** Whether the live value (null: the key is absent) already has the fix's effect; then nothing is sent. */
  isFixed(value: string | null): boolean;
  why: string;
}

const ItemSchema = z.object({ key: z.string(), value: z.string().optional() });
const Target = z.discriminatedUnion('scope', [
  z.object({ scope: z.literal('instance'), project: z.string(), zone: z.string(), instance: z.string() }),
  z.object({ scope: z.literal('project'), project: z.string() }),
]);
const MetadataStateSchema = z.object({
  target: Target,
  fingerprint: z.string(),
  items: z.array(ItemSchema),
});
export type MetadataState = z.infer<typeof MetadataStateSchema>;
type TargetRef = z.infer<typeof Target>;

function targetOf(asset: Asset, scope: 'instance' | 'project'): TargetRef {
  if (scope === 'project') return { scope, project: computeProjectOf(asset) };
  const r = instanceOf(asset);
  return { scope, project: r.project, zone: r.zone, instance: r.name };
}

function describeTarget(t: TargetRef): string {
  return t.scope === 'project'
    ? `the common instance metadata of project ${t.project}`
    : `the metadata of VM ${t.instance} (project ${t.project}, zone ${t.zone})`;
}

function metadataField(t: TargetRef): 'commonInstanceMetadata' | 'metadata' {
  return t.scope === 'project' ? 'commonInstanceMetadata' : 'metadata';
}

/** The item list with `key` set to `value`, every other item kept in place. */
export function withItem(items: readonly MetadataItem[], key: string, value: string): MetadataItem[] {
  const found = items.some((i) => i.key === key);
  const next = items.map((i) => (i.key === key ? { key, value } : { ...i }));
  return found ? next : [...next, { key, value }];
}

async function readTarget(ctx: ActionContext, t: TargetRef): Promise<Json | null> {
  return t.scope === 'project'
    ? getComputeProject(ctx, t.project)
    : getInstance(ctx, { project: t.project, zone: t.zone, name: t.instance });
}

function stateOf(t: TargetRef, data: Json): MetadataState {
  const metadata = data[metadataField(t)] as Json | undefined;
  return {
    target: t,
    fingerprint: String(metadata?.['fingerprint'] ?? ''),
    items: metadataItems(metadata),
  };
}

/** The fingerprinted write, then the operation wait (zonal for a VM, global for the project). */
async function writeMetadata(
  ctx: ActionContext,
  t: TargetRef,
  fingerprint: string,
  items: MetadataItem[],
): Promise<'ok' | 'precondition_failed' | 'gone'> {
  const metadataResource = { fingerprint, items };
  if (t.scope === 'project') {
    const projects = await ctx.cloud.compute('ProjectsClient');
    const r = await guardedCall(`setting the common instance metadata of ${t.project}`, async () => {
      const [lro] = await projects.setCommonInstanceMetadata({ project: t.project, metadataResource });
      return startedOperation(lro);
    });
    if (!r.ok) return r.why;
    await waitForGlobalOperation(ctx, t.project, r.value);
    return 'ok';
  }
  const instances = await ctx.cloud.compute('InstancesClient');
  const r = await guardedCall(`setting the metadata of ${t.project}/${t.zone}/${t.instance}`, async () => {
    const [lro] = await instances.setMetadata({
      project: t.project,
      zone: t.zone,
      instance: t.instance,
      metadataResource,
    });
    return startedOperation(lro);
  });
  if (!r.ok) return r.why;
  await waitForZoneOperation(ctx, t.project, t.zone, r.value);
  return 'ok';
}

export function metadataSettingAction(spec: MetadataSettingSpec): RemediationAction<MetadataState> {
  const gkeCheck = (t: TargetRef, data: Json): { status: 'conflict'; reason: string } | undefined => {
    if (t.scope !== 'instance') return undefined;
    const why = gkeManagedInstance(data);
    return why ? gkeConflict(`VM ${t.project}/${t.zone}/${t.instance}`, why) : undefined;
  };
  return {
    id: spec.id,
    title: spec.title,
    risk: spec.risk,
    reversible: true,
    assetTypes: [spec.scope === 'project' ? COMPUTE_PROJECT_TYPE : INSTANCE_TYPE],

    plan(asset: Asset, _settings: ActionSettings): Plan {
      const t = targetOf(asset, spec.scope);
      const known = stateOf(t, asset.resource?.data ?? {});
      const body = {
        fingerprint: known.fingerprint,
        items: withItem(known.items, spec.key, spec.value),
      };
      const getUrl =
        t.scope === 'project'
          ? projectUrl(t.project)
          : instanceUrl({ project: t.project, zone: t.zone, name: t.instance });
      const setUrl = t.scope === 'project' ? `${getUrl}/setCommonInstanceMetadata` : `${getUrl}/setMetadata`;
      const waitUrl =
        t.scope === 'project'
          ? globalOperationWaitUrl(t.project)
          : zoneOperationWaitUrl({ project: t.project, zone: t.zone, name: t.instance });
      return {
        description:
          `Set ${spec.key}=${spec.value} in ${describeTarget(t)} (${spec.why}), keeping every other item. ` +
          'The item list and fingerprint are re-read right before the write and the write carries that ' +
          'fingerprint, so a concurrent change makes compute refuse it (412) instead of being overwritten; ' +
          'then wait for the operation. Reversible: undo restores the previous items if the metadata is ' +
          'still as the fix left it.' +
          (t.scope === 'instance' ? ' GKE-managed VMs are refused.' : ''),
        requests: [
          { method: 'GET', url: getUrl },
          { method: 'POST', url: setUrl, body },
          { method: 'POST', url: waitUrl },
        ],
      };
    },

    async captureBefore(asset, ctx) {
      const t = targetOf(asset, spec.scope);
      const data = await readTarget(ctx, t);
      return data ? stateOf(t, data) : null;
    },

    async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
      const before = parseState(MetadataStateSchema, rawBefore, 'before-state');
      const t = before.target;
      const data = await readTarget(ctx, t);
      if (!data) return { status: 'gone' };
      const gke = gkeCheck(t, data);
      if (gke) return gke;
      const live = stateOf(t, data);
      if (spec.isFixed(metadataItemValue(live.items, spec.key)))
        return { status: 'already_applied', after: live };
      if (live.fingerprint !== before.fingerprint) {
        return {
          status: 'conflict',
          reason: `${describeTarget(t)} changed since it was captured (fingerprint ${before.fingerprint} → ${live.fingerprint})`,
          stale: true,
        };
      }
      const next = withItem(live.items, spec.key, spec.value);
      const r = await writeMetadata(ctx, t, live.fingerprint, next);
      if (r === 'gone') return { status: 'gone' };
      if (r === 'precondition_failed') {
        return {
          status: 'conflict',
          reason: `${describeTarget(t)} changed while the fix was being sent (412 conditionNotMet on fingerprint ${live.fingerprint})`,
          stale: true,
        };
      }
      const afterData = await readTarget(ctx, t);
      if (!afterData) return { status: 'gone' };
      const after = stateOf(t, afterData);
      ctx.logger.info('compute metadata set', { action: spec.id, key: spec.key, value: spec.value, ...t });
      return { status: 'applied', after };
    },

    async readLive(asset, ctx) {
      const t = targetOf(asset, spec.scope);
      const data = await readTarget(ctx, t);
      return data ? liveAsset(asset, data) : null;
    },

    async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
      const before = parseState(MetadataStateSchema, rawBefore, 'before-state');
      const after = parseState(MetadataStateSchema, rawAfter, 'after-state');
      const t = before.target;
      const data = await readTarget(ctx, t);
      if (!data) return { status: 'gone' };
      const live = stateOf(t, data);
      if (live.fingerprint !== after.fingerprint) {
        return {
          status: 'refused',
          reason: `${describeTarget(t)} changed after the fix (fingerprint ${after.fingerprint} → ${live.fingerprint}); restoring would overwrite that change`,
        };
      }
      if (JSON.stringify(live.items) === JSON.stringify(before.items)) return { status: 'restored' };
      const r = await writeMetadata(ctx, t, after.fingerprint, before.items);
      if (r === 'gone') return { status: 'gone' };
      if (r === 'precondition_failed') {
        return {
          status: 'refused',
          reason: `${describeTarget(t)} changed while the undo was being sent (412)`,
        };
      }
      ctx.logger.info('compute metadata restored', { action: spec.id, key: spec.key, ...t });
      return { status: 'restored' };
    },
  };
}

/** A metadata value with the effect of "on" (TRUE, true, 1, y, …: compute compares case-insensitively). */
export const isOn = (v: string | null): boolean => metadataTrue(v);
