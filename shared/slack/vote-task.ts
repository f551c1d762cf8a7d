import { castVote, type VoteResult } from '../approvals/cast-vote.js';
import type { ApprovalDeps } from '../approvals/deps.js';
import type { Refusal } from '../approvals/judge.js';
import type { VoteTask } from '../approvals/messages.js';

const EXPLAIN: Record<Refusal | 'not_found', string> = {
  not_an_approver: 'You are not an approver for this change',
  self_approval: 'You asked for this change (or made the change that led to it), so you cannot approve it',
  already_voted: 'You have already voted on this request',
  expired: 'This request has expired',
  already_decided: 'This request has already been decided',
  reason_required: 'A rejection needs a reason: click Reject again to give one',
  not_found: 'Warden has no such approval request',
};

/** What a refused voter is told (only they see it): the rule, the detail, and that nothing changed. */
export function refusalText(result: VoteResult): string | null {
  if (result.outcome.kind === 'not_found') return `${EXPLAIN.not_found}. Nothing was changed.`;
  if (result.outcome.kind !== 'refused') return null;
  return `${EXPLAIN[result.outcome.reason]} (${result.outcome.detail}). Nothing was changed.`;
}

/**
 * Decides a verified Slack vote. The message itself is updated by castVote; a refused voter gets an
 * ephemeral explanation in the request's channel.
 */
export async function runVoteTask(deps: ApprovalDeps, task: VoteTask): Promise<VoteResult> {
  const result = await castVote(deps, {
    approvalId: task.approvalId,
    voter: { kind: 'slack', userId: task.slackUserId },
    vote: task.vote,
    reason: task.reason,
    via: 'slack',
  });
  const text = refusalText(result);
  const channel = task.channel ?? result.request?.message?.channel ?? result.request?.channel ?? null;
  if (text && deps.chat && channel) {
    try {
      await deps.chat.postEphemeral({ channel, user: task.slackUserId, text });
    } catch (err) {
      deps.core.logger.warn('could not explain a refused vote', {
        approvalId: task.approvalId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return result;
}
