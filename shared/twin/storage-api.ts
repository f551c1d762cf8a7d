import { z } from 'zod';
import type { Asset, IamPolicy } from '../model/asset.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import { isObject, mergePatch, type JsonObject } from './merge-patch.js';
import { intParam, parseBody, type ApiSurface, type RouteRequest } from './routes.js';

/**
 * Cloud Storage JSON API v1, the bucket calls Warden makes: buckets.get, buckets.patch,
 * buckets.getIamPolicy, buckets.setIamPolicy (https://cloud.google.com/storage/docs/json_api/v1/buckets).
 * buckets.patch checks what Warden's actions write: iamConfiguration (UBLA lock, public access prevention),
 * labels (GCS's key/value rules, at most 64), storageClass (current and legacy classes, the legacy ones only
 * where the location type allows them) and softDeletePolicy (0, or 7 to 90 days).
 */

const BUCKET = /^\/storage\/v1\/b\/([^/]+)$/;
const BUCKET_IAM = /^\/storage\/v1\/b\/([^/]+)\/iam$/;

/** GCS: UBLA "cannot be disabled after it has been active on a bucket for 90 consecutive days" (lockedTime). */
const UBLA_LOCK_MS = 90 * 24 * 3600 * 1000;

const UblaPatch = z.strictObject({ enabled: z.boolean().optional(), lockedTime: z.string().optional() });
const IamConfigurationPatch = z.strictObject({
  uniformBucketLevelAccess: UblaPatch.nullable().optional(),
  bucketPolicyOnly: UblaPatch.nullable().optional(),
  publicAccessPrevention: z.enum(['enforced', 'inherited', 'unspecified']).nullable().optional(),
});
/** GCS label rules: keys start with a lowercase (or international) letter; keys and values ≤ 63 characters. */
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const MAX_LABELS = 64;

/** Storage classes, current and legacy (catalog F3); the JSON API takes them in any case and returns capitals. */
const STORAGE_CLASSES = [
  'STANDARD',
  'NEARLINE',
  'COLDLINE',
  'ARCHIVE',
  'MULTI_REGIONAL',
  'REGIONAL',
  'DURABLE_REDUCED_AVAILABILITY',
] as const;

/** Soft delete retention: 0 turns it off, otherwise 7 to 90 days (the Bucket resource reference). */
const SOFT_DELETE_MIN_S = 7 * 24 * 3600;
const SOFT_DELETE_MAX_S = 90 * 24 * 3600;
const SoftDeletePolicyPatch = z.strictObject({
  // int64: a decimal string on the wire, a number from some clients.
  retentionDurationSeconds: z
    .union([z.string().regex(/^\d+$/, 'must be a whole number of seconds'), z.number().int().nonnegative()])
    .optional(),
  effectiveTime: z.string().optional(), // output only: ignored
});

/** Other bucket fields pass through with merge-patch semantics; the ones Warden's actions touch are checked. */
const BucketPatch = z.looseObject({
  name: z.string().optional(),
  location: z.string().optional(),
  labels: z
    .record(
      z.string().regex(LABEL_KEY, 'Label keys must start with a lowercase letter (max 63 characters).'),
      z
        .string()
        .regex(LABEL_VALUE, 'Label values must be lowercase letters, digits, _ or - (max 63).')
        .nullable(),
    )
    .nullable()
    .optional(),
  iamConfiguration: IamConfigurationPatch.nullable().optional(),
  versioning: z.strictObject({ enabled: z.boolean() }).nullable().optional(),
  storageClass: z
    .string()
    .transform((c) => c.toUpperCase())
    .pipe(z.enum(STORAGE_CLASSES))
    .optional(),
  softDeletePolicy: SoftDeletePolicyPatch.optional(),
});

/** Output-only fields: GCS ignores them in a patch body. */
const READ_ONLY = [
  'id',
  'kind',
  'etag',
  'metageneration',
  'projectNumber',
  'selfLink',
  'timeCreated',
  'updated',
];

const MEMBER =
  /^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|principal|principalSet|deleted:user|deleted:serviceAccount|deleted:group|projectOwner|projectEditor|projectViewer):.+)$/;
const IamPolicyBody = z.looseObject({
  version: z.number().int().min(0).max(3).optional(),
  etag: z.string().optional(),
  bindings: z
    .array(
      z.strictObject({
        role: z.string().regex(/^(roles\/|projects\/[^/]+\/roles\/|organizations\/[^/]+\/roles\/)/),
        members: z.array(z.string().regex(MEMBER, 'not an IAM member identifier')).default([]),
        condition: z
          .strictObject({
            expression: z.string(),
            title: z.string().optional(),
            description: z.string().optional(),
          })
          .optional(),
      }),
    )
    .default([]),
});

/** Bucket etags are the base64 of the protobuf varint field 1 = metageneration ("CAE=" for 1, "CAI=" for 2). */
export function protoCounterEtag(n: number): string {
  const bytes = [0x08];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes).toString('base64');
}

export function bucketAssetName(bucket: string): string {
  return `//storage.googleapis.com/${bucket}`;
}

function metagenerationOf(data: JsonObject): number {
  const m = Number(data['metageneration'] ?? 1);
  return Number.isFinite(m) && m > 0 ? m : 1;
}

/**
 * The bucket as the JSON API renders it: int64 fields as decimal strings (CAI data has numbers),
 * `iamConfiguration` always present with both UBLA spellings (`bucketPolicyOnly` is the legacy alias and
 * mirrors `uniformBucketLevelAccess`) and publicAccessPrevention defaulted to "inherited". The default
 * projection of buckets.get is noAcl (no acl, defaultObjectAcl, owner); patch defaults to full.
 */
function renderBucket(bucket: string, data: JsonObject, projection: 'full' | 'noAcl'): JsonObject {
  const out: JsonObject = { kind: 'storage#bucket', ...structuredClone(data) };
  out['id'] ??= bucket;
  out['name'] ??= bucket;
  out['selfLink'] ??= `https://www.googleapis.com/storage/v1/b/${bucket}`;
  const mg = metagenerationOf(data);
  out['metageneration'] = String(mg);
  out['etag'] = protoCounterEtag(mg);
  if (out['projectNumber'] !== undefined) out['projectNumber'] = String(out['projectNumber']);
  const rp = out['retentionPolicy'];
  if (isObject(rp) && rp['retentionPeriod'] !== undefined)
    rp['retentionPeriod'] = String(rp['retentionPeriod']);
  const sd = out['softDeletePolicy'];
  if (isObject(sd) && sd['retentionDurationSeconds'] !== undefined)
    sd['retentionDurationSeconds'] = String(sd['retentionDurationSeconds']);
  const iam: JsonObject = isObject(out['iamConfiguration']) ? out['iamConfiguration'] : {};
  const ubla = isObject(iam['uniformBucketLevelAccess'])
    ? iam['uniformBucketLevelAccess']
    : isObject(iam['bucketPolicyOnly'])
      ? iam['bucketPolicyOnly']
      : { enabled: false };
  iam['uniformBucketLevelAccess'] = structuredClone(ubla);
  iam['bucketPolicyOnly'] = structuredClone(ubla);
  const pap = iam['publicAccessPrevention'];
  iam['publicAccessPrevention'] = pap === undefined || pap === 'unspecified' ? 'inherited' : pap;
  out['iamConfiguration'] = iam;
  if (projection === 'noAcl') {
    delete out['acl'];
    delete out['defaultObjectAcl'];
    delete out['owner'];
  }
  return out;
}

function projectionOf(req: RouteRequest, dflt: 'full' | 'noAcl'): 'full' | 'noAcl' {
  const p = req.query.get('projection');
  if (p === null) return dflt;
  if (p === 'full' || p === 'noAcl') return p;
  throw new TwinHttpError(400, `Invalid value for parameter 'projection': '${p}'`, {
    reason: 'invalidParameter',
  });
}

function checkMetagenerationPreconditions(req: RouteRequest, current: number): void {
  const match = intParam(req.query, 'ifMetagenerationMatch');
  const notMatch = intParam(req.query, 'ifMetagenerationNotMatch');
  if (match !== undefined && match !== current) {
    throw new TwinHttpError(412, 'At least one of the pre-conditions you specified did not hold.');
  }
  if (notMatch !== undefined && notMatch === current) {
    throw new TwinHttpError(412, 'At least one of the pre-conditions you specified did not hold.');
  }
}

/** The stored iamConfiguration after a patch, with GCS's side effects on UBLA's lock. */
function nextIamConfiguration(
  current: unknown,
  patch: z.infer<typeof IamConfigurationPatch>,
  now: Date,
): JsonObject {
  const cur: JsonObject = isObject(current) ? structuredClone(current) : {};
  const curUbla = isObject(cur['uniformBucketLevelAccess'])
    ? cur['uniformBucketLevelAccess']
    : isObject(cur['bucketPolicyOnly'])
      ? cur['bucketPolicyOnly']
      : { enabled: false };
  const wasEnabled = curUbla['enabled'] === true;
  // Either spelling may be sent; the current one wins when both are.
  const requested = patch.uniformBucketLevelAccess ?? patch.bucketPolicyOnly;
  let ubla: JsonObject = structuredClone(curUbla);
  if (requested?.enabled === true && !wasEnabled) {
    ubla = { enabled: true, lockedTime: new Date(now.getTime() + UBLA_LOCK_MS).toISOString() };
  } else if (requested?.enabled === false && wasEnabled) {
    const locked = typeof curUbla['lockedTime'] === 'string' ? Date.parse(curUbla['lockedTime']) : NaN;
    if (Number.isFinite(locked) && now.getTime() >= locked) {
      throw new TwinHttpError(
        400,
        `Uniform bucket-level access cannot be disabled after its lockedTime (${String(curUbla['lockedTime'])}).`,
      );
    }
    ubla = { enabled: false };
  }
  const out: JsonObject = { ...cur, uniformBucketLevelAccess: ubla, bucketPolicyOnly: structuredClone(ubla) };
  if (patch.publicAccessPrevention !== undefined) {
    // "unspecified" is the value older clients show for "inherited"; GCS stores and returns "inherited".
    out['publicAccessPrevention'] =
      patch.publicAccessPrevention === null || patch.publicAccessPrevention === 'unspecified'
        ? 'inherited'
        : patch.publicAccessPrevention;
  }
  return out;
}

/** GCS refuses a class the bucket's location type cannot hold (MULTI_REGIONAL in a region, REGIONAL elsewhere). */
function checkStorageClass(storageClass: string, data: JsonObject): void {
  const type = String(data['locationType'] ?? '').toLowerCase();
  const fits =
    storageClass === 'MULTI_REGIONAL'
      ? type === '' || type === 'multi-region' || type === 'dual-region'
      : storageClass === 'REGIONAL'
        ? type === '' || type === 'region'
        : true;
  if (!fits) {
    throw new TwinHttpError(
      400,
      'The combination of locationConstraint and storageClass you provided is not supported for your project',
      { reason: 'invalid' },
    );
  }
}

/** The stored softDeletePolicy after a patch: the duration as a decimal string, effectiveTime set by GCS. */
function nextSoftDeletePolicy(
  current: unknown,
  patch: z.infer<typeof SoftDeletePolicyPatch>,
  now: Date,
): JsonObject {
  const cur: JsonObject = isObject(current) ? structuredClone(current) : {};
  if (patch.retentionDurationSeconds === undefined) return cur;
  const seconds = Number(patch.retentionDurationSeconds);
  if (seconds !== 0 && (seconds < SOFT_DELETE_MIN_S || seconds > SOFT_DELETE_MAX_S)) {
    throw new TwinHttpError(
      400,
      `Invalid value for field 'resource.softDeletePolicy.retentionDurationSeconds': '${String(patch.retentionDurationSeconds)}'. The retention duration must be 0 (soft delete off) or between 604800 (7 days) and 7776000 (90 days) seconds.`,
      { reason: 'invalid' },
    );
  }
  // Off has no effective time; effectiveTime stays while the retention is not increased ("the time from
  // which the policy, or one with a greater retention, was effective").
  if (seconds === 0) return { retentionDurationSeconds: '0' };
  const curSeconds = Number(cur['retentionDurationSeconds'] ?? 0);
  const effectiveTime =
    curSeconds >= seconds && typeof cur['effectiveTime'] === 'string'
      ? cur['effectiveTime']
      : now.toISOString();
  return { retentionDurationSeconds: String(seconds), effectiveTime };
}

function isPublicMember(member: string): boolean {
  return member === 'allUsers' || member === 'allAuthenticatedUsers';
}

function ublaEnabled(data: JsonObject): boolean {
  const iam = isObject(data['iamConfiguration']) ? data['iamConfiguration'] : {};
  const ubla = isObject(iam['uniformBucketLevelAccess'])
    ? iam['uniformBucketLevelAccess']
    : isObject(iam['bucketPolicyOnly'])
      ? iam['bucketPolicyOnly']
      : {};
  return ubla['enabled'] === true;
}

function papEnforced(data: JsonObject): boolean {
  const iam = isObject(data['iamConfiguration']) ? data['iamConfiguration'] : {};
  return String(iam['publicAccessPrevention'] ?? '').toLowerCase() === 'enforced';
}

function renderPolicy(bucket: string, policy: IamPolicy): JsonObject {
  return {
    kind: 'storage#policy',
    resourceId: `projects/_/buckets/${bucket}`,
    version: policy.version ?? 1,
    etag: policy.etag ?? '',
    bindings: structuredClone(policy.bindings),
  };
}

function hasConditions(policy: { bindings: Array<{ condition?: unknown }> }): boolean {
  return policy.bindings.some((b) => b.condition !== undefined);
}

export function storageApi(inv: Inventory, nextIamEtag: () => string): ApiSurface {
  // GCS always has a bucket policy (at least the legacy roles); give every bucket one with an etag, so
  // the read-modify-write guard of F6 has something to compare against.
  for (const asset of inv.all()) {
    if (asset.assetType !== 'storage.googleapis.com/Bucket') continue;
    asset.iamPolicy ??= { version: 1, bindings: [] };
    if (!asset.iamPolicy.etag) asset.iamPolicy.etag = nextIamEtag();
  }

  const bucketAsset = (bucket: string): Asset => {
    const asset = inv.get(bucketAssetName(bucket));
    if (!asset || asset.assetType !== 'storage.googleapis.com/Bucket') {
      throw new TwinHttpError(404, 'The specified bucket does not exist.');
    }
    return asset;
  };
  const dataOf = (asset: Asset): JsonObject => asset.resource?.data ?? {};

  return {
    routes: [
      {
        method: 'GET',
        pattern: BUCKET,
        async handle(req) {
          const bucket = req.params[0] as string;
          const data = dataOf(bucketAsset(bucket));
          const mg = metagenerationOf(data);
          checkMetagenerationPreconditions(req, mg);
          return { status: 200, body: renderBucket(bucket, data, projectionOf(req, 'noAcl')) };
        },
      },
      {
        method: 'PATCH',
        pattern: BUCKET,
        async handle(req) {
          const bucket = req.params[0] as string;
          const asset = bucketAsset(bucket);
          const data = dataOf(asset);
          const mg = metagenerationOf(data);
          checkMetagenerationPreconditions(req, mg);
          const body = parseBody(BucketPatch, req.body, 'resource');
          if (body.name !== undefined && body.name !== bucket) {
            throw new TwinHttpError(400, 'The bucket name in the body does not match the bucket in the URL.');
          }
          if (
            body.location !== undefined &&
            String(body.location).toUpperCase() !== String(data['location'] ?? '').toUpperCase()
          ) {
            throw new TwinHttpError(400, 'The location of a bucket cannot be changed.');
          }
          if (body.labels) {
            const names = new Set(Object.keys(isObject(data['labels']) ? data['labels'] : {}));
            for (const [k, v] of Object.entries(body.labels)) {
              if (v === null) names.delete(k);
              else names.add(k);
            }
            if (names.size > MAX_LABELS) {
              throw new TwinHttpError(400, `A bucket can have at most ${MAX_LABELS} labels.`, {
                reason: 'invalid',
              });
            }
          }
          if (body.storageClass !== undefined) checkStorageClass(body.storageClass, data);
          const patch: JsonObject = structuredClone(body);
          for (const f of READ_ONLY) delete patch[f];
          const iamPatch = body.iamConfiguration;
          delete patch['iamConfiguration'];
          delete patch['softDeletePolicy'];
          const now = inv.clock.now();
          const iamConfiguration =
            iamPatch === undefined
              ? undefined
              : nextIamConfiguration(data['iamConfiguration'], iamPatch ?? {}, now);
          const softDeletePolicy =
            body.softDeletePolicy === undefined
              ? undefined
              : nextSoftDeletePolicy(data['softDeletePolicy'], body.softDeletePolicy, now);
          const next = await inv.change(asset.name, ['RESOURCE'], (a) => {
            const merged = mergePatch(dataOf(a), patch) as JsonObject;
            if (iamConfiguration) merged['iamConfiguration'] = iamConfiguration;
            if (softDeletePolicy) merged['softDeletePolicy'] = softDeletePolicy;
            merged['metageneration'] = mg + 1;
            merged['etag'] = protoCounterEtag(mg + 1);
            merged['updated'] = now.toISOString();
            a.resource = { ...(a.resource ?? {}), data: merged };
          });
          return { status: 200, body: renderBucket(bucket, dataOf(next), projectionOf(req, 'full')) };
        },
      },
      {
        method: 'GET',
        pattern: BUCKET_IAM,
        async handle(req) {
          const bucket = req.params[0] as string;
          const policy = bucketAsset(bucket).iamPolicy ?? { bindings: [] };
          const requested = intParam(req.query, 'optionsRequestedPolicyVersion') ?? 1;
          // F6: a policy with conditions can only be read as version 3, so a v1 writer cannot drop them.
          if (requested < 3 && hasConditions(policy)) {
            throw new TwinHttpError(
              400,
              'The policy contains conditional role bindings; request it with optionsRequestedPolicyVersion=3.',
            );
          }
          return { status: 200, body: renderPolicy(bucket, policy) };
        },
      },
      {
        method: 'PUT',
        pattern: BUCKET_IAM,
        async handle(req) {
          const bucket = req.params[0] as string;
          const asset = bucketAsset(bucket);
          const body = parseBody(IamPolicyBody, req.body, 'policy');
          const current = asset.iamPolicy ?? { bindings: [] };
          if (body.etag !== undefined && body.etag !== '' && body.etag !== current.etag) {
            throw new TwinHttpError(412, 'At least one of the pre-conditions you specified did not hold.');
          }
          if (hasConditions(body) && (body.version ?? 1) < 3) {
            throw new TwinHttpError(400, 'Conditional role bindings require policy version 3.');
          }
          const data = dataOf(asset);
          // GCS: IAM Conditions on a bucket need uniform bucket-level access on as well as policy version 3.
          if (hasConditions(body) && !ublaEnabled(data)) {
            throw new TwinHttpError(
              400,
              'IAM conditions can only be used on buckets with uniform bucket-level access enabled.',
            );
          }
          // GCS answers this with 412 conditionNotMet (the same status as a stale etag).
          if (papEnforced(data) && body.bindings.some((b) => b.members.some(isPublicMember))) {
            throw new TwinHttpError(
              412,
              'The member bindings allUsers and allAuthenticatedUsers are not allowed since public access prevention is enforced.',
            );
          }
          // IAM drops bindings left without members.
          const bindings = body.bindings.filter((b) => b.members.length > 0);
          const next = await inv.change(asset.name, ['IAM_POLICY'], (a) => {
            a.iamPolicy = { version: body.version ?? current.version ?? 1, etag: nextIamEtag(), bindings };
          });
          return { status: 200, body: renderPolicy(bucket, next.iamPolicy as IamPolicy) };
        },
      },
    ],
    concurrentChanges: [
      {
        pattern: BUCKET_IAM,
        async apply(params) {
          const asset = bucketAsset(params[0] as string);
          await inv.change(asset.name, ['IAM_POLICY'], (a) => {
            const policy = a.iamPolicy ?? { bindings: [] };
            policy.bindings.push({
              role: 'roles/storage.objectViewer',
              members: ['user:someone-else@example.com'],
            });
            policy.etag = nextIamEtag();
            a.iamPolicy = policy;
          });
        },
      },
      {
        pattern: BUCKET,
        async apply(params) {
          const asset = bucketAsset(params[0] as string);
          const now = inv.now();
          await inv.change(asset.name, ['RESOURCE'], (a) => {
            const data = structuredClone(dataOf(a));
            const mg = metagenerationOf(data) + 1;
            const labels = isObject(data['labels']) ? data['labels'] : {};
            data['labels'] = { ...labels, 'changed-by': `someone-else-${mg}` };
            data['metageneration'] = mg;
            data['etag'] = protoCounterEtag(mg);
            data['updated'] = now;
            a.resource = { ...(a.resource ?? {}), data };
          });
        },
      },
    ],
  };
}
