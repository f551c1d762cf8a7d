import { z } from 'zod';
import { isNotFound, toWardenError } from '../cloud/errors.js';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import {
  DNS_POLICY_TYPE,
  DnsRefSchema,
  dnsGet,
  dnsPath,
  dnsRefOf,
  dnsRequest,
  dnsUrl,
  liveDnsAsset,
  parseDnsState,
  sameJson,
  type DnsRef,
  type Json,
} from './dns-resource.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

const ID = 'dns.policy.enable-logging';

const StateSchema = z.object({ ref: DnsRefSchema, data: z.record(z.string(), z.unknown()) });
export type DnsPolicyState = z.infer<typeof StateSchema>;

/** As dns-policy-logging-disabled reads it: absent means false. */
const loggingOn = (data: Json): boolean => String(data['enableLogging'] ?? false).toLowerCase() === 'true';

function describePolicy(ref: DnsRef): string {
  return `DNS server policy ${ref.name} (project ${ref.project})`;
}

async function getPolicy(ctx: ActionContext, ref: DnsRef): Promise<Json | null> {
  return dnsGet(ctx, ref.project, dnsPath(ref, 'policies'), describePolicy(ref));
}

/** policies.patch {enableLogging}: synchronous, it answers {header, policy} (no operation). */
async function setLogging(ctx: ActionContext, ref: DnsRef, enableLogging: boolean): Promise<'done' | 'gone'> {
  try {
    await dnsRequest(ctx, 'PATCH', ref.project, dnsPath(ref, 'policies'), { enableLogging });
    return 'done';
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw toWardenError(err, `setting enableLogging ${enableLogging} on ${describePolicy(ref)}`);
  }
}

/**
 * Turns on Cloud DNS query logging for the VPC networks bound to a DNS server policy (CIS 2.13, catalog
 * F7): policies.patch {enableLogging: true}, nothing else in the body, so the networks and forwarding
 * settings stay as they are. Policies carry no etag: the policy is re-read right before the patch and
 * compared with the captured one. Only adds log volume (cost). Reversible: undo sends the previous
 * enableLogging back (false when it was absent, the same meaning) if the policy is still as the fix left it.
 */
export const dnsPolicyEnableLogging: RemediationAction<DnsPolicyState> = {
  id: ID,
  title: 'Turn on DNS query logging on a DNS server policy',
  risk: 'low',
  reversible: true,
  assetTypes: [DNS_POLICY_TYPE],

  plan(asset: Asset, _settings: ActionSettings): Plan {
    const ref = dnsRefOf(asset, 'policies');
    const url = dnsUrl(ref, 'policies');
    return {
      description:
        `Turn on DNS query logging for the networks bound to ${describePolicy(ref)} with policies.patch ` +
        '{enableLogging: true}, after re-reading the policy and checking nobody changed it (policies carry no ' +
        'etag). The networks and forwarding settings are not touched. Adds Cloud Logging volume (cost). ' +
        'Reversible: undo sets enableLogging back if the policy is still as the fix left it.',
      requests: [
        { method: 'GET', url },
        { method: 'PATCH', url, body: { enableLogging: true } },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const ref = dnsRefOf(asset, 'policies');
    const data = await getPolicy(ctx, ref);
    return data ? { ref, data } : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseDnsState(StateSchema, rawBefore, 'before-state');
    const { ref } = before;
    const guarded = await rereadBeforeApply(() => getPolicy(ctx, ref), {
      alreadyApplied: (live) => (loggingOn(live) ? { ref, data: live } : undefined),
      asCaptured: (live) => sameJson(live, before.data),
      what: describePolicy(ref),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if ((await setLogging(ctx, ref, true)) === 'gone') return { status: 'gone' };
    const data = await getPolicy(ctx, ref);
    if (!data) return { status: 'gone' };
    ctx.logger.info('DNS policy logging enabled', { action: ID, ...ref });
    return { status: 'applied', after: { ref, data } };
  },

  async readLive(asset, ctx) {
    const data = await getPolicy(ctx, dnsRefOf(asset, 'policies'));
    return data ? liveDnsAsset(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseDnsState(StateSchema, rawBefore, 'before-state');
    const after = parseDnsState(StateSchema, rawAfter, 'after-state');
    const { ref } = before;
    const guarded = await rereadBeforeUndo(() => getPolicy(ctx, ref), {
      asFixLeftIt: (live) => sameJson(live, after.data),
      what: describePolicy(ref),
      restored: (live) => loggingOn(live) === loggingOn(before.data),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if ((await setLogging(ctx, ref, loggingOn(before.data))) === 'gone') return { status: 'gone' };
    ctx.logger.info('DNS policy logging restored', { action: ID, ...ref });
    return { status: 'restored' };
  },
};
