import type { GuardrailsConfig } from '../config/automation-config.js';
import type { Action } from '../model/action.js';
import { INITIAL_STATE } from './action-machine.js';
import { admitThroughBreaker, breakerAudit, breakerFromDoc, breakerId, BREAKERS } from './circuit-breaker.js';
import { applyGuardrails } from './guardrails.js';
import { countRateUses, rateKeys, readRateUses } from './rate-limits.js';
import type { Admission } from './repository.js';
import { readRunCap, useRunCap } from './run-cap.js';

/**
 * The guardrails that hold state in the store — rate limits, the circuit breaker, the per-run cap — read
 * and counted in the transaction that creates the action, so that a storm of concurrent decisions cannot
 * exceed them: an automatic action is admitted only while every counter has room, and counts in each.
 */
export function guardrailAdmission(
  guardrails: GuardrailsConfig,
  now: Date,
  sweepId: string | null,
  actor: string,
): Admission {
  return async (tx, candidate) => {
    if (candidate.decision.kind !== 'auto') return { action: candidate, write: () => [] };
    const breakerCfg = guardrails.circuit_breaker;
    const breaker = breakerCfg.enabled
      ? breakerFromDoc(candidate.actionType, await tx.get(BREAKERS, breakerId(candidate.actionType)))
      : null;
    const rates = await readRateUses(tx, rateKeys(guardrails.rate_limits, candidate, now));
    const cap = sweepId ? await readRunCap(tx, sweepId, candidate.policyId) : null;
    const through = breaker
      ? admitThroughBreaker(breaker, candidate.id, breakerCfg, now)
      : { kind: 'pass' as const };

    const decision = applyGuardrails(candidate.decision, {
      breaker: through.kind === 'blocked' ? { actionType: candidate.actionType, why: through.why } : null,
      rateLimits: rates,
      runCap: cap,
    });
    if (decision.kind !== 'auto') {
      const held: Action = { ...candidate, decision, state: INITIAL_STATE[decision.kind] };
      return { action: held, write: () => [] };
    }
    if (through.kind === 'probe')
      decision.factors.push({
        factor: `circuit breaker for ${candidate.actionType} half-open after its cool-down`,
        effect: 'auto: this action is the probe',
      });
    return {
      action: { ...candidate, decision },
      write: (w) => {
        countRateUses(w, rates, candidate.id);
        if (cap) useRunCap(w, cap);
        if (through.kind !== 'probe') return [];
        w.set(BREAKERS, breakerId(candidate.actionType), { ...through.doc });
        return through.change ? [breakerAudit(through.change, actor)] : [];
      },
    };
  };
}
