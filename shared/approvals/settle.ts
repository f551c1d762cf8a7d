import type { Deps } from '../engine/deps.js';
import type { OutcomeEvent } from '../model/events.js';
import { approvalMessage } from '../slack/approval-message.js';
import type { ApprovalStore } from './approval-store.js';
import type { ApprovalDeps } from './deps.js';
import type { ApprovalRequest } from './request.js';

const TARGET: Partial<Record<ApprovalRequest['status'], 'approved' | 'rejected' | 'expired'>> = {
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
};

export interface SettleDeps {
  core: Deps;
  approvals: ApprovalStore;
  liveBus: boolean;
}

/**
 * Brings the action in line with a decided request (awaiting_approval → approved / rejected / expired,
 * compare-and-set, audited with who and why), then announces it: an approved action goes to the executor,
 * a rejected or expired one to the report as its outcome. Safe to repeat: a second call finds the action
 * moved and the announcement made.
 */
export async function settle(deps: SettleDeps, request: ApprovalRequest): Promise<void> {
  const target = TARGET[request.status];
  if (!target) return;
  const lastVote = request.votes.at(-1);
  const actor =
    request.status === 'expired'
      ? 'approval-expiry'
      : request.status === 'rejected' && lastVote
        ? lastVote.identity
        : 'approval';
  const t = await deps.core.repo.transitionAction(request.actionId, {
    from: ['awaiting_approval'],
    patch: {
      state: target,
      ...(target === 'approved'
        ? {}
        : {
            error: {
              message: request.outcomeReason ?? target,
              retryable: false,
              code: target === 'rejected' ? 'approval_rejected' : 'approval_expired',
            },
          }),
    },
    audit: {
      actor,
      reason: request.outcomeReason ?? target,
      after: { approval: request.id, votes: request.votes.map((v) => `${v.person}:${v.vote} via ${v.via}`) },
    },
  });
  const action = t.ok ? t.action : t.current;
  if (!deps.liveBus || request.announced) return;
  // An action that already moved past the decision (executed, or withdrawn) needs no announcement.
  if (action?.state === target && target === 'approved') {
    await deps.core.bus.publish('actions', { data: { kind: 'action', actionId: request.actionId } });
  } else if (action?.state === target && target !== 'approved') {
    const outcome: OutcomeEvent = { kind: 'outcome', actionId: request.actionId, state: target };
    await deps.core.bus.publish('outcomes', { data: outcome });
  }
  await deps.approvals.change(request.id, (current) =>
    current && !current.announced
      ? { result: undefined, next: { ...current, announced: true } }
      : { result: undefined },
  );
}

/**
 * Makes the Slack message show the request as stored. A failure is logged and left for the next tick
 * (the stored revision stays ahead of the rendered one), never lost.
 */
export async function renderRequest(deps: ApprovalDeps, id: string): Promise<boolean> {
  const chat = deps.chat;
  const request = await deps.approvals.get(id);
  if (!chat || !request?.message || request.renderedRevision >= request.revision) return false;
  const action = await deps.core.repo.getAction(request.actionId);
  if (!action) return false;
  const finding = await deps.core.repo.getFinding(action.findingId);
  const message = approvalMessage({ request, action, finding, rules: deps.rules });
  try {
    await chat.updateMessage({ ...message, channel: request.message.channel, ts: request.message.ts });
  } catch (err) {
    deps.core.logger.warn('approval message not updated; the next tick retries', {
      approvalId: id,
      error: err instanceof Error ? err.message : String(err),
    });
    return false;
  }
  await deps.approvals.change(id, (current) =>
    current && current.renderedRevision < request.revision
      ? { result: undefined, next: { ...current, renderedRevision: request.revision } }
      : { result: undefined },
  );
  return true;
}
