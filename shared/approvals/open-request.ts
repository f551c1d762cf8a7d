import type { Action } from '../model/action.js';
import type { Finding } from '../model/finding.js';
import { ChatError } from '../ports/chat.js';
import { approvalMessage } from '../slack/approval-message.js';
import { changeAuthorsOf } from './change-authors.js';
import type { ApprovalDeps } from './deps.js';
import { WARDEN_REQUESTER } from './identity.js';
import type { ApprovalRequest } from './request.js';
import { renderRequest } from './settle.js';

const ACTOR = 'request-approval';
/** A poster that claimed a message and vanished (crash, timeout) is assumed gone after this long. */
const CLAIM_MS = 2 * 60_000;

export type OpenResult =
  | { status: 'opened' | 'exists'; request: ApprovalRequest; action: Action }
  | { status: 'not_found' }
  | { status: 'not_awaiting'; action: Action; request: ApprovalRequest | null };

/** The resource's project and ancestors, nearest first: what teams and channels are judged on. */
export function scopeOf(action: Action, finding: Finding | null): string[] {
  return [...new Set([...(action.project ? [action.project] : []), ...(finding?.ancestors ?? [])])];
}

/**
 * Who asked for the change: the person who asked for the run through the API, and the people whose recorded
 * changes the fix answers (Cloud Audit Logs, through the change-log sink); else Warden itself.
 */
export async function requesterOf(
  deps: ApprovalDeps,
  action: Action,
  finding: Finding | null,
): Promise<string[]> {
  const people = [
    ...(action.requestedBy ? [action.requestedBy] : []),
    ...(await changeAuthorsOf(deps, action, finding)),
  ];
  return people.length > 0 ? [...new Set(people)] : [WARDEN_REQUESTER];
}

/**
 * Makes the approval request of an action awaiting approval, once: quorum, expiry (from the action's
 * creation, so redelivery derives the same), teams and channel are fixed now. Idempotent.
 */
export async function openRequest(
  deps: ApprovalDeps,
  actionId: string,
  requester?: string[],
): Promise<OpenResult> {
  const existing = await deps.approvals.get(actionId);
  const action = await deps.core.repo.getAction(actionId);
  if (!action) return { status: 'not_found' };
  if (existing) return { status: 'exists', request: existing, action };
  if (action.state !== 'awaiting_approval') return { status: 'not_awaiting', action, request: null };

  const finding = await deps.core.repo.getFinding(action.findingId);
  const scope = scopeOf(action, finding);
  const teams = deps.rules.teamsFor(scope);
  const risk = action.decision.risk;
  const candidate: ApprovalRequest = {
    id: action.id,
    actionId: action.id,
    findingId: action.findingId,
    risk,
    scope,
    teams,
    requester: requester ?? (await requesterOf(deps, action, finding)),
    requiredApprovals: deps.rules.quorum(risk),
    createdAt: action.createdAt,
    expiresAt: new Date(new Date(action.createdAt).getTime() + deps.rules.expiryMs(risk)).toISOString(),
    status: 'pending',
    votes: [],
    decidedAt: null,
    outcomeReason: null,
    channel: deps.rules.channelFor(scope, teams),
    message: null,
    messageClaimedAt: null,
    messageError: null,
    renderedRevision: -1,
    announced: false,
    revision: 0,
  };
  return deps.approvals.change<OpenResult>(actionId, (current) => {
    if (current) return { result: { status: 'exists', request: current, action } };
    return {
      result: { status: 'opened', request: candidate, action },
      next: candidate,
      audit: [
        {
          actor: ACTOR,
          kind: 'approval.requested',
          subject: action.id,
          after: {
            risk,
            teams,
            requiredApprovals: candidate.requiredApprovals,
            expiresAt: candidate.expiresAt,
            channel: candidate.channel,
            requester: candidate.requester,
          },
          reason: `${risk}-risk ${action.actionType} on ${action.resourceName} needs ${candidate.requiredApprovals} approval(s)`,
        },
      ],
    };
  });
}

export type PostResult =
  | { status: 'posted'; channel: string; ts: string }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; error: string };

/**
 * Posts the request's Slack message once. The right to post is claimed first (compare-and-set), so two
 * deliveries of one request never post twice; a transient Slack failure releases the claim and throws
 * (the message is redelivered), a permanent one (channel_not_found, …) is recorded and left for a person
 * to fix, while the request stays decidable through the API and locally.
 */
export async function postRequestMessage(deps: ApprovalDeps, id: string): Promise<PostResult> {
  const chat = deps.chat;
  if (!chat) return { status: 'skipped', reason: 'no chat configured' };
  type Claim = { ok: false; reason: string } | { ok: true; request: ApprovalRequest };
  const claim = await deps.approvals.change<Claim>(id, (current, now) => {
    if (!current) return { result: { ok: false, reason: 'no such request' } };
    if (current.message) return { result: { ok: false, reason: 'already posted' } };
    if (current.status !== 'pending')
      return { result: { ok: false, reason: `request is ${current.status}` } };
    if (current.messageClaimedAt && now.getTime() - new Date(current.messageClaimedAt).getTime() < CLAIM_MS)
      return { result: { ok: false, reason: 'being posted by another delivery' } };
    const next = { ...current, messageClaimedAt: now.toISOString() };
    return { result: { ok: true, request: next }, next };
  });
  if (!claim.ok) return { status: 'skipped', reason: claim.reason };
  const request = claim.request;
  const action = await deps.core.repo.getAction(request.actionId);
  if (!action) return { status: 'skipped', reason: 'the action is gone' };
  const finding = await deps.core.repo.getFinding(action.findingId);
  const message = approvalMessage({ request, action, finding, rules: deps.rules });

  let posted;
  try {
    posted = await chat.postMessage(message);
  } catch (err) {
    const permanent = err instanceof ChatError && !err.retryable;
    const error = err instanceof Error ? err.message : String(err);
    // A lost answer (timeout, connection reset) may hide a message that was posted: the claim is kept, so
    // only the tick, once it has lapsed, posts again. A refusal Slack did answer frees the claim at once.
    const ambiguous = !(err instanceof ChatError) || err.slackError === 'network_error';
    await deps.approvals.change(id, (current) =>
      current
        ? {
            result: undefined,
            next: {
              ...current,
              messageClaimedAt: ambiguous ? current.messageClaimedAt : null,
              messageError: permanent ? error : current.messageError,
            },
          }
        : { result: undefined },
    );
    if (!permanent) throw err;
    deps.core.logger.error('approval message not posted', {
      approvalId: id,
      channel: request.channel,
      error,
    });
    return { status: 'failed', error };
  }
  await deps.approvals.change(id, (current) =>
    current
      ? {
          result: undefined,
          next: {
            ...current,
            message: posted,
            messageClaimedAt: null,
            messageError: null,
            renderedRevision: request.revision,
          },
        }
      : { result: undefined },
  );
  // A vote may have landed while the message was on its way: show it.
  await renderRequest(deps, id);
  return { status: 'posted', ...posted };
}
