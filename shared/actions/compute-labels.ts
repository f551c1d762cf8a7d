import { z } from 'zod';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import {
  diskOf,
  diskUrl,
  DISK_TYPE,
  getDisk,
  getInstance,
  gkeConflict,
  gkeManagedDisk,
  gkeManagedInstance,
  guardedCall,
  instanceOf,
  instanceUrl,
  INSTANCE_TYPE,
  labelsIn,
  liveAsset,
  parseState,
  zoneOperationWaitUrl,
  type Json,
  type ZonalRef,
} from './compute-resource.js';
import { startedOperation } from './compute-fingerprint-patch.js';
import { waitForZoneOperation } from './compute-operation.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';

/**
 * Adds the required labels a VM or disk lacks (settings.requiredLabels), with their default values. Only
 * missing keys are added; no existing label is ever changed. instances.setLabels / disks.setLabels replace
 * the whole map and must carry the current labelFingerprint (412 otherwise), so the live map is read,
 * merged and sent with the fingerprint read.
 */
type Kind = 'instance' | 'disk';

const LabelStateSchema = z.object({
  target: z.object({
    kind: z.enum(['instance', 'disk']),
    project: z.string(),
    zone: z.string(),
    name: z.string(),
  }),
  labelFingerprint: z.string(),
  labels: z.record(z.string(), z.string()),
});
export type LabelState = z.infer<typeof LabelStateSchema>;
type Target = LabelState['target'];

function targetOf(asset: Asset, kind: Kind): Target {
  const r = kind === 'instance' ? instanceOf(asset) : diskOf(asset);
  return { kind, ...r };
}

function describe(t: Target): string {
  return `${t.kind === 'instance' ? 'VM' : 'disk'} ${t.name} (project ${t.project}, zone ${t.zone})`;
}

function urlOf(t: Target): string {
  const r: ZonalRef = { project: t.project, zone: t.zone, name: t.name };
  return t.kind === 'instance' ? instanceUrl(r) : diskUrl(r);
}

/** The labels to add: each required key the map lacks, with its configured default value. */
export function missingLabels(
  labels: Record<string, string>,
  settings: ActionSettings,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of settings.requiredLabels) {
    if (!(k in labels)) out[k] = settings.labelDefaults[k] ?? settings.labelDefaultValue;
  }
  return out;
}

async function read(ctx: ActionContext, t: Target): Promise<Json | null> {
  const r: ZonalRef = { project: t.project, zone: t.zone, name: t.name };
  return t.kind === 'instance' ? getInstance(ctx, r) : getDisk(ctx, r);
}

function stateOf(t: Target, data: Json): LabelState {
  return { target: t, labelFingerprint: String(data['labelFingerprint'] ?? ''), labels: labelsIn(data) };
}

async function writeLabels(
  ctx: ActionContext,
  t: Target,
  labels: Record<string, string>,
  labelFingerprint: string,
): Promise<'ok' | 'precondition_failed' | 'gone'> {
  const request = { labels, labelFingerprint };
  const doing = `setting the labels of ${describe(t)}`;
  const r =
    t.kind === 'instance'
      ? await guardedCall(doing, async () => {
          const client = await ctx.cloud.compute('InstancesClient');
          const [lro] = await client.setLabels({
            project: t.project,
            zone: t.zone,
            instance: t.name,
            instancesSetLabelsRequestResource: request,
          });
          return startedOperation(lro);
        })
      : await guardedCall(doing, async () => {
          const client = await ctx.cloud.compute('DisksClient');
          const [lro] = await client.setLabels({
            project: t.project,
            zone: t.zone,
            resource: t.name,
            zoneSetLabelsRequestResource: request,
          });
          return startedOperation(lro);
        });
  if (!r.ok) return r.why;
  await waitForZoneOperation(ctx, t.project, t.zone, r.value);
  return 'ok';
}

export function addRequiredLabelsAction(kind: Kind): RemediationAction<LabelState> {
  const gke = (data: Json): string | undefined =>
    kind === 'instance' ? gkeManagedInstance(data) : gkeManagedDisk(data);
  return {
    id: `compute.${kind}.add-required-labels`,
    title: `Add the required labels a ${kind === 'instance' ? 'VM instance' : 'persistent disk'} lacks`,
    risk: 'low',
    reversible: true,
    assetTypes: [kind === 'instance' ? INSTANCE_TYPE : DISK_TYPE],

    plan(asset: Asset, settings: ActionSettings): Plan {
      const t = targetOf(asset, kind);
      const known = stateOf(t, asset.resource?.data ?? {});
      const added = missingLabels(known.labels, settings);
      const url = urlOf(t);
      return {
        description:
          `Add the missing required labels ${JSON.stringify(added)} to ${describe(t)}, keeping every ` +
          'existing label unchanged. The labels and labelFingerprint are re-read right before the write, ' +
          'which carries that fingerprint (a concurrent change makes compute refuse it with 412); then wait ' +
          'for the zone operation. Reversible: undo removes the added labels if the labels are still as the ' +
          'fix left them. GKE-managed resources are refused.',
        requests: [
          { method: 'GET', url },
          {
            method: 'POST',
            url: `${url}/setLabels`,
            body: { labels: { ...known.labels, ...added }, labelFingerprint: known.labelFingerprint },
          },
          { method: 'POST', url: zoneOperationWaitUrl(t) },
        ],
      };
    },

    async captureBefore(asset, ctx) {
      const t = targetOf(asset, kind);
      const data = await read(ctx, t);
      return data ? stateOf(t, data) : null;
    },

    async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
      const before = parseState(LabelStateSchema, rawBefore, 'before-state');
      const t = before.target;
      const data = await read(ctx, t);
      if (!data) return { status: 'gone' };
      const why = gke(data);
      if (why) return gkeConflict(describe(t), why);
      const live = stateOf(t, data);
      const added = missingLabels(live.labels, ctx.settings);
      if (Object.keys(added).length === 0) return { status: 'already_applied', after: live };
      if (live.labelFingerprint !== before.labelFingerprint) {
        return {
          status: 'conflict',
          reason: `the labels of ${describe(t)} changed since they were captured (labelFingerprint ${before.labelFingerprint} → ${live.labelFingerprint})`,
          stale: true,
        };
      }
      const r = await writeLabels(ctx, t, { ...live.labels, ...added }, live.labelFingerprint);
      if (r === 'gone') return { status: 'gone' };
      if (r === 'precondition_failed') {
        return {
          status: 'conflict',
          reason: `the labels of ${describe(t)} changed while the fix was being sent (412 conditionNotMet on labelFingerprint ${live.labelFingerprint})`,
          stale: true,
        };
      }
      const afterData = await read(ctx, t);
      if (!afterData) return { status: 'gone' };
      ctx.logger.info('required labels added', {
        action: `compute.${kind}.add-required-labels`,
        ...t,
        added,
      });
      return { status: 'applied', after: stateOf(t, afterData) };
    },

    async readLive(asset, ctx) {
      const data = await read(ctx, targetOf(asset, kind));
      return data ? liveAsset(asset, data) : null;
    },

    async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
      const before = parseState(LabelStateSchema, rawBefore, 'before-state');
      const after = parseState(LabelStateSchema, rawAfter, 'after-state');
      const t = before.target;
      const data = await read(ctx, t);
      if (!data) return { status: 'gone' };
      const live = stateOf(t, data);
      if (live.labelFingerprint !== after.labelFingerprint) {
        return {
          status: 'refused',
          reason: `the labels of ${describe(t)} changed after the fix (labelFingerprint ${after.labelFingerprint} → ${live.labelFingerprint}); restoring would overwrite that change`,
        };
      }
      const same = (a: Record<string, string>, b: Record<string, string>): boolean =>
        JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
      if (same(live.labels, before.labels)) return { status: 'restored' };
      const r = await writeLabels(ctx, t, before.labels, after.labelFingerprint);
      if (r === 'gone') return { status: 'gone' };
      if (r === 'precondition_failed')
        return {
          status: 'refused',
          reason: `the labels of ${describe(t)} changed while the undo was being sent (412)`,
        };
      ctx.logger.info('labels restored', { action: `compute.${kind}.add-required-labels`, ...t });
      return { status: 'restored' };
    },
  };
}
