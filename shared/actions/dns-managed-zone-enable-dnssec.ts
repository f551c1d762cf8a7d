import { z } from 'zod';
import { isNotFound, isPreconditionFailed, toWardenError } from '../cloud/errors.js';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import {
  DnsRefSchema,
  dnsGet,
  dnsPath,
  dnsRefOf,
  dnsRequest,
  dnsUrl,
  liveDnsAsset,
  MANAGED_ZONE_TYPE,
  parseDnsState,
  sameJson,
  type DnsRef,
  type Json,
} from './dns-resource.js';
import { pollUntilDone } from './operation-poll.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

const ID = 'dns.managed-zone.enable-dnssec';

/**
 * How long after the fix undo may still turn DNSSEC off. Once DNSSEC is on, the zone's owner may publish
 * its DS record at the registrar; from then on, turning DNSSEC off makes every validating resolver reject
 * the zone until the DS record is withdrawn and its TTL has run out. Nothing in Cloud DNS's API shows
 * whether a DS record was published, so undo is only done soon after the fix (a rollback by the executor
 * right after verification), never later.
 */
export const DNSSEC_UNDO_WINDOW_MS = 60 * 60_000;

const StateSchema = z.object({
  ref: DnsRefSchema,
  /** The zone as managedZones.get (v1) returned it. */
  data: z.record(z.string(), z.unknown()),
  /** When this action turned DNSSEC on (absent when it found it already on). */
  appliedAt: z.string().optional(),
});
export type DnssecState = z.infer<typeof StateSchema>;

const lower = (v: unknown): string => String(v ?? '').toLowerCase();
const rec = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

/** As dns-dnssec-disabled reads it: absent means off; `transfer` keeps the zone signed. */
function stateOf(data: Json): string {
  return lower(rec(data['dnssecConfig'])['state'] ?? 'off');
}
const isSigned = (data: Json): boolean => ['on', 'transfer'].includes(stateOf(data));
const isPublic = (data: Json): boolean => lower(data['visibility'] ?? 'public') === 'public';

/** Key specs that would sign with RSASHA1 (CIS 3.4/3.5) once DNSSEC is on, when they can no longer change. */
function sha1Specs(data: Json): string[] {
  const specs = rec(data['dnssecConfig'])['defaultKeySpecs'];
  return (Array.isArray(specs) ? specs : [])
    .map(rec)
    .filter((s) => lower(s['algorithm']) === 'rsasha1')
    .map((s) => String(s['keyType'] ?? 'key'));
}

function refusal(data: Json): string | undefined {
  if (!isPublic(data)) return 'DNSSEC can only be enabled on public zones, and this zone is private';
  const sha1 = sha1Specs(data);
  if (sha1.length > 0) {
    return (
      `its DNSSEC key specs (${sha1.join(', ')}) use RSASHA1, which cannot be changed once DNSSEC is on: set ` +
      'strong defaultKeySpecs (rsasha256 or ecdsap256sha256) while it is off, then enable DNSSEC'
    );
  }
  return undefined;
}

function describeZone(ref: DnsRef): string {
  return `Cloud DNS zone ${ref.name} (project ${ref.project})`;
}

const zoneUri = (ref: DnsRef): string => dnsPath(ref, 'managedZones');

async function getZone(ctx: ActionContext, ref: DnsRef): Promise<Json | null> {
  return dnsGet(ctx, ref.project, zoneUri(ref), describeZone(ref));
}

/**
 * managedZones.patch {dnssecConfig: {state}} and its operation (managedZoneOperations.get until done; DNS
 * has no wait method). Managed zones carry no etag or fingerprint, so the caller re-reads the zone right
 * before and compares it with the captured one. 'refused' is Cloud DNS's 412 (a private zone).
 */
async function setState(
  ctx: ActionContext,
  ref: DnsRef,
  state: 'on' | 'off',
): Promise<'done' | 'gone' | 'refused'> {
  let op: Json;
  try {
    op = await dnsRequest(ctx, 'PATCH', ref.project, zoneUri(ref), { dnssecConfig: { state } });
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    if (isPreconditionFailed(err)) return 'refused';
    throw toWardenError(err, `turning DNSSEC ${state} for ${describeZone(ref)}`);
  }
  const id = String(op['id'] ?? '');
  if (!id) {
    throw new WardenError('Cloud DNS returned an operation without an id', {
      retryable: false,
      code: 'invalid_response',
    });
  }
  await pollUntilDone(
    op,
    (o) => lower(o['status']) === 'done',
    async () => {
      try {
        return await dnsRequest(
          ctx,
          'GET',
          ref.project,
          `${zoneUri(ref)}/operations/${encodeURIComponent(id)}`,
        );
      } catch (err) {
        throw toWardenError(err, `waiting for Cloud DNS operation ${id} on ${describeZone(ref)}`);
      }
    },
    `Cloud DNS operation ${id} on ${describeZone(ref)}`,
  );
  return 'done';
}

/** A done DNS operation has no error field: whether it did anything is read back from the zone. */
function notTaken(ref: DnsRef, state: string): WardenError {
  return new WardenError(
    `the Cloud DNS operation turning DNSSEC ${state} for ${describeZone(ref)} ended done, but the zone's DNSSEC state is not ${state}`,
    { retryable: false, code: 'operation_failed' },
  );
}

/**
 * Turns DNSSEC on for a public Cloud DNS zone (CIS 3.3): managedZones.patch {dnssecConfig: {state: "on"}}
 * (v1 spells it lower case; CAI's v1alpha2 data shows ON), then the zone operation. Cloud DNS generates
 * the keys from the zone's defaultKeySpecs (rsasha256 by default); the fix is refused when those specs are
 * RSASHA1, as they cannot change once the zone is signed. Resolution is unaffected until a DS record is
 * published at the registrar, which is the owner's step (Warden cannot do it).
 *
 * Undo turns DNSSEC off again, only within DNSSEC_UNDO_WINDOW_MS of the fix and only if the zone is still as
 * the fix left it: after that a DS record may be published, and turning DNSSEC off with one in place breaks
 * resolution of the zone for validating resolvers. So the action is not marked reversible.
 */
export const zoneEnableDnssec: RemediationAction<DnssecState> = {
  id: ID,
  title: 'Turn on DNSSEC for a public Cloud DNS zone',
  risk: 'medium',
  reversible: false,
  assetTypes: [MANAGED_ZONE_TYPE],

  plan(asset: Asset, _settings: ActionSettings): Plan {
    const ref = dnsRefOf(asset, 'managedZones');
    const url = dnsUrl(ref, 'managedZones');
    return {
      description:
        `Turn on DNSSEC for ${describeZone(ref)} with managedZones.patch {dnssecConfig: {state: "on"}}, after ` +
        're-reading the zone and checking nobody changed it (zones carry no etag), then wait for the zone ' +
        'operation. Cloud DNS signs the zone with its defaultKeySpecs; validation starts only once the owner ' +
        'publishes the DS record at the registrar. Private zones and RSASHA1 key specs are refused. Undo ' +
        '(turning DNSSEC off) is done only within an hour of the fix: once a DS record is published, turning ' +
        'DNSSEC off breaks resolution of the zone for validating resolvers until the DS record is removed ' +
        'and its TTL has passed, so it is left to a human after that.',
      requests: [
        { method: 'GET', url },
        { method: 'PATCH', url, body: { dnssecConfig: { state: 'on' } } },
        { method: 'GET', url: `${url}/operations/{operation}` },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const ref = dnsRefOf(asset, 'managedZones');
    const data = await getZone(ctx, ref);
    return data ? { ref, data } : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseDnsState(StateSchema, rawBefore, 'before-state');
    const { ref } = before;
    const guarded = await rereadBeforeApply(() => getZone(ctx, ref), {
      refusal: (live) => {
        const refused = refusal(live);
        return refused && `${describeZone(ref)}: ${refused}`;
      },
      alreadyApplied: (live) => (isSigned(live) ? { ref, data: live } : undefined),
      asCaptured: (live) => sameJson(live, before.data),
      what: describeZone(ref),
    });
    if ('outcome' in guarded) return guarded.outcome;
    const r = await setState(ctx, ref, 'on');
    if (r === 'gone') return { status: 'gone' };
    if (r === 'refused') {
      return {
        status: 'conflict',
        reason: `${describeZone(ref)}: Cloud DNS refused DNSSEC (412: public zones only)`,
      };
    }
    const data = await getZone(ctx, ref);
    if (!data) return { status: 'gone' };
    if (!isSigned(data)) throw notTaken(ref, 'on');
    ctx.logger.info('DNSSEC enabled', { action: ID, ...ref });
    return { status: 'applied', after: { ref, data, appliedAt: ctx.clock.now().toISOString() } };
  },

  async readLive(asset, ctx) {
    const data = await getZone(ctx, dnsRefOf(asset, 'managedZones'));
    return data ? liveDnsAsset(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseDnsState(StateSchema, rawBefore, 'before-state');
    const after = parseDnsState(StateSchema, rawAfter, 'after-state');
    const { ref } = before;
    const guarded = await rereadBeforeUndo(() => getZone(ctx, ref), {
      asFixLeftIt: (live) => sameJson(live, after.data),
      what: describeZone(ref),
      restored: (live) => isSigned(live) === isSigned(before.data),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if (!after.appliedAt) {
      return {
        status: 'refused',
        reason: `Warden did not turn DNSSEC on for ${describeZone(ref)}; it leaves it on`,
      };
    }
    const age = ctx.clock.now().getTime() - Date.parse(after.appliedAt);
    if (!(age <= DNSSEC_UNDO_WINDOW_MS)) {
      return {
        status: 'refused',
        reason:
          `DNSSEC has been on for ${describeZone(ref)} since ${after.appliedAt}: a DS record may be published at the ` +
          'registrar by now, and turning DNSSEC off with one in place breaks resolution for validating resolvers. ' +
          'Remove the DS record first, wait for its TTL, then turn DNSSEC off by hand',
      };
    }
    const r = await setState(ctx, ref, 'off');
    if (r === 'gone') return { status: 'gone' };
    if (r === 'refused')
      return { status: 'refused', reason: `Cloud DNS refused to change DNSSEC of ${describeZone(ref)}` };
    const data = await getZone(ctx, ref);
    if (!data) return { status: 'gone' };
    if (isSigned(data)) throw notTaken(ref, 'off');
    ctx.logger.info('DNSSEC turned off again', { action: ID, ...ref });
    return { status: 'restored' };
  },
};
