import { z } from 'zod';
import { ActionStateSchema, DecisionSchema, PlanSchema } from '../model/action.js';
import { RiskSchema } from '../model/policy.js';
import { ApprovalStatusSchema, VoteChoiceSchema, ViaSchema } from '../approvals/request.js';
import { REFUSALS } from '../approvals/judge.js';

/** Every error the API returns: a stable machine code and a sentence for people. */
export const ERROR_CODES = [
  'unauthenticated',
  'forbidden',
  'not_an_approver',
  'self_approval',
  'not_found',
  'method_not_allowed',
  'invalid_body',
  'invalid_query',
  'invalid_page_token',
  'unsupported_media_type',
  'payload_too_large',
  'already_voted',
  'already_decided',
  'expired',
  'reason_required',
  'not_rollbackable',
  'refused',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const ErrorSchema = z
  .object({ error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }) })
  .meta({ id: 'Error' });

const Scope = z
  .string()
  .regex(/^(folders|projects)\/[a-z0-9-]+$/)
  .describe('projects/ID-or-NUMBER or folders/NUMBER');

export const RemediateBodySchema = z
  .union([
    z.object({ findingId: z.string().min(1) }).strict(),
    z.object({ resourceName: z.string().regex(/^\/\/[a-z0-9.-]+\.googleapis\.com\/.+/) }).strict(),
  ])
  .meta({ id: 'RemediateRequest', description: 'A finding by id, or a resource by its full CAI name' });

export const ScopeBodySchema = z.object({ scope: Scope }).strict().meta({ id: 'SweepScopeRequest' });

export const SweepAcceptedSchema = z
  .object({
    sweepId: z.string(),
    scope: z.string(),
    category: z.enum(['all', 'compliance', 'cost', 'security']),
  })
  .meta({ id: 'SweepAccepted' });

export const ActionViewSchema = z
  .object({
    id: z.string(),
    findingId: z.string(),
    policyId: z.string(),
    actionType: z.string(),
    resourceName: z.string(),
    assetType: z.string(),
    project: z.string().nullable(),
    state: ActionStateSchema,
    decision: DecisionSchema,
    plan: PlanSchema,
    reversible: z.boolean(),
    error: z.object({ message: z.string(), retryable: z.boolean(), code: z.string().optional() }).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Action' });

export const ActionListQuerySchema = z
  .object({
    state: ActionStateSchema.optional(),
    project: z
      .string()
      .regex(/^projects\/[a-z0-9-]+$/)
      .optional(),
    policy: z.string().min(1).optional(),
    since: z.iso.datetime().optional().describe('updated at or after (RFC 3339)'),
    until: z.iso.datetime().optional().describe('updated before (RFC 3339)'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    pageToken: z.string().optional(),
  })
  .strict();

export const ActionPageSchema = z
  .object({ actions: z.array(ActionViewSchema), nextPageToken: z.string().nullable() })
  .meta({ id: 'ActionPage' });

export const ApprovalViewSchema = z
  .object({
    id: z.string(),
    actionId: z.string(),
    status: ApprovalStatusSchema,
    risk: RiskSchema,
    teams: z.array(z.string()),
    requester: z.array(z.string()),
    requiredApprovals: z.number().int(),
    approvals: z.number().int(),
    votes: z.array(
      z.object({
        person: z.string(),
        vote: VoteChoiceSchema,
        reason: z.string().nullable(),
        at: z.string(),
        via: ViaSchema,
      }),
    ),
    createdAt: z.string(),
    expiresAt: z.string(),
    decidedAt: z.string().nullable(),
    outcomeReason: z.string().nullable(),
    slackMessage: z.object({ channel: z.string(), ts: z.string() }).nullable(),
  })
  .meta({ id: 'Approval' });

export const ApprovalListQuerySchema = z
  .object({
    status: ApprovalStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export const ApprovalListSchema = z
  .object({ approvals: z.array(ApprovalViewSchema) })
  .meta({ id: 'ApprovalList' });

export const ApproveBodySchema = z
  .object({ reason: z.string().max(1000).optional() })
  .strict()
  .meta({ id: 'ApproveRequest' });
export const RejectBodySchema = z
  .object({ reason: z.string().trim().min(1).max(1000) })
  .strict()
  .meta({ id: 'RejectRequest' });

export const DecisionResultSchema = z
  .object({
    outcome: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('approved'), approvers: z.array(z.string()) }),
      z.object({ kind: z.literal('rejected'), by: z.string(), reason: z.string() }),
      z.object({ kind: z.literal('pending'), approvals: z.number().int(), required: z.number().int() }),
    ]),
    approval: ApprovalViewSchema,
  })
  .meta({ id: 'DecisionResult' });

export const RollbackBodySchema = z.object({ reason: z.string().trim().min(1).max(1000) }).strict();
export const RollbackResultSchema = z
  .object({ status: z.literal('rolled_back'), action: ActionViewSchema })
  .meta({ id: 'RollbackResult' });

export const RollbackRequestedSchema = z
  .object({ status: z.literal('requested'), action: ActionViewSchema })
  .meta({ id: 'RollbackRequested' });

export const StatusSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    mode: z.enum(['embedded', 'production']),
    time: z.string(),
    checks: z.object({ store: z.enum(['ok', 'error']) }),
    dryRun: z.boolean(),
    /** Work waiting, by where it waits; null when the store cannot be read. */
    queues: z
      .object({
        awaitingApproval: z.number().int(),
        approved: z.number().int(),
        planned: z.number().int(),
        executing: z.number().int(),
        pendingApprovals: z.number().int(),
        deadLetters: z.number().int(),
      })
      .nullable(),
    lastSweep: z
      .object({
        sweepId: z.string(),
        scope: z.string(),
        startedAt: z.string(),
        finishedAt: z.string(),
        assets: z.number().int(),
        violations: z.number().int(),
      })
      .nullable(),
    guardrails: z.array(z.record(z.string(), z.unknown())),
    breakers: z.array(z.record(z.string(), z.unknown())),
  })
  .meta({ id: 'Status' });

export const RefusalSchema = z.enum(REFUSALS);
