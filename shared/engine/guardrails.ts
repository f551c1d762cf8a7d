import type { Decision, DecisionKind } from '../model/action.js';

/** How much a decision lets happen without a human: a guardrail may only move a decision up this order. */
export const SAFETY: Record<DecisionKind, number> = { auto: 0, approve: 1, recommend: 2, suppress: 3 };

export function isSaferOrEqual(after: DecisionKind, before: DecisionKind): boolean {
  return SAFETY[after] >= SAFETY[before];
}

/** One rate-limit counter as the store holds it for the current window. */
export interface RateUse {
  /** "project projects/42", "action type compute.firewall.restrict-internet-source" */
  scope: string;
  used: number;
  max: number;
  windowMinutes: number;
}

/** What the guardrails see at the moment of deciding; an absent part means that guardrail is off. */
export interface GuardrailView {
  dryRun?: boolean;
  freeze?: { reason: string; window: string } | null;
  /** The circuit breaker of the action type, when it holds actions back. */
  breaker?: { actionType: string; why: string } | null;
  rateLimits?: readonly RateUse[];
  runCap?: { policyId: string; sweepId: string; used: number; allowed: number; flagged: number } | null;
}

/**
 * The guardrails (design §5): each can only make a decision safer — an automatic fix becomes one a human
 * approves, and a dry run turns everything into a recommendation. Each effect is recorded as a factor.
 */
export function applyGuardrails(decision: Decision, view: GuardrailView): Decision {
  let kind = decision.kind;
  const factors = [...decision.factors];
  // Every guardrail that holds an automatic fix back is recorded, not only the first.
  const automatic = decision.kind === 'auto';
  const hold = (factor: string): void => {
    if (!automatic) return;
    kind = 'approve';
    factors.push({ factor, effect: 'approve: no automatic execution' });
  };

  if (view.freeze) hold(`change freeze (${view.freeze.reason}; ${view.freeze.window})`);
  if (view.breaker) hold(`circuit breaker for ${view.breaker.actionType} is open: ${view.breaker.why}`);
  for (const r of view.rateLimits ?? []) {
    if (r.used >= r.max)
      hold(`rate limit for ${r.scope} reached (${r.used} of ${r.max} per ${r.windowMinutes} min)`);
  }
  const cap = view.runCap;
  if (cap && cap.used >= cap.allowed)
    hold(
      `per-run cap of policy ${cap.policyId} reached in sweep ${cap.sweepId} (${cap.used} of ${cap.allowed} allowed; ${cap.flagged} flagged)`,
    );
  if (view.dryRun && (kind === 'auto' || kind === 'approve')) {
    factors.push({ factor: 'global dry run', effect: `would ${kind}; recommend only` });
    kind = 'recommend';
  }
  return { ...decision, kind, factors, dryRun: decision.dryRun || Boolean(view.dryRun) };
}
