import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Asset, IamPolicy } from '../model/asset.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import type { JsonObject } from './merge-patch.js';
import { parseBody } from './routes.js';

/**
 * The IAM policy mixin (google.iam.v1.IAMPolicy) as Resource Manager, Cloud KMS and Secret Manager serve
 * it, over the IAM_POLICY part of the twin's CAI assets (https://cloud.google.com/iam/docs/reference/rest/v1/Policy).
 *
 * - getIamPolicy takes `options.requestedPolicyVersion` (0, 1 or 3). A policy holding conditional bindings
 *   read below version 3 comes back as version 1 with each conditional role renamed `ROLE_withcond_HASH`
 *   and its condition dropped (IAM's documented v1 view), so a v1 read-modify-write can never succeed.
 * - setIamPolicy replaces the fields its `updateMask` names; with no mask the default is "bindings, etag",
 *   so auditConfigs in the body are silently ignored (catalog F5). A non-empty etag that is not the
 *   policy's current one answers 409 ABORTED; no etag is a blind overwrite (allowed, as by IAM: F6).
 *   Conditional bindings need version 3 (400 otherwise); bindings left without members are dropped; every
 *   write gives the policy a new etag and publishes an IAM_POLICY feed message.
 * - A resource that never had a policy set reads as `{version: 1, etag: "ACAB"}`, IAM's empty policy.
 */

/** The etag IAM gives a resource whose policy was never set (base64 of 0x00 0x20 0x01). */
export const EMPTY_POLICY_ETAG = 'ACAB';

const MEMBER =
  /^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|deleted:user|deleted:serviceAccount|deleted:group|principal|principalSet):.+)$/;
const ROLE = /^(roles\/[A-Za-z0-9_.]+|(projects|organizations)\/[^/]+\/roles\/[A-Za-z0-9_.]+)$/;
const LOG_TYPES = ['LOG_TYPE_UNSPECIFIED', 'ADMIN_READ', 'DATA_WRITE', 'DATA_READ'] as const;
type LogType = (typeof LOG_TYPES)[number];

/** gax's REST fallback sends enums as numbers ($alt=json;enum-encoding=int); Google accepts both. */
const LogTypeSchema = z
  .union([z.enum(LOG_TYPES), z.number().int().min(0).max(3)])
  .transform((v): LogType => (typeof v === 'number' ? (LOG_TYPES[v] as LogType) : v));

const BindingSchema = z.strictObject({
  role: z
    .string()
    .regex(ROLE, 'not a role name')
    .refine((r) => !r.includes('_withcond_'), 'a _withcond_ role is the v1 view of a conditional binding'),
  members: z.array(z.string().regex(MEMBER, 'not an IAM member identifier')).default([]),
  condition: z
    .strictObject({
      expression: z.string().min(1),
      title: z.string().optional(),
      description: z.string().optional(),
      location: z.string().optional(),
    })
    .optional(),
});

const AuditConfigSchema = z.strictObject({
  service: z.string().min(1),
  auditLogConfigs: z
    .array(
      z.strictObject({
        logType: LogTypeSchema,
        exemptedMembers: z.array(z.string().regex(MEMBER, 'not an IAM member identifier')).optional(),
      }),
    )
    .default([]),
});

const PolicySchema = z.strictObject({
  version: z.number().int().optional(),
  etag: z.string().optional(),
  bindings: z.array(BindingSchema).default([]),
  auditConfigs: z.array(AuditConfigSchema).default([]),
});

const SetIamPolicyBody = z.strictObject({
  policy: PolicySchema,
  updateMask: z.string().optional(),
});

const GetIamPolicyBody = z.strictObject({
  options: z.strictObject({ requestedPolicyVersion: z.number().int().optional() }).optional(),
});

/** Field mask paths of SetIamPolicyRequest.update_mask, in either JSON (camel) or proto (snake) spelling. */
const MASK_PATHS: Record<string, 'bindings' | 'etag' | 'auditConfigs' | 'version'> = {
  bindings: 'bindings',
  etag: 'etag',
  auditConfigs: 'auditConfigs',
  audit_configs: 'auditConfigs',
  version: 'version',
};

export interface IamPolicyOptions {
  nextIamEtag: () => string;
  /** Only Resource Manager resources (projects, folders, organizations) carry audit configs. */
  auditConfigs: boolean;
}

function sameEtag(a: string, b: string): boolean {
  return Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'));
}

function hasConditions(bindings: IamPolicy['bindings']): boolean {
  return bindings.some((b) => b.condition !== undefined);
}

/** The policy a resource holds: CAI's IAM_POLICY part, or IAM's empty policy. */
export function currentPolicy(asset: Asset): IamPolicy {
  return asset.iamPolicy ?? { version: 1, etag: EMPTY_POLICY_ETAG, bindings: [] };
}

/** `options.requestedPolicyVersion` of a getIamPolicy, from its JSON body (POST) or query (GET). */
export function requestedVersion(body: unknown, query?: URLSearchParams): number {
  let v: number | undefined;
  const raw = query?.get('options.requestedPolicyVersion');
  if (raw !== null && raw !== undefined) {
    if (!/^-?\d+$/.test(raw)) {
      throw new TwinHttpError(
        400,
        `Invalid value at 'options.requested_policy_version' (TYPE_INT32), "${raw}"`,
      );
    }
    v = Number(raw);
  } else {
    v = parseBody(GetIamPolicyBody, body, 'request').options?.requestedPolicyVersion;
  }
  const version = v ?? 0;
  if (![0, 1, 3].includes(version)) {
    throw new TwinHttpError(
      400,
      `Invalid requested policy version: ${version}. Valid values are 0, 1 and 3.`,
    );
  }
  return version;
}

function withcondRole(
  role: string,
  condition: NonNullable<IamPolicy['bindings'][number]['condition']>,
): string {
  const hash = createHash('sha256')
    .update(`${condition.title ?? ''}\n${condition.expression}`)
    .digest('hex')
    .slice(0, 20);
  return `${role}_withcond_${hash}`;
}

/** The Policy JSON getIamPolicy answers for `requested` (the version asked for). */
export function renderIamPolicy(policy: IamPolicy, requested: number): JsonObject {
  const conditional = hasConditions(policy.bindings);
  const downgraded = conditional && requested < 3;
  const bindings = policy.bindings.map((b) => {
    if (downgraded && b.condition)
      return { role: withcondRole(b.role, b.condition), members: [...b.members] };
    return structuredClone(b);
  });
  const out: JsonObject = {
    version: downgraded ? 1 : (policy.version ?? 1),
    etag: policy.etag ?? EMPTY_POLICY_ETAG,
  };
  if (bindings.length > 0) out['bindings'] = bindings;
  if (policy.auditConfigs && policy.auditConfigs.length > 0)
    out['auditConfigs'] = structuredClone(policy.auditConfigs);
  return out;
}

function maskOf(raw: string | undefined): Set<string> {
  if (raw === undefined || raw.trim() === '') return new Set(['bindings', 'etag']);
  const out = new Set<string>();
  for (const p of raw.split(',').map((s) => s.trim())) {
    const known = MASK_PATHS[p];
    if (!known) throw new TwinHttpError(400, `Invalid update_mask path: "${p}".`);
    out.add(known);
  }
  return out;
}

/** setIamPolicy on `asset`: validates, applies the mask and the etag precondition, publishes the change. */
export async function setIamPolicy(
  inv: Inventory,
  asset: Asset,
  rawBody: unknown,
  opts: IamPolicyOptions,
): Promise<JsonObject> {
  const body = parseBody(SetIamPolicyBody, rawBody, 'request');
  const mask = maskOf(body.updateMask);
  const current = currentPolicy(asset);
  const sent = body.policy;
  // "If the etag ... does not match, the request fails with a 409 error code and ABORTED status."
  if (
    sent.etag !== undefined &&
    sent.etag !== '' &&
    !sameEtag(sent.etag, current.etag ?? EMPTY_POLICY_ETAG)
  ) {
    throw new TwinHttpError(
      409,
      'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
      { reason: 'aborted' },
    );
  }
  const auditConfigs = mask.has('auditConfigs')
    ? sent.auditConfigs.map((c) => ({
        service: c.service,
        auditLogConfigs: c.auditLogConfigs.map((l) => {
          if (l.logType === 'LOG_TYPE_UNSPECIFIED') {
            throw new TwinHttpError(400, `Invalid log type LOG_TYPE_UNSPECIFIED for service ${c.service}.`);
          }
          return l.exemptedMembers && l.exemptedMembers.length > 0
            ? { logType: l.logType, exemptedMembers: [...l.exemptedMembers] }
            : { logType: l.logType };
        }),
      }))
    : (current.auditConfigs ?? []);
  if (!opts.auditConfigs && mask.has('auditConfigs') && auditConfigs.length > 0) {
    throw new TwinHttpError(400, 'Audit configs are not supported on this resource.');
  }
  // IAM drops bindings left without members.
  const bindings = mask.has('bindings')
    ? sent.bindings
        .filter((b) => b.members.length > 0)
        .map((b) => {
          const { location: _l, ...condition } = b.condition ?? { expression: '' };
          return b.condition
            ? { role: b.role, members: [...b.members], condition }
            : { role: b.role, members: [...b.members] };
        })
    : current.bindings;
  const version = mask.has('bindings')
    ? (sent.version ?? 1)
    : Math.max(current.version ?? 1, sent.version ?? 1);
  if (![1, 3].includes(version) && !(version === 0 && !hasConditions(bindings))) {
    throw new TwinHttpError(400, `Invalid policy version ${version}. Valid values are 0, 1 and 3.`);
  }
  if (hasConditions(bindings) && version < 3) {
    throw new TwinHttpError(
      400,
      'Conditional role bindings require policy version 3 (request and set version 3).',
    );
  }
  const next = await inv.change(asset.name, ['IAM_POLICY'], (a) => {
    const policy: IamPolicy = { version: version === 0 ? 1 : version, etag: opts.nextIamEtag(), bindings };
    if (auditConfigs.length > 0) policy.auditConfigs = auditConfigs;
    a.iamPolicy = policy;
  });
  return renderIamPolicy(currentPolicy(next), 3);
}

/** Someone else grants `role` to a user just before the call: the policy gets a new etag. */
export async function concurrentIamChange(
  inv: Inventory,
  asset: Asset,
  role: string,
  nextIamEtag: () => string,
): Promise<void> {
  await inv.change(asset.name, ['IAM_POLICY'], (a) => {
    const policy = structuredClone(currentPolicy(a));
    const member = 'user:someone-else@example.com';
    const binding = policy.bindings.find((b) => b.role === role && b.condition === undefined);
    if (binding) {
      if (!binding.members.includes(member)) binding.members.push(member);
    } else {
      policy.bindings.push({ role, members: [member] });
    }
    policy.etag = nextIamEtag();
    policy.version ??= 1;
    a.iamPolicy = policy;
  });
}
