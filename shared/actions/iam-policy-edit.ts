import { z } from 'zod';
import type { Plan, PlannedRequest } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import type { Risk } from '../model/policy.js';
import { describeCloudError, isNotFound, toWardenError } from '../cloud/errors.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { parseRecordedState } from './recorded-state.js';
import { rereadBeforeUndo } from './guarded-write.js';
import { IamBindingSchema, IamConditionSchema } from './iam-binding-schema.js';

/**
 * The one read-modify-write of IAM policies every IAM remediation here shares (catalog F6): Resource Manager
 * projects, folders and organizations, Cloud KMS key rings and crypto keys, Secret Manager secrets.
 *
 * - Read with `requestedPolicyVersion: 3`, so conditional bindings come back whole (a lower version renames
 *   them `ROLE_withcond_HASH` and drops their conditions), and write `version: 3`, so they survive.
 * - Write the whole policy with the etag read and an updateMask naming only what the action changes
 *   (`bindings,etag`, or `auditConfigs,etag` for audit logs: without the mask setIamPolicy applies the
 *   default "bindings, etag" and silently drops auditConfigs, catalog F5). A policy changed by anyone
 *   since the read fails the write with 409 ABORTED: reported as a conflict, nothing overwritten.
 * - apply compares the live etag with the captured one before writing; undo writes only when the live
 *   etag is still the one apply left, and restores just the part the action changed.
 *
 * KMS IAM goes through ctx.cloud.kmsIam(): the KMS client's own getIamPolicy is sent as a POST that KMS
 * does not route (googleapis/gax-nodejs#1462).
 */

export const RM_API = 'https://cloudresourcemanager.googleapis.com/v3';
export const KMS_API = 'https://cloudkms.googleapis.com/v1';
export const SM_API = 'https://secretmanager.googleapis.com/v1';

export const PROJECT_TYPE = 'cloudresourcemanager.googleapis.com/Project';
export const FOLDER_TYPE = 'cloudresourcemanager.googleapis.com/Folder';
export const ORGANIZATION_TYPE = 'cloudresourcemanager.googleapis.com/Organization';
export const KEY_RING_TYPE = 'cloudkms.googleapis.com/KeyRing';
export const CRYPTO_KEY_TYPE = 'cloudkms.googleapis.com/CryptoKey';
export const SECRET_TYPE = 'secretmanager.googleapis.com/Secret';

const LOG_TYPES = ['LOG_TYPE_UNSPECIFIED', 'ADMIN_READ', 'DATA_WRITE', 'DATA_READ'] as const;

const AuditConfigSchema = z.object({
  service: z.string(),
  auditLogConfigs: z.array(
    z.object({ logType: z.enum(LOG_TYPES), exemptedMembers: z.array(z.string()).optional() }),
  ),
});
/** An IAM policy as CAI holds it (asset.iamPolicy), the etag in its base64 REST spelling. */
export const PolicySchema = z.object({
  version: z.number().int(),
  etag: z.string(),
  bindings: z.array(IamBindingSchema),
  auditConfigs: z.array(AuditConfigSchema).optional(),
});
export type Policy = z.infer<typeof PolicySchema>;
export type Binding = z.infer<typeof IamBindingSchema>;
export type AuditConfig = z.infer<typeof AuditConfigSchema>;
export type LogType = (typeof LOG_TYPES)[number];

const TargetSchema = z.object({
  kind: z.enum(['project', 'folder', 'organization', 'keyRing', 'cryptoKey', 'secret']),
  /** The API's resource name: projects/123, folders/1, projects/p/locations/l/keyRings/r[/cryptoKeys/k], … */
  resource: z.string(),
});
export type IamTarget = z.infer<typeof TargetSchema>;
export type IamKind = IamTarget['kind'];

/** One member's grant of one role (and condition), as a removal took it out of the policy. */
const GrantSchema = z.object({
  role: z.string(),
  condition: IamConditionSchema.optional(),
  member: z.string(),
  /** Where the binding stood in the policy, so that undo puts a binding IAM dropped back in its place. */
  bindingIndex: z.number().int(),
  /** Where the member stood in the binding, so that undo puts it back in its place. */
  memberIndex: z.number().int().optional(),
});
export type Grant = z.infer<typeof GrantSchema>;

const StateSchema = z.object({
  target: TargetSchema,
  policy: PolicySchema,
  /** The grants the fix takes out (member removals only): undo re-adds exactly these. */
  removed: z.array(GrantSchema).optional(),
  /** After-state of an apply that found the policy already fixed and sent nothing: undo has nothing to do. */
  unchanged: z.literal(true).optional(),
});
export type IamState = z.infer<typeof StateSchema>;

type Json = Record<string, unknown>;

/**
 * A deep copy made with the JSON functions of this module's own realm. structuredClone is a host function:
 * under jest's VM contexts its copies belong to another realm, and the CEL evaluator rejects their arrays and
 * objects ("Unsupported type"); the policies are plain JSON anyway.
 */
export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

const ASSET_PATTERNS: ReadonlyArray<{ kind: IamKind; type: string; re: RegExp }> = [
  {
    kind: 'project',
    type: PROJECT_TYPE,
    re: /^\/\/cloudresourcemanager\.googleapis\.com\/(projects\/[^/]+)$/,
  },
  { kind: 'folder', type: FOLDER_TYPE, re: /^\/\/cloudresourcemanager\.googleapis\.com\/(folders\/[^/]+)$/ },
  {
    kind: 'organization',
    type: ORGANIZATION_TYPE,
    re: /^\/\/cloudresourcemanager\.googleapis\.com\/(organizations\/[^/]+)$/,
  },
  {
    kind: 'keyRing',
    type: KEY_RING_TYPE,
    re: /^\/\/cloudkms\.googleapis\.com\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+)$/,
  },
  {
    kind: 'cryptoKey',
    type: CRYPTO_KEY_TYPE,
    re: /^\/\/cloudkms\.googleapis\.com\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+)$/,
  },
  {
    kind: 'secret',
    type: SECRET_TYPE,
    re: /^\/\/secretmanager\.googleapis\.com\/(projects\/[^/]+\/secrets\/[^/]+)$/,
  },
];

/** The IAM resource an asset names (its type must be one the action handles). */
export function iamTargetOf(asset: Asset, assetTypes: readonly string[]): IamTarget {
  for (const p of ASSET_PATTERNS) {
    if (p.type !== asset.assetType || !assetTypes.includes(p.type)) continue;
    const m = p.re.exec(asset.name);
    if (m?.[1]) return { kind: p.kind, resource: m[1] };
  }
  throw new WardenError(
    `${asset.name} (${asset.assetType}) is not a resource whose IAM policy this action edits`,
    {
      retryable: false,
      code: 'not_applicable',
    },
  );
}

export function targetLabel(t: IamTarget): string {
  const what: Record<IamKind, string> = {
    project: 'project',
    folder: 'folder',
    organization: 'organization',
    keyRing: 'KMS key ring',
    cryptoKey: 'KMS crypto key',
    secret: 'secret',
  };
  return `the IAM policy of ${what[t.kind]} ${t.resource}`;
}

function isRm(t: IamTarget): boolean {
  return t.kind === 'project' || t.kind === 'folder' || t.kind === 'organization';
}

/** The REST calls, for plans: RM and KMS/Secret Manager spell getIamPolicy differently (POST vs GET). */
export function iamRequests(t: IamTarget, policy: Json, updateMask: string): PlannedRequest[] {
  if (isRm(t)) {
    return [
      {
        method: 'POST',
        url: `${RM_API}/${t.resource}:getIamPolicy`,
        body: { options: { requestedPolicyVersion: 3 } },
      },
      { method: 'POST', url: `${RM_API}/${t.resource}:setIamPolicy`, body: { policy, updateMask } },
    ];
  }
  const base = t.kind === 'secret' ? SM_API : KMS_API;
  return [
    { method: 'GET', url: `${base}/${t.resource}:getIamPolicy?options.requestedPolicyVersion=3` },
    { method: 'POST', url: `${base}/${t.resource}:setIamPolicy`, body: { policy, updateMask } },
  ];
}

// ---- the policy as the clients carry it ----------------------------------------------------------------

function rec(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/** bytes fields: gax decodes base64 into a Buffer; REST JSON (kmsIam) keeps the base64 string. */
function etagString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return '';
}

function logTypeName(v: unknown): LogType {
  if (typeof v === 'number') return LOG_TYPES[v] ?? 'LOG_TYPE_UNSPECIFIED';
  return (LOG_TYPES as readonly string[]).includes(String(v)) ? (v as LogType) : 'LOG_TYPE_UNSPECIFIED';
}

/**
 * A policy as a client returned it, in CAI's shape: gax's protobuf decoding adds `condition: null`, empty
 * strings for unset condition fields and `[]` for unset lists, which REST and CAI omit.
 */
export function policyOf(raw: unknown): Policy {
  const p = rec(raw) ?? {};
  const bindings: Binding[] = (Array.isArray(p['bindings']) ? p['bindings'] : []).map((x) => {
    const b = rec(x) ?? {};
    const binding: Binding = {
      role: String(b['role'] ?? ''),
      members: (Array.isArray(b['members']) ? b['members'] : []).map(String),
    };
    const c = rec(b['condition']);
    if (c && typeof c['expression'] === 'string' && c['expression'] !== '') {
      const condition: Binding['condition'] = { expression: c['expression'] };
      if (typeof c['title'] === 'string' && c['title'] !== '') condition.title = c['title'];
      if (typeof c['description'] === 'string' && c['description'] !== '')
        condition.description = c['description'];
      binding.condition = condition;
    }
    return binding;
  });
  const auditConfigs: AuditConfig[] = (Array.isArray(p['auditConfigs']) ? p['auditConfigs'] : []).map((x) => {
    const c = rec(x) ?? {};
    return {
      service: String(c['service'] ?? ''),
      auditLogConfigs: (Array.isArray(c['auditLogConfigs']) ? c['auditLogConfigs'] : []).map((y) => {
        const l = rec(y) ?? {};
        const exempted = Array.isArray(l['exemptedMembers']) ? l['exemptedMembers'].map(String) : [];
        const logType = logTypeName(l['logType']);
        return exempted.length > 0 ? { logType, exemptedMembers: exempted } : { logType };
      }),
    };
  });
  const out: Policy = { version: Number(p['version'] ?? 0), etag: etagString(p['etag']), bindings };
  if (auditConfigs.length > 0) out.auditConfigs = auditConfigs;
  return out;
}

/** The policy as it is written: version 3, so conditional bindings are kept (F6). */
export function policyBody(policy: Policy): Json {
  const out: Json = { version: 3, etag: policy.etag, bindings: clone(policy.bindings) };
  if (policy.auditConfigs && policy.auditConfigs.length > 0) out['auditConfigs'] = clone(policy.auditConfigs);
  return out;
}

/** The asset's CAI policy (what the plan is computed from), or an empty one with a placeholder etag. */
export function assetPolicy(asset: Asset): Policy {
  const p = asset.iamPolicy;
  const out: Policy = {
    version: p?.version ?? 1,
    etag: p?.etag && p.etag !== '' ? p.etag : '{etag}',
    bindings: clone(p?.bindings ?? []),
  };
  if (p?.auditConfigs && p.auditConfigs.length > 0) out.auditConfigs = clone(p.auditConfigs);
  return out;
}

function conditionKey(c: Binding['condition']): string {
  return c ? JSON.stringify([c.expression, c.title ?? '', c.description ?? '']) : '';
}

/** A comparable form of the bindings: IAM does not promise an order of bindings or members. */
export function bindingsKey(bindings: readonly Binding[]): string {
  return JSON.stringify(
    bindings
      .filter((b) => b.members.length > 0)
      .map((b) => [b.role, conditionKey(b.condition), [...b.members].sort()])
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
  );
}

export function auditConfigsKey(configs: readonly AuditConfig[] | undefined): string {
  return JSON.stringify(
    (configs ?? [])
      .map((c) => [
        c.service,
        c.auditLogConfigs
          .map((l) => [l.logType, [...(l.exemptedMembers ?? [])].sort()])
          .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
      ])
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
  );
}

// ---- member removal and re-adding ----------------------------------------------------------------------

/** Takes every member `memberMatches` out of every binding whose role `roleMatches`; empty bindings go. */
export function removeMembers(
  policy: Policy,
  roleMatches: (role: string) => boolean,
  memberMatches: (member: string) => boolean,
): { policy: Policy; removed: Grant[] } {
  const removed: Grant[] = [];
  const bindings: Binding[] = [];
  policy.bindings.forEach((b, bindingIndex) => {
    if (!roleMatches(b.role)) {
      bindings.push(clone(b));
      return;
    }
    const keep = b.members.filter((m) => !memberMatches(m));
    b.members.forEach((member, memberIndex) => {
      if (!memberMatches(member)) return;
      const g: Grant = { role: b.role, member, bindingIndex, memberIndex };
      if (b.condition) g.condition = clone(b.condition);
      removed.push(g);
    });
    if (keep.length > 0) bindings.push({ ...clone(b), members: keep });
  });
  return { policy: { ...clone(policy), bindings }, removed };
}

/** Puts `grants` back: into their binding (same role and condition) or a new one where it stood. */
export function readdGrants(policy: Policy, grants: readonly Grant[]): Policy {
  const bindings = clone(policy.bindings);
  for (const g of grants) {
    const b = bindings.find(
      (x) => x.role === g.role && conditionKey(x.condition) === conditionKey(g.condition),
    );
    if (b) {
      if (!b.members.includes(g.member))
        b.members.splice(Math.min(g.memberIndex ?? b.members.length, b.members.length), 0, g.member);
      continue;
    }
    const created: Binding = { role: g.role, members: [g.member] };
    if (g.condition) created.condition = clone(g.condition);
    bindings.splice(Math.min(g.bindingIndex, bindings.length), 0, created);
  }
  return { ...clone(policy), bindings };
}

export function describeGrants(grants: readonly Grant[]): string {
  return grants
    .map(
      (g) =>
        `${g.member} from ${g.role}${g.condition ? ` (condition "${g.condition.title ?? g.condition.expression}")` : ''}`,
    )
    .join('; ');
}

// ---- reading and writing -------------------------------------------------------------------------------

function isAborted(err: unknown): boolean {
  const info = describeCloudError(err);
  return info.httpStatus === 409 || info.status === 'ABORTED';
}

/** The live policy, or null when the resource is gone (Resource Manager answers 403 instead: thrown). */
export async function readPolicy(ctx: ActionContext, t: IamTarget): Promise<Policy | null> {
  const request = { resource: t.resource, options: { requestedPolicyVersion: 3 } };
  try {
    switch (t.kind) {
      case 'project': {
        const projects = await ctx.cloud.resourceManager('ProjectsClient');
        const [p] = await projects.getIamPolicy(request);
        return policyOf(p);
      }
      case 'folder': {
        const folders = await ctx.cloud.resourceManager('FoldersClient');
        const [p] = await folders.getIamPolicy(request);
        return policyOf(p);
      }
      case 'organization': {
        const organizations = await ctx.cloud.resourceManager('OrganizationsClient');
        const [p] = await organizations.getIamPolicy(request);
        return policyOf(p);
      }
      case 'keyRing':
      case 'cryptoKey': {
        const kmsIam = await ctx.cloud.kmsIam();
        return policyOf(await kmsIam.getIamPolicy(t.resource));
      }
      case 'secret': {
        const secrets = await ctx.cloud.secretManager('SecretManagerServiceClient');
        const [p] = await secrets.getIamPolicy(request);
        return policyOf(p);
      }
    }
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading ${targetLabel(t)}`);
  }
}

export type WriteOutcome = { status: 'ok'; policy: Policy } | { status: 'stale' } | { status: 'gone' };

/** setIamPolicy with the policy's etag and `paths` as updateMask; 409 ABORTED (stale etag) → 'stale'. */
export async function writePolicy(
  ctx: ActionContext,
  t: IamTarget,
  policy: Policy,
  paths: readonly string[],
): Promise<WriteOutcome> {
  const body = policyBody(policy);
  // gax serializes the policy's bytes etag from a Buffer; REST (kmsIam) takes the base64 string.
  const gaxPolicy = { ...body, etag: Buffer.from(policy.etag, 'base64') };
  const updateMask = { paths: [...paths] };
  try {
    switch (t.kind) {
      case 'project': {
        const projects = await ctx.cloud.resourceManager('ProjectsClient');
        const [p] = await projects.setIamPolicy({ resource: t.resource, policy: gaxPolicy, updateMask });
        return { status: 'ok', policy: policyOf(p) };
      }
      case 'folder': {
        const folders = await ctx.cloud.resourceManager('FoldersClient');
        const [p] = await folders.setIamPolicy({ resource: t.resource, policy: gaxPolicy, updateMask });
        return { status: 'ok', policy: policyOf(p) };
      }
      case 'organization': {
        const organizations = await ctx.cloud.resourceManager('OrganizationsClient');
        const [p] = await organizations.setIamPolicy({ resource: t.resource, policy: gaxPolicy, updateMask });
        return { status: 'ok', policy: policyOf(p) };
      }
      case 'keyRing':
      case 'cryptoKey': {
        // Reads and writes of KMS IAM go through the same documented REST calls (see kms-iam.ts).
        const kmsIam = await ctx.cloud.kmsIam();
        const p = await kmsIam.setIamPolicy(t.resource, body, paths.join(','));
        return { status: 'ok', policy: policyOf(p) };
      }
      case 'secret': {
        const secrets = await ctx.cloud.secretManager('SecretManagerServiceClient');
        const [p] = await secrets.setIamPolicy({ resource: t.resource, policy: gaxPolicy, updateMask });
        return { status: 'ok', policy: policyOf(p) };
      }
    }
  } catch (err) {
    if (isAborted(err)) return { status: 'stale' };
    if (isNotFound(err)) return { status: 'gone' };
    throw toWardenError(err, `setting ${targetLabel(t)}`);
  }
}

export function parseIamState(value: unknown, what: string): IamState {
  return parseRecordedState(StateSchema, value, what);
}

/** The asset with its IAM_POLICY part replaced by the live policy, as CAI would show it. */
export function withPolicy(asset: Asset, policy: Policy): Asset {
  const iamPolicy: NonNullable<Asset['iamPolicy']> = {
    version: policy.version,
    etag: policy.etag,
    bindings: clone(policy.bindings),
  };
  if (policy.auditConfigs) iamPolicy.auditConfigs = clone(policy.auditConfigs);
  const out: Asset = {
    name: asset.name,
    assetType: asset.assetType,
    ancestors: [...asset.ancestors],
    iamPolicy,
  };
  if (asset.resource) out.resource = clone(asset.resource);
  return out;
}

// ---- the action --------------------------------------------------------------------------------------

/** What one IAM policy remediation decides; the read-modify-write around it is iamPolicyAction's. */
export interface IamEditSpec {
  id: string;
  title: string;
  risk: Risk;
  assetTypes: readonly string[];
  /** The setIamPolicy updateMask: only these parts of the policy are written. */
  mask: readonly ['bindings', 'etag'] | readonly ['auditConfigs', 'etag'];
  /** The fixed policy and a line per change; null when the policy already passes. */
  fix(
    policy: Policy,
    settings: ActionSettings,
  ): { policy: Policy; changes: string[]; removed?: Grant[] } | null;
  /** Why this policy must not be changed by the action (reported as a conflict, nothing sent), if so. */
  refusal?(policy: Policy): string | undefined;
  /** The policy undo writes: `live` (as apply left it) with the before-state of the masked part back. */
  restore(before: IamState, after: IamState, live: Policy): Policy;
  /** The plan's description, from the target and the changes the asset's own policy calls for. */
  describe(t: IamTarget, changes: string[]): string;
}

function sameMaskedPart(spec: IamEditSpec, a: Policy, b: Policy): boolean {
  return spec.mask[0] === 'bindings'
    ? bindingsKey(a.bindings) === bindingsKey(b.bindings)
    : auditConfigsKey(a.auditConfigs) === auditConfigsKey(b.auditConfigs);
}

export function iamPolicyAction(spec: IamEditSpec): RemediationAction<IamState> {
  const targetOf = (asset: Asset): IamTarget => iamTargetOf(asset, spec.assetTypes);
  const mask = spec.mask.join(',');

  return {
    id: spec.id,
    title: spec.title,
    risk: spec.risk,
    reversible: true,
    assetTypes: spec.assetTypes,

    plan(asset: Asset, settings: ActionSettings): Plan {
      const t = targetOf(asset);
      const policy = assetPolicy(asset);
      const fixed = spec.fix(policy, settings);
      return {
        description: spec.describe(t, fixed?.changes ?? []),
        requests: iamRequests(t, policyBody(fixed?.policy ?? policy), mask),
      };
    },

    async captureBefore(asset, ctx) {
      const t = targetOf(asset);
      const policy = await readPolicy(ctx, t);
      if (!policy) return null;
      const state: IamState = { target: t, policy };
      const removed = spec.fix(policy, ctx.settings)?.removed;
      if (removed) state.removed = removed;
      return state;
    },

    async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
      const before = parseIamState(rawBefore, 'before-state');
      const t = before.target;
      const live = await readPolicy(ctx, t);
      if (!live) return { status: 'gone' };
      const refused = spec.refusal?.(live);
      if (refused) return { status: 'conflict', reason: `${targetLabel(t)}: ${refused}` };
      const fixed = spec.fix(live, ctx.settings);
      if (!fixed) return { status: 'already_applied', after: { target: t, policy: live, unchanged: true } };
      if (live.etag !== before.policy.etag) {
        return {
          status: 'conflict',
          reason: `${targetLabel(t)} changed since it was captured (etag ${before.policy.etag} → ${live.etag})`,
          stale: true,
        };
      }
      const r = await writePolicy(ctx, t, fixed.policy, spec.mask);
      if (r.status === 'gone') return { status: 'gone' };
      if (r.status === 'stale') {
        return {
          status: 'conflict',
          reason: `${targetLabel(t)} changed while the fix was being sent (409 ABORTED on etag ${live.etag}); nothing was overwritten`,
          stale: true,
        };
      }
      ctx.logger.info('IAM policy changed', {
        action: spec.id,
        resource: t.resource,
        changes: fixed.changes,
      });
      const after: IamState = { target: t, policy: r.policy };
      if (fixed.removed) after.removed = fixed.removed;
      return { status: 'applied', after };
    },

    async readLive(asset, ctx) {
      const policy = await readPolicy(ctx, targetOf(asset));
      return policy ? withPolicy(asset, policy) : null;
    },

    async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
      const before = parseIamState(rawBefore, 'before-state');
      const after = parseIamState(rawAfter, 'after-state');
      const t = before.target;
      // apply found the policy already fixed by someone else and sent nothing: there is nothing of ours to undo.
      if (after.unchanged) return { status: 'restored' };
      const guarded = await rereadBeforeUndo(() => readPolicy(ctx, t), {
        asFixLeftIt: (live) => live.etag === after.policy.etag,
        changedReason: (live) =>
          `${targetLabel(t)} changed after the fix (etag ${after.policy.etag} → ${live.etag}); restoring would overwrite that change`,
      });
      if ('outcome' in guarded) return guarded.outcome;
      const { live } = guarded;
      const restored = spec.restore(before, after, live);
      if (!sameMaskedPart(spec, restored, before.policy)) {
        return {
          status: 'refused',
          reason: `${targetLabel(t)} cannot be put back exactly as it was before the fix`,
        };
      }
      if (sameMaskedPart(spec, restored, live)) return { status: 'restored' };
      const r = await writePolicy(ctx, t, restored, spec.mask);
      if (r.status === 'gone') return { status: 'gone' };
      if (r.status === 'stale') {
        return {
          status: 'refused',
          reason: `${targetLabel(t)} changed while the undo was being sent (409 ABORTED)`,
        };
      }
      ctx.logger.info('IAM policy restored', { action: spec.id, resource: t.resource });
      return { status: 'restored' };
    },
  };
}

// ---- member predicates, mirroring the policies' CEL ----------------------------------------------------

export const PUBLIC_MEMBERS = ['allUsers', 'allAuthenticatedUsers'] as const;

/** `m in ["allUsers", "allAuthenticatedUsers"]` (kms-*-public, secret-public). */
export function isPublicMember(m: string): boolean {
  return (PUBLIC_MEMBERS as readonly string[]).includes(m);
}

/** The member removal spec shared by the remove-members actions: remove, record, re-add on undo. */
export function removeMembersSpec(
  spec: Omit<IamEditSpec, 'mask' | 'fix' | 'restore'> & {
    roleMatches: (role: string) => boolean;
    memberMatches: (member: string) => boolean;
  },
): IamEditSpec {
  return {
    ...spec,
    mask: ['bindings', 'etag'],
    fix(policy) {
      const r = removeMembers(policy, spec.roleMatches, spec.memberMatches);
      if (r.removed.length === 0) return null;
      return {
        policy: r.policy,
        removed: r.removed,
        changes: r.removed.map((g) => describeGrants([g])),
      };
    },
    restore(before, after, live) {
      return readdGrants(live, after.removed ?? before.removed ?? []);
    },
  };
}
