import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import { requestRollback } from '../../shared/engine/rollback-request.js';
import { RollbackRequestSchema } from '../../shared/model/events.js';
import type { BusMessage } from '../../shared/ports/bus.js';

/**
 * An on-demand rollback the automation API handed on: restores the recorded before-state through the
 * action's undo (which refuses when the resource changed since the fix), under the action's lease, audited
 * with the person who asked. Redelivery is safe: a rolled-back action is not rolled back again, and one
 * whose rollback is under way is left to it. A transient failure is thrown, so Pub/Sub redelivers.
 */
export async function handleRollbackRequest(msg: BusMessage, deps: Deps): Promise<HandlerResult> {
  const parsed = parseJsonMessage(msg, RollbackRequestSchema);
  if (!parsed.ok) return rejectMessage(deps, 'rollbacks', msg, parsed.reason);
  const { actionId, actor, reason } = parsed.value;
  const r = await requestRollback(deps, actionId, actor, reason);
  switch (r.status) {
    case 'rolled_back':
      return { status: 'done', detail: `${actionId} rolled back for ${actor}` };
    case 'not_found':
      return rejectMessage(deps, 'rollbacks', msg, `unknown action ${actionId}`);
    case 'not_rollbackable':
    case 'refused':
      return { status: 'ignored', reason: `${actionId} not rolled back: ${r.reason}` };
  }
}
