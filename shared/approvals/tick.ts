import type { ReplayGuard } from '../slack/replay-guard.js';
import { withdraw } from './cast-vote.js';
import type { ApprovalDeps } from './deps.js';
import { expireApprovals } from './expire.js';
import { flushAutoActions, type NotifyResult } from './notifications.js';
import { openRequest, postRequestMessage } from './open-request.js';
import { renderRequest, settle } from './settle.js';

export interface TickReport {
  expired: number;
  opened: number;
  posted: number;
  withdrawn: number;
  announced: number;
  rendered: number;
  dispatched: number;
  notified: NotifyResult;
  pruned: number;
}

/** How far back decided requests are checked for a Slack message that does not show the decision yet. */
const RENDER_HORIZON_MS = 3 * 86_400_000;

/**
 * The periodic reconciliation of approvals (Cloud Scheduler every few minutes in production, a timer in
 * `warden start`): expire what is due, make requests that were never made (a lost message), withdraw the
 * requests whose action moved on, announce decisions taken where no bus reached the executor (the CLI),
 * hand approved actions to the executor again, bring Slack messages up to date, report automatic actions.
 * Every step is idempotent, so ticks may overlap or repeat.
 */
export async function runApprovalTick(
  deps: ApprovalDeps,
  opts: { replay?: ReplayGuard } = {},
): Promise<TickReport> {
  const now = deps.core.clock.now();
  const { repo } = deps.core;
  const report: TickReport = {
    expired: (await expireApprovals(deps.core, now)).length,
    opened: 0,
    posted: 0,
    withdrawn: 0,
    announced: 0,
    rendered: 0,
    dispatched: 0,
    notified: { status: 'skipped', reason: 'not run' },
    pruned: 0,
  };

  for (const action of await repo.listActions({ where: [['state', '==', 'awaiting_approval']] })) {
    const opened = await openRequest(deps, action.id);
    if (opened.status === 'opened') report.opened += 1;
  }
  for (const request of await deps.approvals.pending()) {
    const action = await repo.getAction(request.actionId);
    if (action?.state !== 'awaiting_approval') {
      if (await withdraw(deps, request.id, `the action is now ${action?.state ?? 'gone'}`))
        report.withdrawn += 1;
    } else if (!request.message && !request.messageError) {
      if ((await postRequestMessage(deps, request.id)).status === 'posted') report.posted += 1;
    }
  }
  if (deps.liveBus) {
    for (const request of await deps.approvals.list({ where: [['announced', '==', false]] })) {
      if (request.status === 'pending' || request.status === 'cancelled') continue;
      await settle(deps, request);
      report.announced += 1;
    }
    // Approved actions nobody picked up (decided in another process, or the message was lost). The
    // executor claims an action before running it, so offering one twice never runs it twice.
    for (const action of await repo.listActions({ where: [['state', '==', 'approved']] })) {
      if (!(await deps.approvals.get(action.id))) continue;
      await deps.core.bus.publish('actions', { data: { kind: 'action', actionId: action.id } });
      report.dispatched += 1;
    }
  }
  const horizon = new Date(now.getTime() - RENDER_HORIZON_MS).toISOString();
  const recent = [
    ...(await deps.approvals.pending()),
    ...(await deps.approvals.list({ where: [['decidedAt', '>=', horizon]] })),
  ];
  for (const r of recent) if (await renderRequest(deps, r.id)) report.rendered += 1;

  report.notified = await flushAutoActions(deps, now);
  if (opts.replay) report.pruned = await opts.replay.prune();
  return report;
}
