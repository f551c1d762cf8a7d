import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { isNotFound, toWardenError } from '../cloud/errors.js';
import {
  computeRefOf,
  computeUrl,
  liveAsset,
  operationWaitUrl,
  parseComputeState,
  readResource,
  startedOperation,
  waitForOperation,
  type ComputeRef,
  type ComputeResourceState,
  type ResourceJson,
} from './compute-fingerprint-patch.js';
import { nonVmSubnetRefusal, SUBNETWORK_TYPE } from './compute-subnetwork-enable-flow-logs.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

const refOf = (asset: Asset): ComputeRef => computeRefOf(asset, 'subnetworks', 'region');
const label = (ref: ComputeRef): string => `subnetwork ${ref.project}/${String(ref.region)}/${ref.name}`;

async function getSubnetwork(ctx: ActionContext, ref: ComputeRef): Promise<ResourceJson | null> {
  return readResource(ref, 'subnetwork', async () => {
    const client = await ctx.cloud.compute('SubnetworksClient');
    const [data] = await client.get({ project: ref.project, region: ref.region ?? '', subnetwork: ref.name });
    return data;
  });
}

/** subnetworks.setPrivateIpGoogleAccess, then the region operation; false when the subnet is gone. */
async function setPrivateGoogleAccess(ctx: ActionContext, ref: ComputeRef, value: boolean): Promise<boolean> {
  const client = await ctx.cloud.compute('SubnetworksClient');
  let lro: unknown;
  try {
    [lro] = await client.setPrivateIpGoogleAccess({
      project: ref.project,
      region: ref.region ?? '',
      subnetwork: ref.name,
      subnetworksSetPrivateIpGoogleAccessRequestResource: { privateIpGoogleAccess: value },
    });
  } catch (err) {
    if (isNotFound(err)) return false;
    throw toWardenError(err, `setting Private Google Access on ${label(ref)}`);
  }
  await waitForOperation(ctx, ref, startedOperation(lro));
  return true;
}

const isOn = (data: ResourceJson): boolean =>
  String(data['privateIpGoogleAccess'] ?? false).toLowerCase() === 'true';
const fingerprintOf = (data: ResourceJson): unknown => data['fingerprint'];

/**
 * Turns Private Google Access on (subnet-private-google-access-disabled): subnetworks.setPrivateIpGoogleAccess
 * {privateIpGoogleAccess: true}, then the region operation.
 *
 * setPrivateIpGoogleAccess takes no fingerprint, so the guard is a re-read right before the call, compared
 * by the subnet's fingerprint (which changes with any change to the subnet) with the captured state; undo
 * likewise with what apply left. A change landing within that one round trip can still be overwritten —
 * the most this method allows.
 */
export const enablePrivateGoogleAccess: RemediationAction<ComputeResourceState> = {
  id: 'compute.subnetwork.enable-private-google-access',
  title: 'Turn on Private Google Access on a subnet',
  risk: 'low',
  reversible: true,
  assetTypes: [SUBNETWORK_TYPE],

  plan(asset: Asset, _settings: ActionSettings): Plan {
    const ref = refOf(asset);
    const url = computeUrl(ref, 'subnetworks');
    return {
      description:
        `Turn on Private Google Access on subnet ${ref.name} (project ${ref.project}, region ${String(ref.region)}) ` +
        'with subnetworks.setPrivateIpGoogleAccess, after re-reading the subnet and checking its fingerprint ' +
        'is the captured one (the method takes no fingerprint), then wait for the region operation. Changes ' +
        'nothing for VMs with external IPs. Reversible: undo turns it off again if the subnet is still as ' +
        'the fix left it.',
      requests: [
        { method: 'GET', url },
        { method: 'POST', url: `${url}/setPrivateIpGoogleAccess`, body: { privateIpGoogleAccess: true } },
        { method: 'POST', url: operationWaitUrl(ref) },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const ref = refOf(asset);
    const data = await getSubnetwork(ctx, ref);
    return data ? { ref, data } : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseComputeState(rawBefore, 'before-state');
    const { ref } = before;
    const guarded = await rereadBeforeApply(() => getSubnetwork(ctx, ref), {
      refusal: (live) => {
        const refused = nonVmSubnetRefusal(live, 'Private Google Access');
        return refused && `${label(ref)}: ${refused}`;
      },
      alreadyApplied: (live) => (isOn(live) ? { ref, data: live } : undefined),
      asCaptured: (live) => fingerprintOf(live) === fingerprintOf(before.data),
      what: label(ref),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if (!(await setPrivateGoogleAccess(ctx, ref, true))) return { status: 'gone' };
    const data = await getSubnetwork(ctx, ref);
    if (!data) return { status: 'gone' };
    ctx.logger.info('private google access enabled', { subnetwork: label(ref) });
    return { status: 'applied', after: { ref, data } };
  },

  async readLive(asset, ctx) {
    const data = await getSubnetwork(ctx, refOf(asset));
    return data ? liveAsset(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseComputeState(rawBefore, 'before-state');
    const after = parseComputeState(rawAfter, 'after-state');
    const { ref } = before;
    const guarded = await rereadBeforeUndo(() => getSubnetwork(ctx, ref), {
      asFixLeftIt: (live) => fingerprintOf(live) === fingerprintOf(after.data),
      what: label(ref),
      restored: (live) => isOn(live) === isOn(before.data),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if (!(await setPrivateGoogleAccess(ctx, ref, isOn(before.data)))) return { status: 'gone' };
    ctx.logger.info('private google access restored', { subnetwork: label(ref) });
    return { status: 'restored' };
  },
};
