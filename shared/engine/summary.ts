import { ACTION_STATES, type ActionState } from '../model/action.js';
import { LAYERS, SEVERITIES, type Layer, type Severity } from '../model/policy.js';
import type { Repository } from './repository.js';

export interface Compliance {
  /** Share of (resource, policy) checks that pass, in percent with one decimal. */
  percent: number;
  evaluations: number;
  violations: number;
}

export interface Summary {
  findings: {
    total: number;
    open: number;
    resolved: number;
    suppressed: number;
    bySeverity: Record<Severity, number>;
    byLayer: Record<Layer, number>;
  };
  actions: {
    total: number;
    verified: number;
    awaitingApproval: number;
    failed: number;
    rolledBack: number;
    recommended: number;
    inProgress: number;
    byState: Record<ActionState, number>;
  };
  compliance: {
    before: number | null;
    after: number | null;
    detail: { before: Compliance | null; after: Compliance | null };
  };
}

export function compliance(evaluations: number, violations: number): Compliance {
  const percent =
    evaluations === 0 ? 100 : Math.round(((evaluations - violations) / evaluations) * 1000) / 10;
  return { percent, evaluations, violations };
}

/** Counts straight from the store, so every run mode (and the API) reports the same numbers. */
export async function summarize(
  repo: Repository,
  before: Compliance | null,
  after: Compliance | null,
): Promise<Summary> {
  const count = (field: string, value: string) => repo.countFindings([[field, '==', value]]);
  const bySeverity = Object.fromEntries(
    await Promise.all(SEVERITIES.map(async (s) => [s, await count('severity', s)])),
  ) as Record<Severity, number>;
  const byLayer = Object.fromEntries(
    await Promise.all(LAYERS.map(async (l) => [l, await count('layer', l)])),
  ) as Record<Layer, number>;
  const byState = Object.fromEntries(
    await Promise.all(ACTION_STATES.map(async (s) => [s, await repo.countActions([['state', '==', s]])])),
  ) as Record<ActionState, number>;
  return {
    findings: {
      total: await repo.countFindings(),
      open: await count('status', 'open'),
      resolved: await count('status', 'resolved'),
      suppressed: await count('status', 'suppressed'),
      bySeverity,
      byLayer,
    },
    actions: {
      total: Object.values(byState).reduce((a, b) => a + b, 0),
      verified: byState.verified,
      awaitingApproval: byState.awaiting_approval,
      failed: byState.failed,
      rolledBack: byState.rolled_back,
      recommended: byState.recommended,
      inProgress: byState.planned + byState.approved + byState.executing + byState.succeeded,
      byState,
    },
    compliance: { before: before?.percent ?? null, after: after?.percent ?? null, detail: { before, after } },
  };
}
