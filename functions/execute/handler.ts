import { actionPlan } from '../../shared/actions/action-plan.js';
import type { ActionContext, ApplyOutcome, RemediationAction } from '../../shared/actions/types.js';
import type { ActionEventName } from '../../shared/engine/action-machine.js';
import type { AuditEntry } from '../../shared/engine/audit-chain.js';
import { announceBreakerChange } from '../../shared/engine/breaker-alert.js';
import { breakerHolds } from '../../shared/engine/circuit-breaker.js';
import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { reannounceOpenFindings } from '../../shared/engine/evaluate-asset.js';
import { evaluationInput } from '../../shared/engine/evaluation-input.js';
import { applyGuardrails } from '../../shared/engine/guardrails.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import type { Action, ActionState } from '../../shared/model/action.js';
import type { Asset } from '../../shared/model/asset.js';
import { isRetryable, WardenError } from '../../shared/model/errors.js';
import { ActionEventSchema, type OutcomeEvent } from '../../shared/model/events.js';
import type { BusMessage } from '../../shared/ports/bus.js';

const ACTOR = 'execute';
const RUNNABLE: readonly ActionState[] = ['planned', 'approved', 'executing', 'succeeded'];
const LEASED: readonly ActionState[] = ['executing', 'succeeded'];
/** "A precondition failure re-reads and re-plans once, then stops." */
const MAX_REPLANS = 1;

type Step = { ok: true; action: Action } | { ok: false; result: HandlerResult };

/**
 * Executes one action: claim it with a lease, capture the before-state, apply, wait for the operation,
 * re-read and re-evaluate, roll back if the fix did not hold. Each step is recorded before the next, so a
 * redelivered or resumed message continues from where the last executor stopped and never applies twice:
 * resuming before the step after `applied` is recorded calls apply again, which re-reads the live resource
 * and sends nothing when the fix is already there (the action contract).
 */
export async function handleAction(msg: BusMessage, deps: Deps): Promise<HandlerResult> {
  const parsed = parseJsonMessage(msg, ActionEventSchema);
  if (!parsed.ok) return rejectMessage(deps, 'actions', msg, parsed.reason);
  const found = await deps.repo.getAction(parsed.value.actionId);
  if (!found) return rejectMessage(deps, 'actions', msg, `unknown action ${parsed.value.actionId}`);

  const held = await holdIfBreakerOpen(deps, found);
  if (held) return held;
  const claimed = await claim(deps, found);
  if (!claimed.ok) return claimed.result;
  let action = claimed.action;
  const remediation = deps.actions.get(action.actionType);
  const policy = deps.policies.get(action.policyId);
  if (!remediation || !policy)
    return finish(
      deps,
      action,
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
    if (!stored) return finish(deps, action, permanent('the resource no longer exists'));
    const asset = stored.asset;

    if (action.step === 'none') {
      const before = await remediation.captureBefore(asset, ctx);
      if (before === null) return finish(deps, action, permanent('the resource no longer exists'));
      const r = await step(
        deps,
        action,
        'record_step',
        { step: 'before_captured', beforeState: before },
        {
          reason: 'before-state captured',
          after: before,
        },
      );
      if (!r.ok) return r.result;
      action = r.action;
    }

    if (action.step === 'before_captured' || action.step === 'applied') {
      let outcome = await remediation.apply(asset, action.beforeState, ctx);
      if (outcome.status === 'conflict' && outcome.stale && action.replans < MAX_REPLANS) {
        const r = await replan(deps, action, asset, remediation, ctx, outcome.reason);
        if (!r.ok) return r.result;
        action = r.action;
        outcome = await remediation.apply(asset, action.beforeState, ctx);
      }
      if (outcome.status === 'conflict') {
        const again = outcome.stale ? ' (again after a fresh read and plan)' : '';
        return finish(deps, action, permanent(`not applied: ${outcome.reason}${again}`));
      }
      if (outcome.status === 'gone') return finish(deps, action, permanent('the resource no longer exists'));
      const r = await step(
        deps,
        action,
        'operation_done',
        { step: 'operation_done', afterState: outcome.after },
        {
          reason: outcome.status === 'applied' ? 'applied; operation done' : 'already applied; nothing sent',
          before: action.beforeState,
          after: outcome.after,
        },
        [apiCallRecord(action, outcome)],
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
        'verify',
        { step: 'verified', leaseUntil: null, error: null },
        { reason: `re-read: ${policy.def.id} passes` },
      );
      if (!r.ok) return r.result;
      await publishOutcome(deps, r.action.id, 'verified');
      return { status: 'done', detail: `${action.id} verified` };
    }
    const why =
      live === null
        ? 'the resource disappeared after the change'
        : `re-read: ${policy.def.id} still fails (${verdict?.kind})`;
    return await rollback(deps, action, asset, remediation, ctx, why);
  } catch (err) {
    return onError(deps, action, err);
  }
}

/**
 * A precondition failed (the resource changed since its before-state was captured, or while the fix was
 * sent): capture and plan again from the live resource, once. What a human approved must still be the change
 * to make: a plan that now says something else stops for a new decision instead.
 */
async function replan(
  deps: Deps,
  action: Action,
  asset: Asset,
  remediation: RemediationAction,
  ctx: ActionContext,
  why: string,
): Promise<Step> {
  const before = await remediation.captureBefore(asset, ctx);
  const live = before === null ? null : await remediation.readLive(asset, ctx);
  if (before === null || live === null)
    return { ok: false, result: await finish(deps, action, permanent('the resource no longer exists')) };
  const plan = actionPlan(remediation, live, deps.actionSettings);
  if (action.decision.kind !== 'auto' && plan.description !== action.plan.description)
    return {
      ok: false,
      result: await finish(
        deps,
        action,
        permanent(
          `not applied: ${why}; the change to make is no longer the one approved (now: ${plan.description})`,
        ),
      ),
    };
  return step(
    deps,
    action,
    'record_step',
    { step: 'before_captured', beforeState: before, plan, replans: action.replans + 1 },
    {
      reason: `precondition failed: ${why}; re-read and re-planned`,
      before: action.beforeState,
      after: before,
    },
  );
}

/** The API calls a step made: what was sent (the plan's writes), the state before and after, and why. */
function apiCallRecord(action: Action, outcome: Extract<ApplyOutcome, { after: unknown }>): AuditEntry {
  const writes = action.plan.requests.filter((r) => r.method !== 'GET');
  return {
    actor: ACTOR,
    kind: 'action.api_call',
    subject: action.id,
    before: action.beforeState,
    after: {
      status: outcome.status,
      requests: outcome.status === 'applied' ? writes : [],
      state: outcome.after,
    },
    reason:
      outcome.status === 'applied'
        ? `${writes.map((r) => `${r.method} ${r.url}`).join(', ')} for ${action.policyId} on ${action.resourceName}`
        : `the live resource already had the fix; no request sent for ${action.policyId}`,
  };
}

/**
 * An automatic action that has not touched anything yet — waiting to run, or released before its first
 * step after a transient failure — is held for a human when its type's circuit breaker opened meanwhile.
 */
async function holdIfBreakerOpen(deps: Deps, action: Action): Promise<HandlerResult | null> {
  const cfg = deps.automation.guardrails.circuit_breaker;
  if (!cfg.enabled || action.decision.kind !== 'auto') return null;
  const untouched =
    action.state === 'planned' ||
    (action.state === 'executing' &&
      action.step === 'none' &&
      (action.leaseUntil === null || action.leaseUntil <= deps.clock.now().toISOString()));
  if (!untouched) return null;
  const why = breakerHolds(await deps.repo.getBreaker(action.actionType), action.id, cfg);
  if (!why) return null;
  const decision = applyGuardrails(action.decision, { breaker: { actionType: action.actionType, why } });
  const t = await deps.repo.fire(action.id, 'hold', {
    revision: action.revision,
    patch: { decision, leaseUntil: null },
    audit: { actor: ACTOR, reason: `circuit breaker for ${action.actionType} is open: ${why}` },
  });
  if (!t.ok) return { status: 'ignored', reason: 'the action moved on meanwhile' };
  await deps.bus.publish('approval-requests', { data: { kind: 'action', actionId: action.id } });
  return { status: 'done', detail: `${action.id} held for approval: circuit breaker open` };
}

async function claim(deps: Deps, action: Action): Promise<Step> {
  if (!RUNNABLE.includes(action.state))
    return { ok: false, result: { status: 'ignored', reason: `action is ${action.state}` } };
  const now = deps.clock.now();
  if (LEASED.includes(action.state) && action.leaseUntil && action.leaseUntil > now.toISOString()) {
    return { ok: false, result: { status: 'ignored', reason: `leased until ${action.leaseUntil}` } };
  }
  const t = await deps.repo.fire(action.id, 'claim', {
    revision: action.revision,
    patch: {
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
  event: ActionEventName,
  patch: Partial<Omit<Action, 'state'>>,
  audit: { reason: string; before?: unknown; after?: unknown },
  also: AuditEntry[] = [],
): Promise<Step> {
  const t = await deps.repo.fire(action.id, event, {
    revision: action.revision,
    patch,
    audit: { actor: ACTOR, ...audit },
    also,
  });
  if (!t.ok)
    return { ok: false, result: { status: 'ignored', reason: 'lost the action to another executor' } };
  await announceBreakerChange(deps, t.breaker);
  return { ok: true, action: t.action };
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
      'roll_back',
      { leaseUntil: null, error: { message: why, retryable: false } },
      { reason: `${why}; before-state restored`, before: action.afterState, after: action.beforeState },
      [
        {
          actor: ACTOR,
          kind: 'action.rollback',
          subject: action.id,
          before: action.afterState,
          after: action.beforeState,
          reason: `automatic: ${why}`,
        },
      ],
    );
    if (!r.ok) return r.result;
    await publishOutcome(deps, action.id, 'rolled_back');
    await reannounceOpenFindings(deps, action.resourceName, action.assetVersion);
    return { status: 'done', detail: `${action.id} rolled back` };
  }
  const reason =
    undo.status === 'refused' ? `rollback refused: ${undo.reason}` : 'rollback impossible: resource gone';
  return finish(deps, action, permanent(`${why}; ${reason}`));
}

async function onError(deps: Deps, action: Action, err: unknown): Promise<HandlerResult> {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof WardenError ? err.code : undefined;
  if (isRetryable(err) && action.attempts < deps.maxAttempts) {
    // Give the lease back so the redelivered message resumes at once from the recorded step.
    await deps.repo.fire(action.id, 'release', {
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
    err instanceof WardenError
      ? err
      : new WardenError(message, { retryable: false, code: 'failed', cause: err }),
  );
}

async function finish(deps: Deps, action: Action, err: WardenError): Promise<HandlerResult> {
  const r = await step(
    deps,
    action,
    'fail',
    { leaseUntil: null, error: { message: err.message, retryable: err.retryable, code: err.code } },
    { reason: err.message },
  );
  if (!r.ok) return r.result;
  await publishOutcome(deps, action.id, 'failed');
  await reannounceOpenFindings(deps, action.resourceName, action.assetVersion);
  return { status: 'done', detail: `${action.id} failed: ${err.message}` };
}

async function publishOutcome(deps: Deps, actionId: string, state: OutcomeEvent['state']): Promise<void> {
  const event: OutcomeEvent = { kind: 'outcome', actionId, state };
  await deps.bus.publish('outcomes', { data: event });
}
