import { z } from 'zod';
import { RiskSchema } from './policy.js';

/** The closed set of action states (design §4). */
export const ACTION_STATES = [
  'planned',
  'awaiting_approval',
  'approved',
  'executing',
  'succeeded',
  'verified',
  'rejected',
  'expired',
  'recommended',
  'suppressed',
  'failed',
  'rolled_back',
] as const;
export const ActionStateSchema = z.enum(ACTION_STATES);
export type ActionState = z.infer<typeof ActionStateSchema>;

export const TERMINAL_STATES: readonly ActionState[] = [
  'verified',
  'rejected',
  'expired',
  'recommended',
  'suppressed',
  'failed',
  'rolled_back',
];

export const DecisionKindSchema = z.enum(['auto', 'approve', 'recommend', 'suppress']);
export type DecisionKind = z.infer<typeof DecisionKindSchema>;

/** One factor that moved the decision, kept so that every decision explains itself. */
export const DecisionFactorSchema = z.object({ factor: z.string(), effect: z.string() });

export const DecisionSchema = z.object({
  kind: DecisionKindSchema,
  risk: RiskSchema,
  factors: z.array(DecisionFactorSchema),
  dryRun: z.boolean(),
});
export type Decision = z.infer<typeof DecisionSchema>;

/** An exact API request an action will make: shown in plans, approvals and dry runs. */
export const PlannedRequestSchema = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  url: z.string(),
  body: z.unknown().optional(),
});
export type PlannedRequest = z.infer<typeof PlannedRequestSchema>;

export const PlanSchema = z.object({
  description: z.string(),
  requests: z.array(PlannedRequestSchema),
});
export type Plan = z.infer<typeof PlanSchema>;

/** Where execution got to, so that a crashed executor resumes instead of applying twice. */
export const ExecutionStepSchema = z.enum([
  'none',
  'before_captured',
  'applied',
  'operation_done',
  'verified',
]);

/**
 * A remediation of one finding. id = hash(findingId, actionType, assetVersion): the same change seen
 * twice yields the same action, so redelivery never creates a second one.
 */
export const ActionSchema = z.object({
  id: z.string(),
  findingId: z.string(),
  policyId: z.string(),
  actionType: z.string(),
  resourceName: z.string(),
  assetType: z.string(),
  project: z.string().nullable(),
  assetVersion: z.string(),
  state: ActionStateSchema,
  decision: DecisionSchema,
  plan: PlanSchema,
  reversible: z.boolean(),
  step: ExecutionStepSchema,
  /** Resource state captured before apply, enough for undo. */
  beforeState: z.unknown().nullable(),
  afterState: z.unknown().nullable(),
  error: z.object({ message: z.string(), retryable: z.boolean(), code: z.string().optional() }).nullable(),
  attempts: z.number().int(),
  /** The identity key of the person who asked for this run (the automation API), if anyone did. */
  requestedBy: z.string().nullable().default(null),
  /** Fresh captures after a precondition failure; one is allowed (actions stored before it have none). */
  replans: z.number().int().nonnegative().default(0),
  leaseUntil: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Bumped by every transition: the compare-and-set token. */
  revision: z.number().int(),
});
export type Action = z.infer<typeof ActionSchema>;
