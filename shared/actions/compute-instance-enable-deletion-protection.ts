import { z } from 'zod';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import {
  getInstance,
  gkeConflict,
  gkeManagedInstance,
  guardedCall,
  instanceOf,
  instanceUrl,
  INSTANCE_TYPE,
  liveAsset,
  parseState,
  zoneOperationWaitUrl,
  type Json,
  type ZonalRef,
} from './compute-resource.js';
import { startedOperation } from './compute-fingerprint-patch.js';
import { waitForZoneOperation } from './compute-operation.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

const StateSchema = z.object({
  target: z.object({ project: z.string(), zone: z.string(), name: z.string() }),
  deletionProtection: z.boolean(),
  /** The instance as instances.get returned it (REST JSON). */
  data: z.record(z.string(), z.unknown()),
});
export type DeletionProtectionState = z.infer<typeof StateSchema>;

/** Fields the VM's own life changes (start, stop, host moves): not somebody's configuration change. */
const RUNTIME_FIELDS = [
  'status',
  'statusMessage',
  'cpuPlatform',
  'lastStartTimestamp',
  'lastStopTimestamp',
  'lastSuspendedTimestamp',
];

function configView(data: Json): string {
  const copy: Json = { ...data };
  for (const f of RUNTIME_FIELDS) delete copy[f];
  return canonicalJson(copy);
}

function describe(t: ZonalRef): string {
  return `VM ${t.name} (project ${t.project}, zone ${t.zone})`;
}

function stateOf(target: ZonalRef, data: Json): DeletionProtectionState {
  return { target, deletionProtection: data['deletionProtection'] === true, data };
}

async function setDeletionProtection(
  ctx: ActionContext,
  t: ZonalRef,
  deletionProtection: boolean,
): Promise<'ok' | 'gone'> {
  const client = await ctx.cloud.compute('InstancesClient');
  const r = await guardedCall(`setting deletion protection on ${t.project}/${t.zone}/${t.name}`, async () => {
    const [lro] = await client.setDeletionProtection({
      project: t.project,
      zone: t.zone,
      resource: t.name,
      deletionProtection,
    });
    return startedOperation(lro);
  });
  if (!r.ok) {
    if (r.why === 'gone') return 'gone';
    // setDeletionProtection takes no precondition: a 412 is not expected, and not retried blindly.
    throw new WardenError(`unexpected 412 from setDeletionProtection on ${describe(t)}`, {
      retryable: false,
      code: 'FAILED_PRECONDITION',
    });
  }
  await waitForZoneOperation(ctx, t.project, t.zone, r.value);
  return 'ok';
}

/**
 * Turns deletion protection on. instances.setDeletionProtection takes no fingerprint, so the guard is a
 * re-read compared with the captured instance (ignoring run-state fields) right before the call, as for
 * firewall rules: a window of one round trip remains, the most the API allows. GKE nodes are refused.
 */
export const instanceEnableDeletionProtection: RemediationAction<DeletionProtectionState> = {
  id: 'compute.instance.enable-deletion-protection',
  title: 'Turn on deletion protection for a VM',
  risk: 'low',
  reversible: true,
  assetTypes: [INSTANCE_TYPE],

  plan(asset: Asset, _settings: ActionSettings): Plan {
    const t = instanceOf(asset);
    const url = instanceUrl(t);
    return {
      description:
        `Turn on deletion protection for ${describe(t)} after re-reading it and checking nobody changed it ` +
        '(setDeletionProtection takes no fingerprint), then wait for the zone operation. Reversible: undo ' +
        'turns it off again if the VM is still as the fix left it. GKE-managed VMs are refused.',
      requests: [
        { method: 'GET', url },
        { method: 'POST', url: `${url}/setDeletionProtection?deletionProtection=true` },
        { method: 'POST', url: zoneOperationWaitUrl(t) },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const t = instanceOf(asset);
    const data = await getInstance(ctx, t);
    return data ? stateOf(t, data) : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseState(StateSchema, rawBefore, 'before-state');
    const t = before.target;
    const guarded = await rereadBeforeApply(() => getInstance(ctx, t), {
      refusal: (live) => {
        const why = gkeManagedInstance(live);
        return why && gkeConflict(describe(t), why).reason;
      },
      alreadyApplied: (live) => (live['deletionProtection'] === true ? stateOf(t, live) : undefined),
      asCaptured: (live) => configView(live) === configView(before.data),
      what: describe(t),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if ((await setDeletionProtection(ctx, t, true)) === 'gone') return { status: 'gone' };
    const data = await getInstance(ctx, t);
    if (!data) return { status: 'gone' };
    ctx.logger.info('deletion protection enabled', { ...t });
    return { status: 'applied', after: stateOf(t, data) };
  },

  async readLive(asset, ctx) {
    const data = await getInstance(ctx, instanceOf(asset));
    return data ? liveAsset(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseState(StateSchema, rawBefore, 'before-state');
    const after = parseState(StateSchema, rawAfter, 'after-state');
    const t = before.target;
    const guarded = await rereadBeforeUndo(() => getInstance(ctx, t), {
      asFixLeftIt: (live) => configView(live) === configView(after.data),
      what: describe(t),
      restored: (live) => (live['deletionProtection'] === true) === before.deletionProtection,
    });
    if ('outcome' in guarded) return guarded.outcome;
    if ((await setDeletionProtection(ctx, t, before.deletionProtection)) === 'gone')
      return { status: 'gone' };
    ctx.logger.info('deletion protection restored', { ...t, deletionProtection: before.deletionProtection });
    return { status: 'restored' };
  },
};
