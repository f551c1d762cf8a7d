import { z } from 'zod';
import type { protos } from '@google-cloud/compute';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import { isNotFound, toWardenError } from '../cloud/errors.js';
import { restJson } from '../cloud/rest-json.js';
import { waitForGlobalOperation } from './compute-operation.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { parseRecordedState } from './recorded-state.js';
import { withLiveData } from './live-asset.js';
import { rereadBeforeUndo } from './guarded-write.js';

const COMPUTE_API = 'https://compute.googleapis.com/compute/v1';
const FIREWALL_TYPE = 'compute.googleapis.com/Firewall';
const IPV4_INTERNET = '0.0.0.0/0';
const IPV6_INTERNET = '::/0';

type FirewallJson = Record<string, unknown>;

const FirewallStateSchema = z.object({
  project: z.string(),
  firewall: z.string(),
  /** The rule as firewalls.get returned it (REST JSON). */
  data: z.record(z.string(), z.unknown()),
});
export type FirewallState = z.infer<typeof FirewallStateSchema>;

function firewallOf(asset: Asset): { project: string; firewall: string } {
  const m = /^\/\/compute\.googleapis\.com\/projects\/([^/]+)\/global\/firewalls\/([^/]+)$/.exec(asset.name);
  if (!m?.[1] || !m[2]) {
    throw new WardenError(`${asset.name} is not a VPC firewall rule`, {
      retryable: false,
      code: 'not_applicable',
    });
  }
  return { project: m[1], firewall: m[2] };
}

function firewallUrl(project: string, firewall: string): string {
  return `${COMPUTE_API}/projects/${encodeURIComponent(project)}/global/firewalls/${encodeURIComponent(firewall)}`;
}

function sourceRangesOf(data: FirewallJson): string[] {
  const r = data['sourceRanges'];
  return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
}

/** Only INGRESS rules have sources; a rule without a direction is INGRESS (the API's default). */
function isIngress(data: FirewallJson): boolean {
  return (data['direction'] ?? 'INGRESS') === 'INGRESS';
}

function isOpenToInternet(data: FirewallJson): boolean {
  const ranges = sourceRangesOf(data);
  return ranges.includes(IPV4_INTERNET) || ranges.includes(IPV6_INTERNET) || hasNoSource(data);
}

/** An INGRESS rule naming no source at all is given 0.0.0.0/0 by Compute (terraform-provider-google#6789). */
function hasNoSource(data: FirewallJson): boolean {
  const empty = (k: string) => !Array.isArray(data[k]) || (data[k] as unknown[]).length === 0;
  return isIngress(data) && empty('sourceRanges') && empty('sourceTags') && empty('sourceServiceAccounts');
}

/**
 * 0.0.0.0/0 becomes the safe ranges (IAP TCP forwarding by default, catalog F16); ::/0 is dropped; other
 * ranges stay. If nothing is left, the safe ranges: an INGRESS rule with no source at all would again
 * mean 0.0.0.0/0.
 */
export function restrictedSourceRanges(ranges: readonly string[], safe: readonly string[]): string[] {
  const kept = ranges.filter((r) => r !== IPV4_INTERNET && r !== IPV6_INTERNET);
  const next = ranges.includes(IPV4_INTERNET) ? [...kept, ...safe] : kept;
  return [...new Set(next.length > 0 ? next : safe)];
}

async function getFirewall(
  ctx: ActionContext,
  project: string,
  firewall: string,
): Promise<FirewallJson | null> {
  const client = await ctx.cloud.firewalls();
  try {
    const [data] = await client.get({ project, firewall });
    return restJson(data);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading firewall ${project}/${firewall}`);
  }
}

/** firewalls.patch, then wait for its global operation: the change exists only once the operation is DONE. */
async function patchSourceRanges(
  ctx: ActionContext,
  project: string,
  firewall: string,
  sourceRanges: string[],
): Promise<void> {
  const client = await ctx.cloud.firewalls();
  let started: protos.google.cloud.compute.v1.IOperation;
  try {
    const [lro] = await client.patch({ project, firewall, firewallResource: { sourceRanges } });
    // compute's LRO wrapper keeps the Operation resource in latestResponse.
    started = (lro as unknown as { latestResponse: protos.google.cloud.compute.v1.IOperation })
      .latestResponse;
  } catch (err) {
    throw toWardenError(err, `patching firewall ${project}/${firewall}`);
  }
  await waitForGlobalOperation(ctx, project, started);
}

function parseState(value: unknown, what: string): FirewallState {
  return parseRecordedState(FirewallStateSchema, value, what);
}

/**
 * Narrows an INGRESS rule open to the internet to safe source ranges.
 *
 * Firewall rules have no fingerprint and firewalls.patch takes no precondition, so the guard is a re-read
 * compared with the captured state right before the patch (and, for undo, with what apply left). That
 * leaves a window of one round trip in which a concurrent change can still be overwritten — the most the
 * API allows.
 */
export const restrictFirewallInternetSource: RemediationAction<FirewallState> = {
  id: 'compute.firewall.restrict-internet-source',
  title: 'Restrict a firewall rule open to the internet to safe source ranges',
  risk: 'medium',
  reversible: true,
  assetTypes: [FIREWALL_TYPE],

  plan(asset: Asset, settings: ActionSettings): Plan {
    const { project, firewall } = firewallOf(asset);
    const data = asset.resource?.data ?? {};
    const ranges = sourceRangesOf(data);
    const next = restrictedSourceRanges(ranges, settings.firewallSafeSourceRanges);
    const url = firewallUrl(project, firewall);
    return {
      description:
        `Replace the internet source ranges of firewall rule ${firewall} (project ${project}): sourceRanges ` +
        `${JSON.stringify(ranges)} → ${JSON.stringify(next)}, after re-reading the rule and checking nobody ` +
        'changed it (firewall rules have no fingerprint), then wait for the global operation. Reversible: ' +
        'undo restores the previous ranges if the rule is still as the fix left it.',
      requests: [
        { method: 'GET', url },
        { method: 'PATCH', url, body: { sourceRanges: next } },
        {
          method: 'POST',
          url: `${COMPUTE_API}/projects/${encodeURIComponent(project)}/global/operations/{operation}/wait`,
        },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const { project, firewall } = firewallOf(asset);
    const data = await getFirewall(ctx, project, firewall);
    return data ? { project, firewall, data } : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseState(rawBefore, 'before-state');
    const { project, firewall } = before;
    const live = await getFirewall(ctx, project, firewall);
    if (!live) return { status: 'gone' };
    if (!isIngress(live)) {
      throw new WardenError(`firewall ${project}/${firewall} is not an INGRESS rule`, {
        retryable: false,
        code: 'not_applicable',
      });
    }
    if (!isOpenToInternet(live)) {
      const after: FirewallState = { project, firewall, data: live };
      return { status: 'already_applied', after };
    }
    if (canonicalJson(live) !== canonicalJson(before.data)) {
      return {
        status: 'conflict',
        reason: `firewall ${project}/${firewall} changed since its state was captured`,
        stale: true,
      };
    }
    const next = restrictedSourceRanges(sourceRangesOf(live), ctx.settings.firewallSafeSourceRanges);
    await patchSourceRanges(ctx, project, firewall, next);
    const data = await getFirewall(ctx, project, firewall);
    if (!data) return { status: 'gone' };
    ctx.logger.info('firewall source ranges restricted', { project, firewall, sourceRanges: next });
    const after: FirewallState = { project, firewall, data };
    return { status: 'applied', after };
  },

  async readLive(asset, ctx) {
    const { project, firewall } = firewallOf(asset);
    const data = await getFirewall(ctx, project, firewall);
    return data ? withLiveData(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseState(rawBefore, 'before-state');
    const after = parseState(rawAfter, 'after-state');
    const { project, firewall } = before;
    const previous = sourceRangesOf(before.data);
    const guarded = await rereadBeforeUndo(() => getFirewall(ctx, project, firewall), {
      asFixLeftIt: (live) => canonicalJson(live) === canonicalJson(after.data),
      what: `firewall ${project}/${firewall}`,
      restored: (live) => canonicalJson(sourceRangesOf(live)) === canonicalJson(previous),
    });
    if ('outcome' in guarded) return guarded.outcome;
    await patchSourceRanges(ctx, project, firewall, previous);
    ctx.logger.info('firewall source ranges restored', { project, firewall, sourceRanges: previous });
    return { status: 'restored' };
  },
};
