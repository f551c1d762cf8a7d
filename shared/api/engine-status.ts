import type { z } from 'zod';
import { APPROVALS } from '../approvals/approval-store.js';
import type { Deps } from '../engine/deps.js';
import { activeFreeze } from '../engine/freeze-windows.js';
import type { StatusSchema } from './schemas.js';

const SWEEPS = 'sweeps';
const DEAD_LETTERS = 'dead-letters';

/**
 * Engine health from the store, the same in every mode: the work waiting in each state (the queues that
 * matter: Pub/Sub backlogs are Cloud Monitoring's), the last sweep, and the guardrails as they stand now.
 */
export async function engineStatus(
  core: Deps,
  mode: 'embedded' | 'production',
): Promise<z.output<typeof StatusSchema>> {
  const store = core.repo.store;
  const now = core.clock.now();
  try {
    const count = (state: string) => core.repo.countActions([['state', '==', state]]);
    const [awaitingApproval, approved, planned, executing, pendingApprovals, deadLetters] = await Promise.all(
      [
        count('awaiting_approval'),
        count('approved'),
        count('planned'),
        count('executing'),
        store.count(APPROVALS, { where: [['status', '==', 'pending']] }),
        store.count(DEAD_LETTERS),
      ],
    );
    const [last] = await store.query(SWEEPS, {
      orderBy: { field: 'finishedAt', direction: 'desc' },
      limit: 1,
    });
    const sweep = last?.doc;
    const guardrails = core.automation.guardrails;
    const freeze = activeFreeze(guardrails.freeze, now);
    const breakers = (await core.repo.listBreakers()).map((b) => ({
      actionType: b.actionType,
      state: b.state,
      openedAt: b.openedAt,
      reason: b.reason,
    }));
    return {
      status: 'ok',
      mode,
      time: now.toISOString(),
      checks: { store: 'ok' },
      dryRun: core.automation.dry_run,
      queues: { awaitingApproval, approved, planned, executing, pendingApprovals, deadLetters },
      lastSweep: sweep
        ? {
            sweepId: String(sweep['sweepId']),
            scope: String(sweep['scope']),
            startedAt: String(sweep['startedAt']),
            finishedAt: String(sweep['finishedAt']),
            assets: Number(sweep['assets'] ?? 0),
            violations: Number(sweep['violations'] ?? 0),
          }
        : null,
      guardrails: [
        { name: 'dry_run', active: core.automation.dry_run },
        { name: 'change_freeze', active: freeze !== null, ...(freeze ?? {}) },
        { name: 'rate_limits', ...guardrails.rate_limits },
        { name: 'per_run_cap', ...guardrails.per_run_cap },
        { name: 'circuit_breaker', ...guardrails.circuit_breaker },
      ],
      breakers,
    };
  } catch (err) {
    core.logger.error('status: the store did not answer', {
      error: err instanceof Error ? err.message : String(err),
    });
    return {
      status: 'degraded',
      mode,
      time: now.toISOString(),
      checks: { store: 'error' },
      dryRun: core.automation.dry_run,
      queues: null,
      lastSweep: null,
      guardrails: [],
      breakers: [],
    };
  }
}
