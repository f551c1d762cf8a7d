import type { ActionContext, RemediationAction } from '../../shared/actions/types.js';
import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { evaluationInput } from '../../shared/engine/evaluation-input.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import type { Action, ActionState } from '../../shared/model/action.js';
import type { Asset } from '../../shared/model/asset.js';
import { isRetryable, WardenError } from '../../shared/model/errors.js';
import { ActionEventSchema, type OutcomeEvent } from '../../shared/model/events.js';
import type { BusMessage } from '../../shared/ports/bus.js';

const ACTOR = 'execute';
const RUNNABLE: readonly ActionState[] = ['planned', 'approved', 'executing', 'succeeded'];

type Step = { ok: true; action: Action } | { ok: false; result: HandlerResult };

/**
 * Executes one action: claim it with a lease, capture the before-state, apply, wait for the operation,
 * re-read and re-evaluate, roll back if the fix did not hold. Each step is recorded before the next, so a
 * redelivered or resumed message continues from where the last executor stopped and never applies twice.
 */
export async function handleAction(msg: BusMessage, deps: Deps): Promise<HandlerResult> {
  const parsed = parseJsonMessage(msg, ActionEventSchema);
  if (!parsed.ok) return rejectMessage(deps, 'actions', msg, parsed.reason);
  const found = await deps.repo.getAction(parsed.value.actionId);
  if (!found) return rejectMessage(deps, 'actions', msg, `unknown action ${parsed.value.actionId}`);

  const claimed = await claim(deps, found);
  if (!claimed.ok) return claimed.result;
  let action = claimed.action;
  const remediation = deps.actions.get(action.actionType);
  const policy = deps.policies.get(action.policyId);
  if (!remediation || !policy)
    return finish(
      deps,
      action,
      'failed',
      permanent(`action ${action.actionType} or policy ${action.policyId} is not loaded`),
    );

  const ctx: ActionContext = {
    cloud: deps.cloud,
    clock: deps.clock,
    logger: deps.logger.child({ actionId: action.id }),
    settings: deps.actionSettings,
  };
  try {
    const stored = await deps.repo.getAsset(action.resourceName);
    if (!stored) return finish(deps, action, 'failed', permanent('the resource no longer exists'));
    const asset = stored.asset;

    if (action.step === 'none') {
      const before = await remediation.captureBefore(asset, ctx);
      if (before === null) return finish(deps, action, 'failed', permanent('the resource no longer exists'));
      const r = await step(
        deps,
        action,
        { step: 'before_captured', beforeState: before },
        'before-state captured',
        { after: before },
      );
      if (!r.ok) return r.result;
      action = r.action;
    }

    if (action.step === 'before_captured' || action.step === 'applied') {
      const outcome = await remediation.apply(asset, action.beforeState, ctx);
      if (outcome.status === 'conflict')
        return finish(deps, action, 'failed', permanent(`not applied: ${outcome.reason}`));
      if (outcome.status === 'gone')
        return finish(deps, action, 'failed', permanent('the resource no longer exists'));
      const r = await step(
        deps,
        action,
        { step: 'operation_done', state: 'succeeded', afterState: outcome.after },
        outcome.status === 'applied' ? 'applied; operation done' : 'already applied; nothing sent',
        { before: action.beforeState, after: outcome.after },
      );
      if (!r.ok) return r.result;
      action = r.action;
    }

    const live = await remediation.readLive(asset, ctx);
    const verdict = live
      ? (deps.policies.evaluate(live, await evaluationInput(deps, live)).find((r) => r.policy === policy)
          ?.verdict ?? null)
      : null;
    if (verdict?.kind === 'pass') {
      const r = await step(
        deps,
        action,
        { step: 'verified', state: 'verified', leaseUntil: null, error: null },
        `re-read: ${policy.def.id} passes`,
      );
      if (!r.ok) return r.result;
      await publishOutcome(deps, r.action.id, 'verified');
      return { status: 'done', detail: `${action.id} verified` };
    }
    const why =
      live === null
        ? 'the resource disappeared after the change'
        : `re-read: ${policy.def.id} still fails (${verdict?.kind})`;
    return rollback(deps, action, asset, remediation, ctx, why);
  } catch (err) {
    return onError(deps, action, err);
  }
}

async function claim(deps: Deps, action: Action): Promise<Step> {
  if (!RUNNABLE.includes(action.state))
    return { ok: false, result: { status: 'ignored', reason: `action is ${action.state}` } };
  const now = deps.clock.now();
  if (action.state === 'executing' && action.leaseUntil && action.leaseUntil > now.toISOString()) {
    return { ok: false, result: { status: 'ignored', reason: `leased until ${action.leaseUntil}` } };
  }
  const t = await deps.repo.transitionAction(action.id, {
    from: [action.state],
    revision: action.revision,
    patch: {
      state: action.state === 'succeeded' ? 'succeeded' : 'executing',
      leaseUntil: new Date(now.getTime() + deps.leaseMs).toISOString(),
      attempts: action.attempts + 1,
    },
    audit: {
      actor: ACTOR,
      kind: 'action.claimed',
      reason: `attempt ${action.attempts + 1} from step ${action.step}`,
    },
  });
  return t.ok
    ? { ok: true, action: t.action }
    : { ok: false, result: { status: 'ignored', reason: 'claimed by another executor' } };
}

/** Records one step under the claim; losing the compare-and-set means another executor took over. */
async function step(
  deps: Deps,
  action: Action,
  patch: Partial<Action>,
  reason: string,
  detail: { before?: unknown; after?: unknown } = {},
): Promise<Step> {
  const t = await deps.repo.transitionAction(action.id, {
    from: [action.state],
    revision: action.revision,
    patch,
    audit: { actor: ACTOR, reason, ...detail },
  });
  return t.ok
    ? { ok: true, action: t.action }
    : { ok: false, result: { status: 'ignored', reason: 'lost the action to another executor' } };
}

function permanent(message: string): WardenError {
  return new WardenError(message, { retryable: false, code: 'not_applicable' });
}

async function rollback(
  deps: Deps,
  action: Action,
  asset: Asset,
  remediation: RemediationAction,
  ctx: ActionContext,
  why: string,
): Promise<HandlerResult> {
  deps.logger.warn('verification failed; rolling back', { actionId: action.id, why });
  const undo = await remediation.undo(asset, action.beforeState, action.afterState, ctx);
  if (undo.status === 'restored') {
    const r = await step(
      deps,
      action,
      { state: 'rolled_back', leaseUntil: null, error: { message: why, retryable: false } },
      `${why}; before-state restored`,
    );
    if (!r.ok) return r.result;
    await publishOutcome(deps, action.id, 'rolled_back');
    return { status: 'done', detail: `${action.id} rolled back` };
  }
  const reason =
    undo.status === 'refused' ? `rollback refused: ${undo.reason}` : 'rollback impossible: resource gone';
  return finish(deps, action, 'failed', permanent(`${why}; ${reason}`));
}

async function onError(deps: Deps, action: Action, err: unknown): Promise<HandlerResult> {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof WardenError ? err.code : undefined;
  if (isRetryable(err) && action.attempts < deps.maxAttempts) {
    // Give the lease back so the redelivered message resumes at once from the recorded step.
    await deps.repo.transitionAction(action.id, {
      from: [action.state],
      revision: action.revision,
      patch: { leaseUntil: null, error: { message, retryable: true, ...(code ? { code } : {}) } },
      audit: {
        actor: ACTOR,
        kind: 'action.retry',
        reason: `transient failure at step ${action.step}: ${message}`,
      },
    });
    throw err;
  }
  return finish(
    deps,
    action,
    'failed',
    err instanceof WardenError
      ? err
      : new WardenError(message, { retryable: false, code: 'failed', cause: err }),
  );
}

async function finish(deps: Deps, action: Action, state: 'failed', err: WardenError): Promise<HandlerResult> {
  const t = await deps.repo.transitionAction(action.id, {
    from: [action.state],
    revision: action.revision,
    patch: {
      state,
      leaseUntil: null,
      error: { message: err.message, retryable: err.retryable, code: err.code },
    },
    audit: { actor: ACTOR, reason: err.message },
  });
  if (!t.ok) return { status: 'ignored', reason: 'lost the action to another executor' };
  await publishOutcome(deps, action.id, state);
  return { status: 'done', detail: `${action.id} ${state}: ${err.message}` };
}

async function publishOutcome(deps: Deps, actionId: string, state: OutcomeEvent['state']): Promise<void> {
  const event: OutcomeEvent = { kind: 'outcome', actionId, state };
  await deps.bus.publish('outcomes', { data: event });
}
