import { identityKey, type Identity } from './identity.js';
import { approversOf, type ApprovalRequest, type CastVote, type VoteChoice, type Via } from './request.js';
import type { ApprovalRules } from './rules.js';

export const REFUSALS = [
  'not_an_approver',
  'self_approval',
  'already_voted',
  'expired',
  'already_decided',
  'reason_required',
] as const;
export type Refusal = (typeof REFUSALS)[number];

export interface VoteInput {
  voter: Identity;
  vote: VoteChoice;
  reason: string | null;
  via: Via;
}

export type VoteOutcome =
  | { kind: 'approved'; approvers: string[] }
  | { kind: 'rejected'; by: string; reason: string }
  | { kind: 'pending'; approvals: number; required: number }
  | { kind: 'refused'; reason: Refusal; detail: string };

export interface Judgement {
  outcome: VoteOutcome;
  /** The request after the vote; null when nothing changes. */
  next: ApprovalRequest | null;
}

/**
 * The approval rules, once, for every channel (Slack, the API, the status page, the CLI): a pure function of
 * the request as stored, one vote, the rules and the time. A refusal changes nothing; an expired request
 * fails closed (the caller records the expiry).
 */
export function judgeVote(
  request: ApprovalRequest,
  input: VoteInput,
  rules: ApprovalRules,
  now: Date,
  /** Authors of the change found since the request was made (identity keys); they are requesters too. */
  lateAuthors: readonly string[] = [],
): Judgement {
  const refuse = (reason: Refusal, detail: string): Judgement => ({
    outcome: { kind: 'refused', reason, detail },
    next: null,
  });
  if (request.status !== 'pending')
    return refuse(
      'already_decided',
      `this request is already ${request.status}${request.outcomeReason ? `: ${request.outcomeReason}` : ''}`,
    );
  const key = identityKey(input.voter);
  const person = rules.personOf(input.voter);
  if (!person) return refuse('not_an_approver', `${key} is not an approver in ${rules.source}`);
  if (!rules.canApprove(person, request.teams, request.risk)) {
    const teams = request.teams.length ? `team ${request.teams.join(', ')}` : 'resources outside every team';
    return refuse('not_an_approver', `${person} may not approve ${request.risk}-risk changes for ${teams}`);
  }
  // Judged after who is asking, so a stranger's click never records anything, not even the expiry.
  if (now.toISOString() >= request.expiresAt)
    return refuse('expired', `this request expired at ${request.expiresAt}; nothing was changed`);
  const mine = new Set([key, ...rules.keysOf(person)]);
  const isVoter = (r: string) => mine.has(r) || rules.personOf(r) === person;
  if (input.vote === 'approve' && request.requester.some(isVoter))
    return refuse('self_approval', `${person} requested this change and cannot approve it`);
  if (input.vote === 'approve' && lateAuthors.some(isVoter))
    return refuse('self_approval', `${person} made the change this fix answers and cannot approve it`);

  const previous = request.votes.find((v) => v.person === person);
  if (previous && (previous.vote === input.vote || previous.vote === 'reject'))
    return refuse('already_voted', `${person} already voted ${previous.vote} at ${previous.at}`);
  const reason = input.reason?.trim() || null;
  if (input.vote === 'reject' && !reason) return refuse('reason_required', 'a rejection needs a reason');

  const at = now.toISOString();
  const vote: CastVote = { person, identity: key, vote: input.vote, reason, at, via: input.via };
  const votes = [...request.votes, vote];
  const base = { ...request, votes, revision: request.revision + 1 };

  // One rejection vetoes, including one by an earlier approver who changed their mind.
  if (input.vote === 'reject') {
    return {
      outcome: { kind: 'rejected', by: person, reason: reason! },
      next: { ...base, status: 'rejected', decidedAt: at, outcomeReason: `rejected by ${person}: ${reason}` },
    };
  }
  const approvers = approversOf({ votes });
  if (approvers.length >= request.requiredApprovals) {
    return {
      outcome: { kind: 'approved', approvers },
      next: {
        ...base,
        status: 'approved',
        decidedAt: at,
        outcomeReason: `approved by ${approvers.join(', ')}`,
      },
    };
  }
  return {
    outcome: { kind: 'pending', approvals: approvers.length, required: request.requiredApprovals },
    next: base,
  };
}

/** The request past its expiry: expired, failing closed. Null if it is not pending or not yet due. */
export function expireIfDue(request: ApprovalRequest, now: Date): ApprovalRequest | null {
  if (request.status !== 'pending' || now.toISOString() < request.expiresAt) return null;
  return {
    ...request,
    status: 'expired',
    decidedAt: now.toISOString(),
    outcomeReason: `no decision by ${request.expiresAt}: nothing was changed`,
    revision: request.revision + 1,
  };
}
