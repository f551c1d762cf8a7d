import type { AuditEntry } from '../engine/audit-chain.js';
import { changeAuthorsOf } from './change-authors.js';
import type { ApprovalDeps } from './deps.js';
import { identityKey } from './identity.js';
import { expireIfDue, judgeVote, type VoteInput, type VoteOutcome } from './judge.js';
import { openRequest } from './open-request.js';
import { approversOf, type ApprovalRequest } from './request.js';
import { renderRequest, settle } from './settle.js';

export type VoteResult =
  | { outcome: VoteOutcome; request: ApprovalRequest }
  | { outcome: { kind: 'not_found'; detail: string }; request: null };

/**
 * One vote, from any channel: judged by the one rule function inside a transaction (so a double click, a
 * retry or two approvers at once are serialised and counted once), audited with who and why; a decision
 * then moves the action and updates the Slack message. A refusal changes nothing.
 */
export async function castVote(
  deps: ApprovalDeps,
  input: VoteInput & { approvalId: string },
): Promise<VoteResult> {
  const opened = await openRequest(deps, input.approvalId);
  if (opened.status === 'not_found' || (opened.status === 'not_awaiting' && !opened.request))
    return {
      outcome: { kind: 'not_found', detail: `no approval request ${input.approvalId}` },
      request: null,
    };
  const id = opened.request!.id;
  if (opened.request!.status === 'pending' && opened.action.state !== 'awaiting_approval')
    await withdraw(deps, id, `the action is now ${opened.action.state}`);

  const key = identityKey(input.voter);
  // Read before the transaction, which reads only the request. An audit entry landing between this read and
  // the vote is missed by this vote alone: entries arrive seconds after a change, votes minutes after.
  const authors = await changeAuthorsOf(
    deps,
    opened.action,
    await deps.core.repo.getFinding(opened.action.findingId),
  );
  const judged = await deps.approvals.change<{ outcome: VoteOutcome; request: ApprovalRequest }>(
    id,
    (current, now) => {
      const request = current!;
      const { outcome, next } = judgeVote(request, input, deps.rules, now, authors);
      if (outcome.kind === 'refused') {
        const expired = outcome.reason === 'expired' ? expireIfDue(request, now) : null;
        if (!expired) return { result: { outcome, request } };
        return {
          result: { outcome, request: expired },
          next: expired,
          audit: [expiryAudit(expired)],
        };
      }
      const decided = next!;
      const audit: AuditEntry[] = [
        {
          actor: key,
          kind: 'approval.vote',
          subject: id,
          after: {
            vote: input.vote,
            via: input.via,
            approvals: approversOf(decided).length,
            required: decided.requiredApprovals,
          },
          reason: decided.votes.at(-1)?.reason ?? `${input.vote} via ${input.via}`,
        },
      ];
      if (decided.status !== 'pending')
        audit.push({
          actor: key,
          kind: `approval.${decided.status}`,
          subject: id,
          reason: decided.outcomeReason ?? '',
        });
      return { result: { outcome, request: decided }, next: decided, audit };
    },
  );

  if (judged.outcome.kind === 'refused')
    deps.core.logger.warn('vote refused', {
      approvalId: id,
      identity: key,
      via: input.via,
      refusal: judged.outcome.reason,
      detail: judged.outcome.detail,
    });
  if (judged.request.status !== 'pending') await settle(deps, judged.request);
  await renderRequest(deps, id);
  return judged;
}

export function expiryAudit(expired: ApprovalRequest): AuditEntry {
  return {
    actor: 'approval-expiry',
    kind: 'approval.expired',
    subject: expired.id,
    after: { approvals: approversOf(expired).length, required: expired.requiredApprovals },
    reason: expired.outcomeReason ?? 'expired',
  };
}

/** The action no longer waits for this request (its finding was resolved, it was superseded): close it. */
export async function withdraw(deps: ApprovalDeps, id: string, reason: string): Promise<boolean> {
  return deps.approvals.change(id, (current, now) => {
    if (!current || current.status !== 'pending') return { result: false };
    const next: ApprovalRequest = {
      ...current,
      status: 'cancelled',
      decidedAt: now.toISOString(),
      outcomeReason: reason,
      // Nothing to announce: the action went its own way.
      announced: true,
      revision: current.revision + 1,
    };
    return {
      result: true,
      next,
      audit: [{ actor: 'approval', kind: 'approval.cancelled', subject: id, reason }],
    };
  });
}
