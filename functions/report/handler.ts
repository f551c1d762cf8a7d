import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import { OutcomeEventSchema } from '../../shared/model/events.js';
import type { BusMessage } from '../../shared/ports/bus.js';

/**
 * Records each action's outcome once (the metrics and the dashboard count these), checked against the
 * action's stored state so that a forged or stale outcome message counts nothing.
 */
export async function handleOutcome(msg: BusMessage, deps: Deps): Promise<HandlerResult> {
  const parsed = parseJsonMessage(msg, OutcomeEventSchema);
  if (!parsed.ok) return rejectMessage(deps, 'outcomes', msg, parsed.reason);
  const action = await deps.repo.getAction(parsed.value.actionId);
  if (!action) return rejectMessage(deps, 'outcomes', msg, `unknown action ${parsed.value.actionId}`);
  if (action.state !== parsed.value.state) {
    return { status: 'ignored', reason: `outcome says ${parsed.value.state}, the action is ${action.state}` };
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
