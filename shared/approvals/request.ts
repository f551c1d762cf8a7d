import { z } from 'zod';
import { RiskSchema } from '../model/policy.js';

export const VoteChoiceSchema = z.enum(['approve', 'reject']);
export type VoteChoice = z.infer<typeof VoteChoiceSchema>;

/** Where a decision was taken: kept with each vote and in the audit record. */
export const ViaSchema = z.enum(['slack', 'api', 'status-page', 'cli']);
export type Via = z.infer<typeof ViaSchema>;

export const CastVoteSchema = z.object({
  /** The person approvals.yaml knows the voter as. */
  person: z.string(),
  /** The identity they used (slack:U…, google:…, local). */
  identity: z.string(),
  vote: VoteChoiceSchema,
  reason: z.string().nullable(),
  at: z.string(),
  via: ViaSchema,
});
export type CastVote = z.infer<typeof CastVoteSchema>;

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
export const ApprovalStatusSchema = z.enum(APPROVAL_STATUSES);
export type ApprovalStatus = z.infer<typeof ApprovalStatusSchema>;

/**
 * One request for a human decision on one action (id = the action's id). Quorum, expiry, teams and
 * requester are fixed when it is made, so a later edit of approvals.yaml never changes a request under
 * way; who may vote is judged against the rules at the time of the vote.
 */
export const ApprovalRequestSchema = z.object({
  id: z.string(),
  actionId: z.string(),
  findingId: z.string(),
  risk: RiskSchema,
  /** The resource's project and its ancestors (nearest first): what team scoping is judged on. */
  scope: z.array(z.string()),
  teams: z.array(z.string()),
  /** Identity keys (or person:NAME) of whoever asked; `warden` when the engine did. Never approvers. */
  requester: z.array(z.string()).min(1),
  requiredApprovals: z.number().int().min(1),
  createdAt: z.string(),
  expiresAt: z.string(),
  status: ApprovalStatusSchema,
  votes: z.array(CastVoteSchema),
  decidedAt: z.string().nullable(),
  /** Why it ended: the rejection's reason, the expiry, or where the action went instead. */
  outcomeReason: z.string().nullable(),
  channel: z.string(),
  /** The Slack message, once posted (channel id and ts). */
  message: z.object({ channel: z.string(), ts: z.string() }).nullable(),
  /** When a poster claimed the right to post (so two deliveries do not both post). */
  messageClaimedAt: z.string().nullable(),
  messageError: z.string().nullable(),
  /** The revision the Slack message shows; behind `revision` means it must be updated. */
  renderedRevision: z.number().int(),
  /** A decision's follow-up (execute, outcome) has been published on the bus. */
  announced: z.boolean(),
  revision: z.number().int(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

export function isDecided(status: ApprovalStatus): boolean {
  return status !== 'pending';
}

/** Distinct people who approved (a person voting twice, by Slack and by the API, counts once). */
export function approversOf(r: Pick<ApprovalRequest, 'votes'>): string[] {
  return [...new Set(r.votes.filter((v) => v.vote === 'approve').map((v) => v.person))];
}
