import type { ApprovalDeps } from '../../shared/approvals/deps.js';
import { ApprovalTopicMessageSchema } from '../../shared/approvals/messages.js';
import { sendDailyDigest } from '../../shared/approvals/notifications.js';
import { openRequest, postRequestMessage } from '../../shared/approvals/open-request.js';
import { runApprovalTick } from '../../shared/approvals/tick.js';
import type { HandlerResult } from '../../shared/engine/deps.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import type { BusMessage } from '../../shared/ports/bus.js';
import { ReplayGuard } from '../../shared/slack/replay-guard.js';
import { runVoteTask } from '../../shared/slack/vote-task.js';

/**
 * The approval-requests consumer: asks for approval of an action (records the request, posts the Slack
 * message once), decides Slack votes handed on by the interactivity endpoint, and runs the scheduled
 * tick and daily digest. Every branch is idempotent under redelivery.
 */
export async function handleApprovalMessage(msg: BusMessage, deps: ApprovalDeps): Promise<HandlerResult> {
  const parsed = parseJsonMessage(msg, ApprovalTopicMessageSchema);
  if (!parsed.ok) return rejectMessage(deps.core, 'approval-requests', msg, parsed.reason);
  const m = parsed.value;
  switch (m.kind) {
    case 'action': {
      const opened = await openRequest(deps, m.actionId);
      if (opened.status === 'not_found')
        return rejectMessage(deps.core, 'approval-requests', msg, `unknown action ${m.actionId}`);
      if (opened.status === 'not_awaiting')
        return { status: 'ignored', reason: `action ${m.actionId} is ${opened.action.state}` };
      const posted = await postRequestMessage(deps, opened.request.id);
      const detail =
        posted.status === 'posted'
          ? `posted to ${posted.channel}`
          : posted.status === 'failed'
            ? `not posted: ${posted.error}`
            : posted.reason;
      return opened.status === 'opened' || posted.status === 'posted'
        ? { status: 'done', detail: `approval ${opened.request.id} ${opened.status}; ${detail}` }
        : { status: 'ignored', reason: `approval ${opened.request.id} exists; ${detail}` };
    }
    case 'interaction': {
      const result = await runVoteTask(deps, m.task);
      return {
        status: 'done',
        detail: `vote ${m.task.vote} on ${m.task.approvalId}: ${result.outcome.kind}`,
      };
    }
    case 'tick': {
      const report = await runApprovalTick(deps, {
        replay: new ReplayGuard(deps.core.repo.store, deps.core.clock),
      });
      return { status: 'done', detail: JSON.stringify(report) };
    }
    case 'digest': {
      const sent = await sendDailyDigest(deps, deps.core.clock.now());
      return sent.status === 'sent'
        ? { status: 'done', detail: `digest sent (${sent.count} outcomes)` }
        : { status: 'ignored', reason: sent.reason };
    }
  }
}
