import { z } from 'zod';
import type { CircuitBreakerConfig } from '../config/automation-config.js';
import type { Doc } from '../ports/document-store.js';
import { stableId } from '../ports/ids.js';
import type { AuditEntry } from './audit-chain.js';

export const BREAKERS = 'circuit-breakers';

export const BreakerDocSchema = z.object({
  actionType: z.string(),
  state: z.enum(['closed', 'open', 'half_open']),
  /** The window: the most recent execution outcomes, one per action, oldest first. */
  outcomes: z.array(z.object({ actionId: z.string(), ok: z.boolean(), at: z.string() })),
  openedAt: z.string().nullable(),
  reason: z.string().nullable(),
  /** The one action let through after the cool-down; its outcome closes or reopens the breaker. */
  probe: z.object({ actionId: z.string(), at: z.string() }).nullable(),
});
export type BreakerDoc = z.infer<typeof BreakerDocSchema>;

export function breakerId(actionType: string): string {
  return stableId('breaker', actionType);
}

export function breakerFromDoc(actionType: string, doc: Doc | null): BreakerDoc {
  if (!doc) return { actionType, state: 'closed', outcomes: [], openedAt: null, reason: null, probe: null };
  return BreakerDocSchema.parse(doc);
}

/** A change of the breaker's state, recorded in the audit chain and raised as an alert when it opens. */
export interface BreakerChange {
  actionType: string;
  from: BreakerDoc['state'];
  to: BreakerDoc['state'];
  reason: string;
  at: string;
}

export function breakerAudit(change: BreakerChange, actor: string): AuditEntry {
  return {
    actor,
    kind: `breaker.${change.to}`,
    subject: `circuit-breaker ${change.actionType}`,
    before: { state: change.from },
    after: { state: change.to },
    reason: change.reason,
  };
}

const minutes = (m: number) => m * 60_000;

function windowOf(
  outcomes: BreakerDoc['outcomes'],
  cfg: CircuitBreakerConfig,
  now: Date,
): BreakerDoc['outcomes'] {
  const oldest = now.getTime() - minutes(cfg.window_minutes);
  return outcomes.filter((o) => Date.parse(o.at) >= oldest).slice(-cfg.window_outcomes);
}

/**
 * Records one execution outcome (an action's later outcome replaces its earlier one: a verified fix rolled
 * back on demand counts as rolled back). Opens the breaker when the failure or rollback rate over the window
 * reaches the threshold; the probe's outcome closes or reopens it.
 */
export function recordBreakerOutcome(
  doc: BreakerDoc,
  outcome: { actionId: string; ok: boolean },
  cfg: CircuitBreakerConfig,
  now: Date,
): { doc: BreakerDoc; change: BreakerChange | null } {
  const at = now.toISOString();
  const outcomes = windowOf(
    [...doc.outcomes.filter((o) => o.actionId !== outcome.actionId), { ...outcome, at }],
    cfg,
    now,
  );
  const next: BreakerDoc = { ...doc, outcomes };
  const change = (to: BreakerDoc['state'], reason: string): BreakerChange => ({
    actionType: doc.actionType,
    from: doc.state,
    to,
    reason,
    at,
  });
  if (doc.state !== 'closed' && doc.probe?.actionId === outcome.actionId) {
    if (outcome.ok) {
      // A fresh start: the failures that opened it must not reopen it at once.
      return {
        doc: {
          ...next,
          state: 'closed',
          outcomes: [{ ...outcome, at }],
          openedAt: null,
          reason: null,
          probe: null,
        },
        change: change('closed', `probe ${outcome.actionId} succeeded`),
      };
    }
    const reason = `probe ${outcome.actionId} failed or was rolled back`;
    return {
      doc: { ...next, state: 'open', openedAt: at, reason, probe: null },
      change: change('open', reason),
    };
  }
  if (doc.state === 'closed' && cfg.enabled) {
    const failed = outcomes.filter((o) => !o.ok).length;
    const rate = outcomes.length === 0 ? 0 : failed / outcomes.length;
    if (outcomes.length >= cfg.min_outcomes && rate >= cfg.failure_rate) {
      const reason =
        `${failed} of the last ${outcomes.length} outcomes failed or were rolled back ` +
        `(${Math.round(rate * 100)}% ≥ ${Math.round(cfg.failure_rate * 100)}%)`;
      return {
        doc: { ...next, state: 'open', openedAt: at, reason, probe: null },
        change: change('open', reason),
      };
    }
  }
  return { doc: next, change: null };
}

export type BreakerAdmission =
  | { kind: 'pass' }
  /** The cool-down is over: this action is the probe (the breaker goes half-open). */
  | { kind: 'probe'; doc: BreakerDoc; change: BreakerChange | null }
  | { kind: 'blocked'; why: string };

/** Whether an automatic action of this type may proceed now. */
export function admitThroughBreaker(
  doc: BreakerDoc,
  actionId: string,
  cfg: CircuitBreakerConfig,
  now: Date,
): BreakerAdmission {
  if (!cfg.enabled || doc.state === 'closed') return { kind: 'pass' };
  if (doc.probe?.actionId === actionId) return { kind: 'pass' };
  const cooled = (since: string | null) =>
    since !== null && now.getTime() >= Date.parse(since) + minutes(cfg.cooldown_minutes);
  // A probe that never reported (rejected, expired, lost) does not keep the breaker half-open forever.
  const canProbe = doc.state === 'open' ? cooled(doc.openedAt) : cooled(doc.probe?.at ?? null);
  if (canProbe) {
    const at = now.toISOString();
    return {
      kind: 'probe',
      doc: { ...doc, state: 'half_open', probe: { actionId, at } },
      change:
        doc.state === 'open'
          ? {
              actionType: doc.actionType,
              from: 'open',
              to: 'half_open',
              reason: `cool-down over; probe ${actionId}`,
              at,
            }
          : null,
    };
  }
  const why =
    doc.state === 'open'
      ? `opened ${doc.openedAt}: ${doc.reason}`
      : `half-open, waiting for probe ${doc.probe?.actionId ?? '?'}`;
  return { kind: 'blocked', why };
}

/** True when automatic actions of this type are held back now (no probe slot is taken by asking). */
export function breakerHolds(doc: BreakerDoc, actionId: string, cfg: CircuitBreakerConfig): string | null {
  if (!cfg.enabled || doc.state === 'closed' || doc.probe?.actionId === actionId) return null;
  return doc.state === 'open'
    ? `opened ${doc.openedAt}: ${doc.reason}`
    : `half-open, waiting for probe ${doc.probe?.actionId ?? '?'}`;
}
