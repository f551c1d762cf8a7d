import { z } from 'zod';
import { BreakerAlertSchema, type BreakerAlert } from '../../shared/engine/breaker-alert.js';
import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import { OutcomeEventSchema, type OutcomeEvent } from '../../shared/model/events.js';
import type { BusMessage } from '../../shared/ports/bus.js';

const ReportEventSchema = z.union([OutcomeEventSchema, BreakerAlertSchema]);

/**
 * Records each action's outcome once (the metrics and the dashboard count these), checked against the
 * action's stored state so that a forged or stale outcome message counts nothing; raises circuit-breaker
 * changes as alerts.
 */
export async function handleOutcome(msg: BusMessage, deps: Deps): Promise<HandlerResult> {
  const parsed = parseJsonMessage(msg, ReportEventSchema);
  if (!parsed.ok) return rejectMessage(deps, 'outcomes', msg, parsed.reason);
  return parsed.value.kind === 'breaker'
    ? reportBreaker(parsed.value, deps)
    : reportOutcome(msg, parsed.value, deps);
}

async function reportOutcome(msg: BusMessage, event: OutcomeEvent, deps: Deps): Promise<HandlerResult> {
  const action = await deps.repo.getAction(event.actionId);
  if (!action) return rejectMessage(deps, 'outcomes', msg, `unknown action ${event.actionId}`);
  if (action.state !== event.state) {
    return { status: 'ignored', reason: `outcome says ${event.state}, the action is ${action.state}` };
  }
  const recorded = await deps.repo.recordOutcome(action.id, action.state, 'report');
  deps.logger.info('action outcome', {
    actionId: action.id,
    actionType: action.actionType,
    resource: action.resourceName,
    state: action.state,
    error: action.error?.message,
  });
  return recorded
    ? { status: 'done', detail: `${action.id} ${action.state}` }
    : { status: 'ignored', reason: 'outcome already recorded' };
}

/** The breaker's state is the truth: an alert that no longer matches it is stale and only noted. */
async function reportBreaker(alert: BreakerAlert, deps: Deps): Promise<HandlerResult> {
  const breaker = await deps.repo.getBreaker(alert.actionType);
  const current = breaker.state === alert.to;
  const fields = {
    actionType: alert.actionType,
    from: alert.from,
    to: alert.to,
    reason: alert.reason,
    at: alert.at,
    current,
    'logging.googleapis.com/labels': {
      alert: 'circuit-breaker',
      action_type: alert.actionType,
      state: alert.to,
    },
  };
  if (alert.to === 'open' && current) deps.logger.error('ALERT circuit breaker open', fields);
  else deps.logger.info('circuit breaker change', fields);
  return { status: 'done', detail: `circuit breaker ${alert.actionType} ${alert.from} → ${alert.to}` };
}
