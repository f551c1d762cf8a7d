import type { ApprovalStore } from '../approvals/approval-store.js';
import { judgeVote } from '../approvals/judge.js';
import type { VoteTask } from '../approvals/messages.js';
import type { ApprovalRules } from '../approvals/rules.js';
import type { Repository } from '../engine/repository.js';
import type { ChatPort } from '../ports/chat.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import {
  APPROVE_ACTION,
  REASON_BLOCK,
  REASON_INPUT,
  REJECT_ACTION,
  REJECT_CALLBACK,
  rejectReasonModal,
} from './approval-message.js';
import {
  BlockActionsSchema,
  InteractionPayloadSchema,
  ViewSubmissionSchema,
  type BlockActions,
} from './interactions.js';
import type { ReplayGuard } from './replay-guard.js';
import { verifySlackSignature } from './signature.js';

export interface SlackEndpointDeps {
  signingSecret: string;
  replay: ReplayGuard;
  rules: ApprovalRules;
  approvals: ApprovalStore;
  repo: Repository;
  chat: ChatPort | null;
  clock: Clock;
  logger: Logger;
}

export interface SlackRequest {
  /** The body exactly as received: the signature is over these bytes. */
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export interface SlackReply {
  /** What Slack gets, at once (it allows 3 seconds). */
  response: { status: number; body: Record<string, unknown> | null };
  /** A verified vote to decide: the caller hands it on before (bus) or right after (in process) the reply. */
  task: VoteTask | null;
}

const header = (h: SlackRequest['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};
const reply = (
  status: number,
  body: Record<string, unknown> | null = null,
  task: VoteTask | null = null,
): SlackReply => ({
  response: { status, body },
  task,
});

/**
 * POST /slack/interactions: verify (signature, 5-minute window, replay), parse with zod, and answer within
 * Slack's 3 seconds. The only Slack call made before answering is views.open for the reject reason,
 * because a trigger id lives 3 seconds; every decision is returned as a task for the caller to run.
 */
export async function handleSlackInteraction(
  req: SlackRequest,
  deps: SlackEndpointDeps,
): Promise<SlackReply> {
  const verdict = verifySlackSignature({
    signingSecret: deps.signingSecret,
    timestamp: header(req.headers, 'x-slack-request-timestamp'),
    signature: header(req.headers, 'x-slack-signature'),
    rawBody: req.rawBody,
    now: deps.clock.now(),
  });
  if (!verdict.ok) {
    deps.logger.warn('slack request refused', { reason: verdict.reason });
    return reply(401, { error: { code: verdict.reason, message: 'request not signed by Slack' } });
  }
  // A Slack retry means our first answer was late, not lost: the first delivery is being handled already.
  const retry = header(req.headers, 'x-slack-retry-num');
  if (retry !== undefined) {
    deps.logger.info('slack retry acknowledged without effect', { retry });
    return reply(200);
  }
  if (!(await deps.replay.firstUse(verdict.signature))) {
    deps.logger.warn('slack request refused', { reason: 'replayed' });
    return reply(401, { error: { code: 'replayed', message: 'this signed request was already received' } });
  }

  const raw = new URLSearchParams(req.rawBody.toString('utf8')).get('payload');
  let json: unknown;
  try {
    json = raw === null ? null : JSON.parse(raw);
  } catch {
    json = null;
  }
  const payload = InteractionPayloadSchema.safeParse(json);
  if (!payload.success)
    return reply(400, { error: { code: 'invalid_payload', message: 'no interaction payload' } });

  if (payload.data.type === 'block_actions') {
    const parsed = BlockActionsSchema.safeParse(payload.data);
    if (!parsed.success)
      return reply(400, { error: { code: 'invalid_payload', message: parsed.error.message } });
    return blockAction(parsed.data, deps);
  }
  if (payload.data.type === 'view_submission') {
    const parsed = ViewSubmissionSchema.safeParse(payload.data);
    if (!parsed.success)
      return reply(400, { error: { code: 'invalid_payload', message: parsed.error.message } });
    const view = parsed.data.view;
    if (view.callback_id !== REJECT_CALLBACK) return reply(200);
    const reason = view.state.values[REASON_BLOCK]?.[REASON_INPUT]?.value?.trim() ?? '';
    if (!reason)
      return reply(200, {
        response_action: 'errors',
        errors: { [REASON_BLOCK]: 'A rejection needs a reason.' },
      });
    return reply(200, null, {
      kind: 'vote',
      approvalId: view.private_metadata,
      slackUserId: parsed.data.user.id,
      vote: 'reject',
      reason,
      channel: null,
    });
  }
  return reply(200);
}

async function blockAction(p: BlockActions, deps: SlackEndpointDeps): Promise<SlackReply> {
  const action = p.actions.find((a) => a.action_id === APPROVE_ACTION || a.action_id === REJECT_ACTION);
  if (!action?.value) return reply(200);
  const channel = p.channel?.id ?? p.container?.channel_id ?? null;
  const task: VoteTask = {
    kind: 'vote',
    approvalId: action.value,
    slackUserId: p.user.id,
    vote: action.action_id === APPROVE_ACTION ? 'approve' : 'reject',
    reason: null,
    channel,
  };
  if (task.vote === 'approve') return reply(200, null, task);

  // Reject: open the reason dialog only for someone the rules would let reject; anyone else's click goes on
  // as a vote, which is refused with an ephemeral explanation and changes nothing.
  const request = await deps.approvals.get(task.approvalId);
  const judged = request
    ? judgeVote(
        request,
        { voter: { kind: 'slack', userId: p.user.id }, vote: 'reject', reason: null, via: 'slack' },
        deps.rules,
        deps.clock.now(),
      )
    : null;
  const eligible = judged?.outcome.kind === 'refused' && judged.outcome.reason === 'reason_required';
  if (!eligible || !deps.chat || !p.trigger_id || !request) return reply(200, null, task);
  const act = await deps.repo.getAction(request.actionId);
  if (!act) return reply(200, null, task);
  try {
    await deps.chat.openModal({ triggerId: p.trigger_id, view: rejectReasonModal(request, act) });
  } catch (err) {
    deps.logger.warn('reject reason dialog not opened', {
      approvalId: request.id,
      error: err instanceof Error ? err.message : String(err),
    });
    // Without a dialog no reason can be given: the vote goes on and is refused (reason_required), and
    // the voter is told so.
    return reply(200, null, task);
  }
  return reply(200);
}
