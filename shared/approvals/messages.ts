import { z } from 'zod';
import { ActionEventSchema } from '../model/events.js';
import { VoteChoiceSchema } from './request.js';

/** A Slack click or modal submission, verified by the interactivity endpoint and handed on to be decided. */
export const VoteTaskSchema = z.object({
  kind: z.literal('vote'),
  approvalId: z.string().min(1),
  slackUserId: z.string().min(1),
  vote: VoteChoiceSchema,
  reason: z.string().nullable(),
  /** Where to show the voter an ephemeral explanation if the vote is refused. */
  channel: z.string().nullable(),
});
export type VoteTask = z.infer<typeof VoteTaskSchema>;

/**
 * What the approval-requests topic carries: an action to ask about (from assess-risk), a verified Slack
 * vote (from the interactivity endpoint, which must answer Slack within 3 seconds), and the scheduled
 * tick and daily digest (Cloud Scheduler). All are idempotent.
 */
export const ApprovalTopicMessageSchema = z.discriminatedUnion('kind', [
  ActionEventSchema,
  z.object({ kind: z.literal('interaction'), task: VoteTaskSchema }),
  z.object({ kind: z.literal('tick') }),
  z.object({ kind: z.literal('digest') }),
]);
export type ApprovalTopicMessage = z.infer<typeof ApprovalTopicMessageSchema>;
