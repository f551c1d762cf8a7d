import { ACTION_STATES, type ActionState, type DecisionKind } from '../model/action.js';
import { WardenError } from '../model/errors.js';

/**
 * The action state machine (design §4) as one table: (state, event) → next state. Every transition in
 * the code base goes through `nextState` (Repository.fire) or is checked against it
 * (Repository.transitionAction), so a transition not in this table cannot be written.
 */
export const ACTION_EVENTS = [
  /** An executor takes the action under a lease (also: resuming after a crashed executor's lease expired). */
  'claim',
  /** An execution step was recorded (before-state captured) under the claim. */
  'record_step',
  /** The lease is given back after a transient failure, so the redelivered message resumes at once. */
  'release',
  /** The fix was applied and its operation is done. */
  'operation_done',
  /** Re-read and re-evaluated: the fix holds. */
  'verify',
  /** Execution ended without a fix that holds, and could not (or need not) be rolled back. */
  'fail',
  /** The before-state was restored: automatically when verification failed, or on demand. */
  'roll_back',
  /** An on-demand rollback takes the finished action under a lease while it restores the before-state. */
  'claim_rollback',
  /**
   * A guardrail tripped after planning (e.g. the circuit breaker opened): a human decides now. Also for an
   * action claimed once but released before its first step (nothing captured, nothing applied).
   */
  'hold',
  'approve',
  'reject',
  /** The finding went away, or the approval window closed, before the action ran. */
  'expire',
  /** Data of the action changes (a vote, a message reference) and its state does not. */
  'note',
] as const;
export type ActionEventName = (typeof ACTION_EVENTS)[number];

const TABLE: Record<ActionEventName, Partial<Record<ActionState, ActionState>>> = {
  claim: { planned: 'executing', approved: 'executing', executing: 'executing', succeeded: 'succeeded' },
  record_step: { executing: 'executing', succeeded: 'succeeded' },
  release: { executing: 'executing', succeeded: 'succeeded', verified: 'verified', failed: 'failed' },
  operation_done: { executing: 'succeeded' },
  verify: { succeeded: 'verified' },
  fail: { executing: 'failed', succeeded: 'failed' },
  roll_back: { succeeded: 'rolled_back', verified: 'rolled_back', failed: 'rolled_back' },
  claim_rollback: { verified: 'verified', failed: 'failed' },
  hold: { planned: 'awaiting_approval', executing: 'awaiting_approval' },
  approve: { awaiting_approval: 'approved' },
  reject: { awaiting_approval: 'rejected' },
  expire: { planned: 'expired', awaiting_approval: 'expired', approved: 'expired' },
  note: Object.fromEntries(ACTION_STATES.map((s) => [s, s])) as Record<ActionState, ActionState>,
};

/** The state an action is created in, by decision: creation is the only way into these. */
export const INITIAL_STATE: Record<DecisionKind, ActionState> = {
  auto: 'planned',
  approve: 'awaiting_approval',
  recommend: 'recommended',
  suppress: 'suppressed',
};

/** The next state, or null when the event is not allowed in this state. */
export function nextState(from: ActionState, event: ActionEventName): ActionState | null {
  return TABLE[event][from] ?? null;
}

/** Events that may move `from` to `to` (empty: the move is illegal). */
export function eventsBetween(from: ActionState, to: ActionState): ActionEventName[] {
  return ACTION_EVENTS.filter((e) => TABLE[e][from] === to);
}

export function assertLegalTransition(id: string, from: ActionState, to: ActionState): void {
  if (eventsBetween(from, to).length === 0)
    throw new WardenError(`illegal action transition ${from} → ${to} (action ${id})`, {
      retryable: false,
      code: 'illegal_transition',
    });
}

/** Outcomes of execution that the circuit breaker counts: ok = the fix held. */
export function executionOutcome(from: ActionState, to: ActionState): { ok: boolean } | null {
  if (from === to) return null;
  if (to === 'verified') return { ok: true };
  if (to === 'failed' && (from === 'executing' || from === 'succeeded')) return { ok: false };
  if (to === 'rolled_back') return { ok: false };
  return null;
}

const IN_FLIGHT: readonly ActionState[] = ['planned', 'approved', 'executing', 'succeeded'];

/**
 * The change this action makes is under way: it is on its way to the resource, or a finished fix is held
 * under an on-demand rollback's lease. A second action making the same change must wait.
 */
export function changeUnderWay(a: { state: ActionState; leaseUntil: string | null }, now: string): boolean {
  if (IN_FLIGHT.includes(a.state)) return true;
  return (a.state === 'verified' || a.state === 'failed') && a.leaseUntil !== null && a.leaseUntil > now;
}
