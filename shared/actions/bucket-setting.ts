import { z } from 'zod';
import type { BucketMetadata } from '@google-cloud/storage';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import type { Risk } from '../model/policy.js';
import { isNotFound, isPreconditionFailed, toWardenError } from '../cloud/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { parseRecordedState } from './recorded-state.js';

export const STORAGE_API = 'https://storage.googleapis.com/storage/v1';
export const BUCKET_TYPE = 'storage.googleapis.com/Bucket';

export type BucketJson = Record<string, unknown>;

/**
 * One bucket setting, read from and written to the bucket resource. Every write carries
 * `ifMetagenerationMatch` (GCS answers 412 conditionNotMet when the bucket's metadata changed since), so
 * nobody's concurrent change is overwritten.
 */
export interface BucketSettingSpec<V extends string | boolean> {
  id: string;
  title: string;
  risk: Risk;
  valueSchema: z.ZodType<V>;
  /** The setting as the live bucket (REST JSON) has it. */
  read(bucket: BucketJson): V;
  fixed: V;
  /** The buckets.patch body that sets the value. */
  body(value: V): BucketMetadata;
  describe(bucket: string): string;
  /** Why undo cannot happen any more on this live bucket (then nothing is sent). */
  undoBlockedBy?(live: BucketJson, now: Date): string | undefined;
}

export function bucketBeforeSchema<V>(value: z.ZodType<V>) {
  return z.object({
    bucket: z.string(),
    metageneration: z.string(),
    value,
    /** The bucket resource as read, kept for the audit record. */
    data: z.record(z.string(), z.unknown()),
  });
}
export interface BucketBefore<V> {
  bucket: string;
  metageneration: string;
  value: V;
  data: Record<string, unknown>;
}

const BucketAfterSchema = z.object({ bucket: z.string(), metageneration: z.string() });
export type BucketAfter = z.infer<typeof BucketAfterSchema>;

export function bucketNameOf(asset: Asset): string {
  const m = /^\/\/storage\.googleapis\.com\/([^/]+)$/.exec(asset.name);
  if (m?.[1]) return m[1];
  throw new WardenError(`${asset.name} is not a Cloud Storage bucket`, {
    retryable: false,
    code: 'not_applicable',
  });
}

export function bucketUrl(bucket: string): string {
  return `${STORAGE_API}/b/${encodeURIComponent(bucket)}`;
}

export function metagenerationOf(data: BucketJson): string {
  return String(data['metageneration'] ?? '');
}

/** buckets.get with projection=full, so the live resource has every field CAI's resource.data has. */
export async function getBucket(ctx: ActionContext, bucket: string): Promise<BucketJson | null> {
  const storage = await ctx.cloud.storage();
  try {
    const [data] = await storage.bucket(bucket).getMetadata({ projection: 'full' });
    return data as BucketJson;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading bucket ${bucket}`);
  }
}

/** buckets.patch guarded by the metageneration; `precondition_failed` when the bucket changed meanwhile. */
async function patchBucket(
  ctx: ActionContext,
  bucket: string,
  body: BucketMetadata,
  metageneration: string,
): Promise<{ ok: true; data: BucketJson } | { ok: false; why: 'precondition_failed' | 'gone' }> {
  const storage = await ctx.cloud.storage();
  try {
    const [data] = await storage.bucket(bucket).setMetadata(body, { ifMetagenerationMatch: metageneration });
    return { ok: true, data: data as BucketJson };
  } catch (err) {
    if (isPreconditionFailed(err)) return { ok: false, why: 'precondition_failed' };
    if (isNotFound(err)) return { ok: false, why: 'gone' };
    throw toWardenError(err, `patching bucket ${bucket}`);
  }
}

/** The live bucket as a CAI-shaped asset: the resource and its IAM policy read as version 3 (catalog F6). */
export async function readLiveBucket(asset: Asset, ctx: ActionContext): Promise<Asset | null> {
  const bucket = bucketNameOf(asset);
  const data = await getBucket(ctx, bucket);
  if (!data) return null;
  const storage = await ctx.cloud.storage();
  let policy;
  try {
    [policy] = await storage.bucket(bucket).iam.getPolicy({ requestedPolicyVersion: 3 });
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading the IAM policy of bucket ${bucket}`);
  }
  const live: Asset = {
    name: asset.name,
    assetType: asset.assetType,
    ancestors: [...asset.ancestors],
    resource: { ...(asset.resource ?? {}), data },
    iamPolicy: {
      bindings: policy.bindings.map((b) => ({
        role: b.role,
        members: [...b.members],
        ...(b.condition
          ? {
              condition: {
                expression: String(b.condition.expression ?? ''),
                ...(b.condition.title ? { title: String(b.condition.title) } : {}),
                ...(b.condition.description ? { description: String(b.condition.description) } : {}),
              },
            }
          : {}),
      })),
      ...(policy.version !== undefined ? { version: policy.version } : {}),
      ...(policy.etag !== undefined ? { etag: policy.etag } : {}),
    },
  };
  return live;
}

export const parseState = parseRecordedState;

/**
 * A bucket setting read from and written to the bucket resource, in its general form: whether the live value
 * is already the fix, the patch that fixes it and the patch that restores the value captured before.
 * buckets.patch has JSON merge-patch semantics (objects merge, `null` removes a key), so a body names only
 * what it changes and leaves every other field, and every other label, as it is.
 */
export interface BucketPatchSpec<V> {
  id: string;
  title: string;
  risk: Risk;
  valueSchema: z.ZodType<V>;
  /** The setting as the bucket (REST JSON, or CAI data) has it. */
  read(bucket: BucketJson): V;
  /** The value already is the fix: nothing is sent and apply answers already_applied. */
  isFixed(value: V, settings: ActionSettings): boolean;
  /** The buckets.patch body that fixes a bucket whose setting is `value`. */
  fixBody(value: V, settings: ActionSettings): BucketMetadata;
  /** The buckets.patch body that puts `before` back on a bucket whose setting is now `live` (what apply left). */
  restoreBody(before: V, live: V): BucketMetadata;
  describe(bucket: string, data: BucketJson, settings: ActionSettings): string;
  /** Why undo cannot happen any more on this live bucket (then nothing is sent). */
  undoBlockedBy?(live: BucketJson, now: Date): string | undefined;
}

function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function bucketSettingAction<V extends string | boolean>(
  spec: BucketSettingSpec<V>,
): RemediationAction<BucketBefore<V>> {
  const general: BucketPatchSpec<V> = {
    id: spec.id,
    title: spec.title,
    risk: spec.risk,
    valueSchema: spec.valueSchema,
    read: spec.read,
    isFixed: (value) => value === spec.fixed,
    fixBody: () => spec.body(spec.fixed),
    restoreBody: (before) => spec.body(before),
    describe: (bucket) => spec.describe(bucket),
  };
  if (spec.undoBlockedBy) general.undoBlockedBy = spec.undoBlockedBy;
  return bucketPatchAction(general);
}

export function bucketPatchAction<V>(spec: BucketPatchSpec<V>): RemediationAction<BucketBefore<V>> {
  const beforeSchema = bucketBeforeSchema(spec.valueSchema);
  return {
    id: spec.id,
    title: spec.title,
    risk: spec.risk,
    reversible: true,
    assetTypes: [BUCKET_TYPE],

    plan(asset: Asset, settings: ActionSettings): Plan {
      const bucket = bucketNameOf(asset);
      const data = asset.resource?.data ?? {};
      const mg = data['metageneration'];
      const guard = mg === undefined ? '' : `?ifMetagenerationMatch=${String(mg)}`;
      return {
        description: spec.describe(bucket, data, settings),
        requests: [
          { method: 'GET', url: `${bucketUrl(bucket)}?projection=full` },
          {
            method: 'PATCH',
            url: `${bucketUrl(bucket)}${guard}`,
            body: spec.fixBody(spec.read(data), settings),
          },
        ],
      };
    },

    async captureBefore(asset, ctx) {
      const bucket = bucketNameOf(asset);
      const data = await getBucket(ctx, bucket);
      if (!data) return null;
      return { bucket, metageneration: metagenerationOf(data), value: spec.read(data), data };
    },

    async apply(asset, rawBefore, ctx): Promise<ApplyOutcome> {
      const before = parseState(beforeSchema, rawBefore, 'before-state') as BucketBefore<V>;
      const live = await getBucket(ctx, before.bucket);
      if (!live) return { status: 'gone' };
      const liveMg = metagenerationOf(live);
      const value = spec.read(live);
      if (spec.isFixed(value, ctx.settings)) {
        const after: BucketAfter = { bucket: before.bucket, metageneration: liveMg };
        return { status: 'already_applied', after };
      }
      if (liveMg !== before.metageneration) {
        return {
          status: 'conflict',
          reason: `bucket ${before.bucket} changed since its state was captured (metageneration ${before.metageneration} → ${liveMg})`,
          stale: true,
        };
      }
      const r = await patchBucket(
        ctx,
        before.bucket,
        spec.fixBody(value, ctx.settings),
        before.metageneration,
      );
      if (!r.ok) {
        if (r.why === 'gone') return { status: 'gone' };
        return {
          status: 'conflict',
          reason: `bucket ${before.bucket} changed while the fix was being sent (412 conditionNotMet on metageneration ${before.metageneration})`,
          stale: true,
        };
      }
      ctx.logger.info('bucket patched', {
        action: spec.id,
        bucket: before.bucket,
        metageneration: metagenerationOf(r.data),
      });
      const after: BucketAfter = { bucket: before.bucket, metageneration: metagenerationOf(r.data) };
      return { status: 'applied', after };
    },

    readLive: readLiveBucket,

    async undo(asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
      const before = parseState(beforeSchema, rawBefore, 'before-state') as BucketBefore<V>;
      const after = parseState(BucketAfterSchema, rawAfter, 'after-state');
      const live = await getBucket(ctx, before.bucket);
      if (!live) return { status: 'gone' };
      const liveMg = metagenerationOf(live);
      if (liveMg !== after.metageneration) {
        return {
          status: 'refused',
          reason: `bucket ${before.bucket} changed after the fix (metageneration ${after.metageneration} → ${liveMg}); restoring would overwrite that change`,
        };
      }
      const value = spec.read(live);
      if (sameValue(value, before.value)) return { status: 'restored' };
      const blocked = spec.undoBlockedBy?.(live, ctx.clock.now());
      if (blocked) return { status: 'refused', reason: blocked };
      const r = await patchBucket(
        ctx,
        before.bucket,
        spec.restoreBody(before.value, value),
        after.metageneration,
      );
      if (!r.ok) {
        if (r.why === 'gone') return { status: 'gone' };
        return {
          status: 'refused',
          reason: `bucket ${before.bucket} changed while the undo was being sent (412)`,
        };
      }
      ctx.logger.info('bucket setting restored', { action: spec.id, bucket: before.bucket });
      return { status: 'restored' };
    },
  };
}
