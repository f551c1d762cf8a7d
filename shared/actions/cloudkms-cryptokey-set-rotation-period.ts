import { z } from 'zod';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { isNotFound, toWardenError } from '../cloud/errors.js';
import { DEFAULT_PARAMS } from '../policy/policy-params.js';
import { CRYPTO_KEY_TYPE, iamTargetOf, KMS_API } from './iam-policy-edit.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { parseRecordedState } from './recorded-state.js';
import { withLiveDataKeepingIam } from './live-asset.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

/**
 * CIS 1.11: turns on automatic rotation of a symmetric Cloud KMS key at most every params.maxKeyAgeDays
 * (90 days: "7776000s"): `PATCH v1/{cryptoKey}?updateMask=rotationPeriod,nextRotationTime`. A shorter
 * period a human chose is kept, and so is a next rotation already scheduled sooner than one period away.
 * Only ENCRYPT_DECRYPT keys rotate automatically (catalog F15): asymmetric, MAC and raw keys, import-only
 * keys and Cloud EKM keys are refused with the reason. Rotation keeps old versions enabled for decryption.
 *
 * CryptoKey has no etag and cryptoKeys.patch takes no precondition, so this is a guarded write: the key is
 * re-read immediately before the patch and nothing is sent if its purpose or rotation settings differ from
 * the captured ones. Undo puts the previous rotationPeriod / nextRotationTime back (clearing them, through
 * the same mask, when there were none) only while the key still has the rotation the fix set.
 */

const ID = 'cloudkms.cryptokey.set-rotation-period';
const DAY_S = 86_400;
const MASK = ['rotationPeriod', 'nextRotationTime'];
const DURATIONS = new Set(['rotationPeriod', 'destroyScheduledDuration']);

type Json = Record<string, unknown>;

const StateSchema = z.object({
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K */
  key: z.string(),
  /** The key as cryptoKeys.get returned it, in REST JSON (rotationPeriod "Ns", nextRotationTime RFC 3339). */
  data: z.record(z.string(), z.unknown()),
  /** After-state of an apply that sent nothing (already rotating often enough): nothing to undo. */
  unchanged: z.literal(true).optional(),
});
type KeyState = z.infer<typeof StateSchema>;

function parse(value: unknown, what: string): KeyState {
  return parseRecordedState(StateSchema, value, what);
}

/** max_key_age_days of params.yaml, as ActionSettings carries it. */
export function maxKeyAgeDays(settings: ActionSettings): number {
  return settings.maxKeyAgeDays > 0 ? settings.maxKeyAgeDays : DEFAULT_PARAMS.max_key_age_days;
}

function rec(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function isTimeOrDuration(v: Json): boolean {
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k === 'seconds' || k === 'nanos');
}

/** A CryptoKey as gax decoded it, in REST JSON: Timestamps and Durations as REST spells them, no defaults. */
export function keyJson(message: unknown): Json {
  const walk = (v: unknown, field: string): unknown => {
    if (v === null || v === undefined || v === '') return undefined;
    if (Array.isArray(v)) return v.length > 0 ? v.map((x) => walk(x, '')) : undefined;
    const o = rec(v);
    if (!o) return v;
    if (isTimeOrDuration(o)) {
      const seconds = Number(o['seconds'] ?? 0);
      const nanos = Number(o['nanos'] ?? 0);
      if (DURATIONS.has(field)) return `${seconds + nanos / 1e9}s`;
      const iso = new Date(seconds * 1000 + Math.floor(nanos / 1e6)).toISOString();
      return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
    }
    const out: Json = {};
    for (const [k, x] of Object.entries(o)) {
      const w = walk(x, k);
      if (w !== undefined) out[k] = w;
    }
    return Object.keys(out).length > 0 || field === '' ? out : undefined;
  };
  return (walk(message, '') as Json | undefined) ?? {};
}

/** Seconds of a rotation period in any spelling CAI or REST uses ("7776000s", {seconds}, a number). */
export function periodSeconds(v: unknown): number | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return /^\d+(\.\d+)?s?$/.test(v) ? Number(v.replace(/s$/, '')) : null;
  const o = rec(v);
  return o ? Number(o['seconds'] ?? 0) + Number(o['nanos'] ?? 0) / 1e9 : null;
}

function timeMs(v: unknown): number | null {
  if (typeof v !== 'string' || v === '') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** Why automatic rotation cannot be set on this key (policy kms-key-rotation does not report these). */
export function rotationRefusal(data: Json): string | undefined {
  const purpose = String(data['purpose'] ?? '');
  if (!['encrypt_decrypt', '1'].includes(purpose.toLowerCase())) {
    return `its purpose is ${purpose || 'unknown'}: only symmetric ENCRYPT_DECRYPT keys rotate automatically; asymmetric, MAC and raw keys cannot (catalog F15)`;
  }
  if (String(data['importOnly'] ?? false).toLowerCase() === 'true') {
    return 'it is import-only: every new version must be imported, so it cannot rotate automatically';
  }
  const template = rec(data['versionTemplate']);
  const primary = rec(data['primary']);
  const protection = String(
    template?.['protectionLevel'] ?? primary?.['protectionLevel'] ?? '',
  ).toLowerCase();
  if (['external', 'external_vpc', '3', '4'].includes(protection)) {
    return `it is a Cloud EKM key (protection level ${protection.toUpperCase()}): its material lives outside Cloud KMS and is not rotated automatically`;
  }
  const state = String(primary?.['state'] ?? '').toLowerCase();
  if (['destroyed', 'destroy_scheduled'].includes(state)) {
    return `its primary version is ${state.toUpperCase()}: the key is no longer in use`;
  }
  return undefined;
}

/** Whether the key passes kms-key-rotation: a period of at most `days`, the next rotation within `days`. */
export function rotatesOftenEnough(data: Json, now: Date, days: number): boolean {
  const period = periodSeconds(data['rotationPeriod']);
  if (period === null || period > days * DAY_S) return false;
  const next = timeMs(data['nextRotationTime']);
  return next === null || next - now.getTime() <= days * DAY_S * 1000;
}

/** The rotation the fix sets: the shorter of the key's own period and `days`, the next rotation within it. */
export function targetRotation(data: Json, now: Date, days: number): { periodS: number; nextMs: number } {
  const own = periodSeconds(data['rotationPeriod']);
  const periodS = own !== null && own >= DAY_S && own <= days * DAY_S ? own : days * DAY_S;
  const next = timeMs(data['nextRotationTime']);
  const latest = now.getTime() + periodS * 1000;
  const nextMs = next !== null && next > now.getTime() && next <= latest ? next : latest;
  return { periodS, nextMs };
}

function rotationOf(data: Json): string {
  return JSON.stringify([
    String(data['purpose'] ?? ''),
    periodSeconds(data['rotationPeriod']),
    timeMs(data['nextRotationTime']),
  ]);
}

function keyOf(asset: Asset): string {
  return iamTargetOf(asset, [CRYPTO_KEY_TYPE]).resource;
}

async function read(ctx: ActionContext, key: string): Promise<Json | null> {
  const kms = await ctx.cloud.kms('KeyManagementServiceClient');
  try {
    const [k] = await kms.getCryptoKey({ name: key });
    return keyJson(k);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading crypto key ${key}`);
  }
}

/** cryptoKeys.patch of the rotation fields; an absent value clears the field (it is in the mask). */
async function writeRotation(
  ctx: ActionContext,
  key: string,
  rotation: { periodS: number | null; nextMs: number | null },
): Promise<'ok' | 'gone'> {
  const kms = await ctx.cloud.kms('KeyManagementServiceClient');
  const cryptoKey: Json = { name: key };
  if (rotation.periodS !== null) {
    const seconds = Math.floor(rotation.periodS);
    cryptoKey['rotationPeriod'] = { seconds, nanos: Math.round((rotation.periodS - seconds) * 1e9) };
  }
  if (rotation.nextMs !== null) {
    cryptoKey['nextRotationTime'] = {
      seconds: Math.floor(rotation.nextMs / 1000),
      nanos: (rotation.nextMs % 1000) * 1e6,
    };
  }
  try {
    await kms.updateCryptoKey({ cryptoKey, updateMask: { paths: MASK } });
    return 'ok';
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw toWardenError(err, `setting the rotation of crypto key ${key}`);
  }
}

export const cryptoKeySetRotationPeriod: RemediationAction<KeyState> = {
  id: ID,
  title: 'Rotate a symmetric Cloud KMS key automatically at most every 90 days',
  risk: 'low',
  reversible: true,
  assetTypes: [CRYPTO_KEY_TYPE],

  plan(asset: Asset, settings: ActionSettings): Plan {
    const key = keyOf(asset);
    const days = maxKeyAgeDays(settings);
    const data = asset.resource?.data ?? {};
    const own = periodSeconds(data['rotationPeriod']);
    const periodS = own !== null && own >= DAY_S && own <= days * DAY_S ? own : days * DAY_S;
    const url = `${KMS_API}/${key}`;
    const refused = rotationRefusal(data);
    return {
      description:
        (refused ? `Refused for crypto key ${key}: ${refused}. ` : '') +
        `Set automatic rotation of crypto key ${key} to every ${periodS}s (${periodS / DAY_S} days, the maximum ` +
        `key age being ${days} days) with the next rotation at most one period from the time of the fix (an ` +
        'earlier one already scheduled is kept). The key has no etag, so it is re-read right before the patch ' +
        'and nothing is sent if its rotation settings changed since they were captured. Old key versions stay ' +
        'enabled for decryption; each rotation adds a key version. Reversible: undo restores the previous ' +
        'rotationPeriod and nextRotationTime (or clears them) while the key still has the rotation set here.',
      requests: [
        { method: 'GET', url },
        {
          method: 'PATCH',
          url: `${url}?updateMask=${MASK.join(',')}`,
          body: {
            rotationPeriod: `${periodS}s`,
            nextRotationTime: `{time of the fix + at most ${periodS}s}`,
          },
        },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const key = keyOf(asset);
    const data = await read(ctx, key);
    return data ? { key, data } : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parse(rawBefore, 'before-state');
    const now = ctx.clock.now();
    const days = maxKeyAgeDays(ctx.settings);
    const guarded = await rereadBeforeApply(() => read(ctx, before.key), {
      refusal: (live) => {
        const refused = rotationRefusal(live);
        return refused && `crypto key ${before.key}: ${refused}`;
      },
      alreadyApplied: (live) =>
        rotatesOftenEnough(live, now, days) ? { key: before.key, data: live, unchanged: true } : undefined,
      asCaptured: (live) => rotationOf(live) === rotationOf(before.data),
      changedReason: (live) =>
        `the rotation of crypto key ${before.key} changed since it was captured (${rotationOf(before.data)} → ${rotationOf(live)})`,
    });
    if ('outcome' in guarded) return guarded.outcome;
    const r = await writeRotation(ctx, before.key, targetRotation(guarded.live, now, days));
    if (r === 'gone') return { status: 'gone' };
    const after = await read(ctx, before.key);
    if (!after) return { status: 'gone' };
    ctx.logger.info('crypto key rotation set', {
      action: ID,
      key: before.key,
      rotationPeriod: after['rotationPeriod'],
      nextRotationTime: after['nextRotationTime'],
    });
    return { status: 'applied', after: { key: before.key, data: after } };
  },

  async readLive(asset, ctx) {
    const data = await read(ctx, keyOf(asset));
    return data ? withLiveDataKeepingIam(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parse(rawBefore, 'before-state');
    const after = parse(rawAfter, 'after-state');
    if (after.unchanged) return { status: 'restored' };
    const guarded = await rereadBeforeUndo(() => read(ctx, before.key), {
      asFixLeftIt: (live) => rotationOf(live) === rotationOf(after.data),
      changedReason: (live) =>
        `the rotation of crypto key ${before.key} changed after the fix (${rotationOf(after.data)} → ${rotationOf(live)}); restoring would overwrite that change`,
      restored: (live) => rotationOf(live) === rotationOf(before.data),
    });
    if ('outcome' in guarded) return guarded.outcome;
    const r = await writeRotation(ctx, before.key, {
      periodS: periodSeconds(before.data['rotationPeriod']),
      nextMs: timeMs(before.data['nextRotationTime']),
    });
    if (r === 'gone') return { status: 'gone' };
    ctx.logger.info('crypto key rotation restored', { action: ID, key: before.key });
    return { status: 'restored' };
  },
};
