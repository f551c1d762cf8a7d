import type { Request, Response } from '@google-cloud/functions-framework';
import type { ApprovalTopicMessage } from '../../shared/approvals/messages.js';
import type { EventBus } from '../../shared/ports/bus.js';
import { handleSlackInteraction, type SlackEndpointDeps } from '../../shared/slack/interaction-endpoint.js';

export interface SlackFunctionDeps {
  endpoint: SlackEndpointDeps;
  bus: EventBus;
}

/**
 * POST /slack/interactions as an HTTP function. A function gets no CPU once it has answered, so a verified
 * vote is published to approval-requests (request-approval decides it) before Slack gets its 200; both
 * together stay well inside Slack's 3 seconds.
 */
export async function handleSlackHttp(req: Request, res: Response, deps: SlackFunctionDeps): Promise<void> {
  if (req.method !== 'POST') {
    res.status(405).set('allow', 'POST').send('');
    return;
  }
  const reply = await handleSlackInteraction(
    { rawBody: req.rawBody ?? Buffer.alloc(0), headers: req.headers },
    deps.endpoint,
  );
  if (reply.task) {
    const message: ApprovalTopicMessage = { kind: 'interaction', task: reply.task };
    await deps.bus.publish('approval-requests', { data: message });
  }
  const { status, body } = reply.response;
  if (body === null) res.status(status).send('');
  else res.status(status).json(body);
}
