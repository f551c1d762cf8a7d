import type { ActionContext } from '../actions/types.js';
import type { Action } from '../model/action.js';
import { WardenError } from '../model/errors.js';
import type { OutcomeEvent } from '../model/events.js';
import { announceBreakerChange } from './breaker-alert.js';
import type { Deps } from './deps.js';
import { reannounceOpenFindings } from './evaluate-asset.js';

export type RollbackResult =
  | { status: 'rolled_back'; action: Action }
  | { status: 'refused'; reason: string; action: Action }
  | { status: 'not_found' }
  | { status: 'not_rollbackable'; reason: string; action: Action };

/** Steps after which the fix may be on the resource, so there is something to restore. */
const APPLIED_STEPS: ReadonlySet<Action['step']> = new Set(['operation_done', 'verified']);

/** Why this action cannot be rolled back at all (whatever the resource now says), if so. */
export function whyNotRollbackable(action: Action): string | null {
  if (action.state === 'rolled_back') return 'the action was already rolled back';
  if (!action.reversible) return `${action.actionType} cannot be undone (irreversible)`;
  if (action.state !== 'verified' && action.state !== 'failed')
    return `the action is ${action.state}: only a verified or failed fix can be rolled back`;
  if (!APPLIED_STEPS.has(action.step) || action.beforeState === null || action.afterState === null)
    return `nothing was applied (the action stopped at step ${action.step})`;
  return null;
}

/**
 * On-demand rollback (CLI `warden rollback`, `POST /api/v1/automation/actions/{id}:rollback`): restores the
 * recorded before-state through the action's undo, which refuses — and says why — when the resource changed
 * since the fix. The request, a refusal and the restore are audited like every transition; the action is
 * held under a lease while its undo runs, so two requests never restore twice.
 */
export async function requestRollback(
  deps: Deps,
  actionId: string,
  actor: string,
  reason: string,
): Promise<RollbackResult> {
  const action = await deps.repo.getAction(actionId);
  if (!action) return { status: 'not_found' };
  const not = whyNotRollbackable(action);
  if (not) return { status: 'not_rollbackable', reason: not, action };
  const now = deps.clock.now();
  if (action.leaseUntil && action.leaseUntil > now.toISOString())
    return {
      status: 'refused',
      reason: `a rollback of this action is under way (until ${action.leaseUntil})`,
      action,
    };
  const remediation = deps.actions.get(action.actionType);
  if (!remediation)
    return {
      status: 'not_rollbackable',
      reason: `action ${action.actionType} is not available in this version`,
      action,
    };

  const claimed = await deps.repo.fire(action.id, 'claim_rollback', {
    revision: action.revision,
    patch: { leaseUntil: new Date(now.getTime() + deps.leaseMs).toISOString() },
    audit: { actor, kind: 'action.rollback_requested', reason },
  });
  if (!claimed.ok) {
    const current = claimed.current ?? action;
    return {
      status: 'refused',
      reason: `the action changed meanwhile (now ${current.state})`,
      action: current,
    };
  }
  const held = claimed.action;
  const release = async (why: string, kind: string): Promise<Action> => {
    const t = await deps.repo.fire(held.id, 'release', {
      revision: held.revision,
      patch: { leaseUntil: null },
      audit: { actor, kind, reason: why },
    });
    return t.ok ? t.action : (t.current ?? held);
  };

  const stored = await deps.repo.getAsset(held.resourceName);
  if (!stored) {
    const why = 'the resource no longer exists';
    return { status: 'refused', reason: why, action: await release(why, 'action.rollback_refused') };
  }
  const ctx: ActionContext = {
    cloud: deps.cloud,
    clock: deps.clock,
    logger: deps.logger.child({ actionId: held.id, rollback: true }),
    settings: deps.actionSettings,
  };
  let undo;
  try {
    undo = await remediation.undo(stored.asset, held.beforeState, held.afterState, ctx);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await release(`rollback attempt failed: ${message}`, 'action.rollback_error');
    throw err instanceof WardenError
      ? err
      : new WardenError(`rollback of ${held.id} failed: ${message}`, {
          retryable: true,
          code: 'rollback_failed',
          cause: err,
        });
  }
  if (undo.status !== 'restored') {
    const why = undo.status === 'refused' ? undo.reason : 'the resource no longer exists';
    return { status: 'refused', reason: why, action: await release(why, 'action.rollback_refused') };
  }
  const t = await deps.repo.fire(held.id, 'roll_back', {
    revision: held.revision,
    patch: { leaseUntil: null },
    audit: { actor, reason: `on demand: ${reason}`, before: held.afterState, after: held.beforeState },
    also: [
      {
        actor,
        kind: 'action.rollback',
        subject: held.id,
        before: held.afterState,
        after: held.beforeState,
        reason: `on demand: ${reason}`,
      },
    ],
  });
  if (!t.ok)
    throw new WardenError(`action ${held.id} changed while it was being rolled back`, {
      retryable: false,
      code: 'conflict',
    });
  await announceBreakerChange(deps, t.breaker);
  const event: OutcomeEvent = { kind: 'outcome', actionId: held.id, state: 'rolled_back' };
  await deps.bus.publish('outcomes', { data: event });
  await reannounceOpenFindings(deps, held.resourceName, held.assetVersion);
  return { status: 'rolled_back', action: t.action };
}
