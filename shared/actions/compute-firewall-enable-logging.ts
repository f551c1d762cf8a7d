import type { protos } from '@google-cloud/compute';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import { isNotFound, toWardenError } from '../cloud/errors.js';
import {
  computeUrl,
  liveAsset,
  operationWaitUrl,
  parseComputeState,
  readResource,
  rec,
  startedOperation,
  waitForOperation,
  type ComputeRef,
  type ComputeResourceState,
  type ResourceJson,
} from './compute-fingerprint-patch.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

type IFirewall = protos.google.cloud.compute.v1.IFirewall;

export const FIREWALL_LOGGING = { enable: true, metadata: 'INCLUDE_ALL_METADATA' } as const;

function refOf(asset: Asset): ComputeRef {
  const m = /^\/\/compute\.googleapis\.com\/projects\/([^/]+)\/global\/firewalls\/([^/]+)$/.exec(asset.name);
  if (!m?.[1] || !m[2]) {
    throw new WardenError(`${asset.name} is not a VPC firewall rule`, {
      retryable: false,
      code: 'not_applicable',
    });
  }
  return { project: m[1], name: m[2] };
}
const label = (ref: ComputeRef): string => `firewall ${ref.project}/${ref.name}`;

async function getFirewall(ctx: ActionContext, ref: ComputeRef): Promise<ResourceJson | null> {
  return readResource(ref, 'firewall', async () => {
    const client = await ctx.cloud.firewalls();
    const [data] = await client.get({ project: ref.project, firewall: ref.name });
    return data;
  });
}

/** firewalls.patch, then the global operation; false when the rule is gone. */
async function patchFirewall(ctx: ActionContext, ref: ComputeRef, body: IFirewall): Promise<boolean> {
  const client = await ctx.cloud.firewalls();
  let lro: unknown;
  try {
    [lro] = await client.patch({ project: ref.project, firewall: ref.name, firewallResource: body });
  } catch (err) {
    if (isNotFound(err)) return false;
    throw toWardenError(err, `patching ${label(ref)}`);
  }
  await waitForOperation(ctx, ref, startedOperation(lro));
  return true;
}

const lower = (v: unknown): string => String(v).toLowerCase();

/** Passes firewall-logging-disabled: logging on (logConfig.enable or legacy enableLogging), or the rule disabled. */
function loggingOn(d: ResourceJson): boolean {
  return (
    lower(d['disabled'] ?? false) === 'true' ||
    lower(rec(d['logConfig'])?.['enable'] ?? false) === 'true' ||
    lower(d['enableLogging'] ?? false) === 'true'
  );
}

/**
 * Turns Firewall Rules Logging on (firewall-logging-disabled): firewalls.patch {logConfig: {enable: true,
 * metadata: INCLUDE_ALL_METADATA}}, then the global operation. Firewall rules have no fingerprint, so the
 * guard is a re-read compared with the captured rule right before the patch (and for undo with what apply
 * left), as in compute.firewall.restrict-internet-source. Rules GKE manages (gke-*) are refused: GKE
 * recreates them, so the fix would not last. Undo patches {logConfig: {enable: false}}; a rule that had no
 * logConfig at all keeps `{enable: false}` (compute's client cannot send null), which means the same.
 */
export const enableFirewallLogging: RemediationAction<ComputeResourceState> = {
  id: 'compute.firewall.enable-logging',
  title: 'Turn on Firewall Rules Logging for a VPC firewall rule',
  risk: 'low',
  reversible: true,
  assetTypes: ['compute.googleapis.com/Firewall'],

  plan(asset: Asset, _settings: ActionSettings): Plan {
    const ref = refOf(asset);
    const url = computeUrl(ref, 'firewalls');
    return {
      description:
        `Turn on logging (logConfig ${JSON.stringify(FIREWALL_LOGGING)}) for firewall rule ${ref.name} ` +
        `(project ${ref.project}), after re-reading the rule and checking nobody changed it (firewall rules ` +
        'have no fingerprint), then wait for the global operation. Only adds log volume (cost). Reversible: ' +
        'undo turns logging off again if the rule is still as the fix left it.',
      requests: [
        { method: 'GET', url },
        { method: 'PATCH', url, body: { logConfig: { ...FIREWALL_LOGGING } } },
        { method: 'POST', url: operationWaitUrl(ref) },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const ref = refOf(asset);
    const data = await getFirewall(ctx, ref);
    return data ? { ref, data } : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseComputeState(rawBefore, 'before-state');
    const { ref } = before;
    const guarded = await rereadBeforeApply(() => getFirewall(ctx, ref), {
      refusal: () =>
        ref.name.startsWith('gke-')
          ? `${label(ref)} is managed by GKE, which recreates its rules: change it through the cluster`
          : undefined,
      alreadyApplied: (live) => (loggingOn(live) ? { ref, data: live } : undefined),
      asCaptured: (live) => canonicalJson(live) === canonicalJson(before.data),
      what: label(ref),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if (!(await patchFirewall(ctx, ref, { logConfig: { ...FIREWALL_LOGGING } }))) return { status: 'gone' };
    const data = await getFirewall(ctx, ref);
    if (!data) return { status: 'gone' };
    ctx.logger.info('firewall logging enabled', { firewall: label(ref) });
    return { status: 'applied', after: { ref, data } };
  },

  async readLive(asset, ctx) {
    const data = await getFirewall(ctx, refOf(asset));
    return data ? liveAsset(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseComputeState(rawBefore, 'before-state');
    const after = parseComputeState(rawAfter, 'after-state');
    const { ref } = before;
    const guarded = await rereadBeforeUndo(() => getFirewall(ctx, ref), {
      asFixLeftIt: (live) => canonicalJson(live) === canonicalJson(after.data),
      what: label(ref),
    });
    if ('outcome' in guarded) return guarded.outcome;
    const { live } = guarded;
    const was = rec(before.data['logConfig']);
    const restore: IFirewall = {
      logConfig: was?.['enable'] === true ? (was as IFirewall['logConfig']) : { enable: false },
    };
    if (canonicalJson(rec(live['logConfig']) ?? {}) === canonicalJson(restore.logConfig))
      return { status: 'restored' };
    if (!(await patchFirewall(ctx, ref, restore))) return { status: 'gone' };
    ctx.logger.info('firewall logging restored', { firewall: label(ref) });
    return { status: 'restored' };
  },
};
