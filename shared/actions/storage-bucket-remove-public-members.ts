import { z } from 'zod';
import type { Policy } from '@google-cloud/storage';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { isNotFound, isPreconditionFailed, toWardenError } from '../cloud/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import {
  BUCKET_TYPE,
  bucketNameOf,
  bucketUrl,
  getBucket,
  parseState,
  readLiveBucket,
} from './bucket-setting.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { IamBindingSchema } from './iam-binding-schema.js';

/** The two IAM principals that mean "anyone": allAuthenticatedUsers is any Google account, not the org's users. */
const PUBLIC_MEMBERS = new Set(['allusers', 'allauthenticatedusers']);

/** Matched case-insensitively, as the policies do: no other member identifier lower-cases to these. */
export function isPublicMember(member: string): boolean {
  return PUBLIC_MEMBERS.has(member.toLowerCase());
}

type Binding = z.infer<typeof IamBindingSchema>;

/** The bucket's IAM policy as read (before) or as written (after): what undo restores and compares with. */
const PolicyStateSchema = z.object({
  bucket: z.string(),
  etag: z.string(),
  version: z.number().int(),
  bindings: z.array(IamBindingSchema),
});
export type BucketPolicyState = z.infer<typeof PolicyStateSchema>;

function describe(bucket: string): string {
  return `bucket ${bucket}`;
}

function bindingsOf(policy: { bindings?: unknown }): Binding[] {
  const raw = Array.isArray(policy.bindings) ? (policy.bindings as unknown[]) : [];
  return raw.map((b) => {
    const r = (b ?? {}) as Record<string, unknown>;
    const binding: Binding = {
      role: String(r['role'] ?? ''),
      members: Array.isArray(r['members']) ? (r['members'] as unknown[]).map(String) : [],
    };
    const c = r['condition'] as Record<string, unknown> | undefined | null;
    if (c && typeof c === 'object') {
      binding.condition = { expression: String(c['expression'] ?? '') };
      if (typeof c['title'] === 'string' && c['title']) binding.condition.title = c['title'];
      if (typeof c['description'] === 'string' && c['description'])
        binding.condition.description = c['description'];
    }
    return binding;
  });
}

function publicMembersIn(bindings: readonly Binding[]): Binding[] {
  return bindings
    .map((b) => ({ ...b, members: b.members.filter(isPublicMember) }))
    .filter((b) => b.members.length > 0);
}

/** Every binding kept as it is, conditional ones included, minus the public members; emptied bindings dropped. */
function withoutPublicMembers(bindings: readonly Binding[]): Binding[] {
  return bindings
    .map((b) => ({ ...b, members: b.members.filter((m) => !isPublicMember(m)) }))
    .filter((b) => b.members.length > 0);
}

/** F6: a policy with conditional bindings is version 3 and must be written as version 3. */
function versionFor(version: number, bindings: readonly Binding[]): number {
  return bindings.some((b) => b.condition) ? Math.max(version, 3) : version;
}

/** buckets.getIamPolicy with optionsRequestedPolicyVersion=3, so conditional bindings are read, not refused. */
async function readPolicy(ctx: ActionContext, bucket: string): Promise<BucketPolicyState | null> {
  const storage = await ctx.cloud.storage();
  try {
    const [policy] = await storage.bucket(bucket).iam.getPolicy({ requestedPolicyVersion: 3 });
    return stateOf(bucket, policy);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading the IAM policy of bucket ${bucket}`);
  }
}

function stateOf(bucket: string, policy: Policy): BucketPolicyState {
  return {
    bucket,
    etag: String(policy.etag ?? ''),
    version: Number(policy.version ?? 1),
    bindings: bindingsOf(policy),
  };
}

/** buckets.setIamPolicy carrying the etag read: GCS answers 412 conditionNotMet when the policy changed since. */
async function writePolicy(
  ctx: ActionContext,
  bucket: string,
  policy: { bindings: Binding[]; etag: string; version: number },
): Promise<{ ok: true; state: BucketPolicyState } | { ok: false; why: 'precondition_failed' | 'gone' }> {
  const storage = await ctx.cloud.storage();
  try {
    const [written] = await storage.bucket(bucket).iam.setPolicy(policy);
    return { ok: true, state: stateOf(bucket, written) };
  } catch (err) {
    if (isPreconditionFailed(err)) return { ok: false, why: 'precondition_failed' };
    if (isNotFound(err)) return { ok: false, why: 'gone' };
    throw toWardenError(err, `setting the IAM policy of bucket ${bucket}`);
  }
}

function sameBindings(a: readonly Binding[], b: readonly Binding[]): boolean {
  const norm = (x: readonly Binding[]) =>
    x.map((y) => canonicalJson({ ...y, members: [...y.members].sort() })).sort();
  return canonicalJson(norm(a)) === canonicalJson(norm(b));
}

function papEnforced(bucket: Record<string, unknown>): boolean {
  const iam = bucket['iamConfiguration'] as { publicAccessPrevention?: unknown } | undefined;
  return String(iam?.publicAccessPrevention ?? '').toLowerCase() === 'enforced';
}

/**
 * Removes allUsers and allAuthenticatedUsers from every binding of a bucket's IAM policy
 * (storage-bucket-public-iam-members), keeping every other member and every conditional binding exactly as
 * it is: getIamPolicy (version 3) → setIamPolicy with the etag read, so a concurrent change makes GCS refuse
 * the write (412) and nothing is clobbered. Bucket and object ACLs are not touched (public access prevention
 * is the fix that covers those, storage-bucket-public). Undo puts back exactly the policy captured before,
 * guarded by the etag the fix left; GCS refuses public members while public access prevention is enforced
 * (412 conditionNotMet), so undo is refused, sending nothing, until prevention is lifted.
 */
export const bucketRemovePublicMembers: RemediationAction<BucketPolicyState> = {
  id: 'storage.bucket.remove-public-members',
  title: 'Remove allUsers and allAuthenticatedUsers from a Cloud Storage bucket IAM policy',
  risk: 'low',
  reversible: true,
  assetTypes: [BUCKET_TYPE],

  plan(asset: Asset, _settings: ActionSettings): Plan {
    const bucket = bucketNameOf(asset);
    const bindings = bindingsOf(asset.iamPolicy ?? {});
    const removed = publicMembersIn(bindings)
      .map((b) => `${b.members.join(', ')} from ${b.role}${b.condition ? ' (conditional)' : ''}`)
      .join('; ');
    const kept = withoutPublicMembers(bindings);
    return {
      description:
        `Remove the public members of the IAM policy of ${describe(bucket)} (${removed || 'none known yet'}), ` +
        'keeping every other member and conditional binding. The policy is re-read as version 3 right before ' +
        'the write, which carries its etag: GCS refuses it (412) if the policy changed meanwhile. Bucket and ' +
        'object ACLs are not changed. Anyone relying on anonymous or any-Google-account access loses it. ' +
        'Reversible: undo re-adds exactly the removed members if the policy is still as the fix left it and ' +
        'public access prevention is not enforced (GCS refuses public members while it is).',
      requests: [
        { method: 'GET', url: `${bucketUrl(bucket)}/iam?optionsRequestedPolicyVersion=3` },
        {
          method: 'PUT',
          url: `${bucketUrl(bucket)}/iam`,
          body: {
            bindings: kept,
            // The etag the GET returns; the asset's when CAI holds one (an empty etag would be unconditional).
            etag: asset.iamPolicy?.etag ? asset.iamPolicy.etag : '{etag}',
            version: versionFor(Number(asset.iamPolicy?.version ?? 1), kept),
          },
        },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    return readPolicy(ctx, bucketNameOf(asset));
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parseState(PolicyStateSchema, rawBefore, 'before-state');
    const live = await readPolicy(ctx, before.bucket);
    if (!live) return { status: 'gone' };
    if (publicMembersIn(live.bindings).length === 0) return { status: 'already_applied', after: live };
    if (live.etag !== before.etag) {
      return {
        status: 'conflict',
        reason: `the IAM policy of ${describe(before.bucket)} changed since it was captured (etag ${before.etag} → ${live.etag})`,
        stale: true,
      };
    }
    const bindings = withoutPublicMembers(live.bindings);
    const r = await writePolicy(ctx, before.bucket, {
      bindings,
      etag: live.etag,
      version: versionFor(live.version, bindings),
    });
    if (!r.ok) {
      if (r.why === 'gone') return { status: 'gone' };
      return {
        status: 'conflict',
        reason: `the IAM policy of ${describe(before.bucket)} changed while the fix was being sent (412 conditionNotMet on etag ${live.etag})`,
        stale: true,
      };
    }
    ctx.logger.info('public members removed from bucket IAM policy', {
      bucket: before.bucket,
      removed: publicMembersIn(live.bindings),
    });
    return { status: 'applied', after: r.state };
  },

  readLive: readLiveBucket,

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parseState(PolicyStateSchema, rawBefore, 'before-state');
    const after = parseState(PolicyStateSchema, rawAfter, 'after-state');
    const live = await readPolicy(ctx, before.bucket);
    if (!live) return { status: 'gone' };
    if (live.etag !== after.etag) {
      return {
        status: 'refused',
        reason: `the IAM policy of ${describe(before.bucket)} changed after the fix (etag ${after.etag} → ${live.etag}); restoring would overwrite that change`,
      };
    }
    if (sameBindings(live.bindings, before.bindings)) return { status: 'restored' };
    const data = await getBucket(ctx, before.bucket);
    if (!data) return { status: 'gone' };
    if (papEnforced(data)) {
      return {
        status: 'refused',
        reason: `public access prevention is enforced on ${describe(before.bucket)}: GCS refuses allUsers and allAuthenticatedUsers (412) until it is lifted, so the removed members cannot be re-added`,
      };
    }
    // The live policy is the one the fix wrote (same etag), so writing the captured bindings re-adds exactly
    // the removed members and changes nothing else.
    const r = await writePolicy(ctx, before.bucket, {
      bindings: before.bindings,
      etag: live.etag,
      version: versionFor(before.version, before.bindings),
    });
    if (!r.ok) {
      if (r.why === 'gone') return { status: 'gone' };
      // GCS answers the same 412 for a stale etag and for public members it refuses (the organization
      // policy storage.publicAccessPrevention): an unchanged etag says which.
      const now = await readPolicy(ctx, before.bucket);
      return {
        status: 'refused',
        reason:
          now && now.etag === live.etag
            ? `GCS refused to re-add public members to ${describe(before.bucket)} (412 conditionNotMet): public access prevention is enforced, on the bucket or by the organization policy storage.publicAccessPrevention`
            : `the IAM policy of ${describe(before.bucket)} changed while the undo was being sent (412)`,
      };
    }
    ctx.logger.info('public members restored to bucket IAM policy', { bucket: before.bucket });
    return { status: 'restored' };
  },
};
