import type { GuardrailsConfig, RateLimit } from '../config/automation-config.js';
import type { Action } from '../model/action.js';
import type { Transaction } from '../ports/document-store.js';
import { stableId } from '../ports/ids.js';
import type { RateUse } from './guardrails.js';

export const RATE_COUNTERS = 'rate-counters';

/** One counter: a scope (a project, an action type) in one fixed window aligned to the epoch. */
export interface RateKey {
  id: string;
  scope: string;
  max: number;
  windowMinutes: number;
  windowStart: string;
  windowEnd: string;
}

function key(scope: string, limit: RateLimit, now: Date): RateKey {
  const ms = limit.window_minutes * 60_000;
  const start = Math.floor(now.getTime() / ms) * ms;
  const windowStart = new Date(start).toISOString();
  return {
    id: stableId('rate', scope, windowStart, String(ms)),
    scope,
    max: limit.max,
    windowMinutes: limit.window_minutes,
    windowStart,
    windowEnd: new Date(start + ms).toISOString(),
  };
}

/** The counters an action moving into `planned` or `approved` counts against. */
export function rateKeys(
  limits: GuardrailsConfig['rate_limits'],
  action: Pick<Action, 'project' | 'actionType'>,
  now: Date,
): RateKey[] {
  const keys: RateKey[] = [];
  if (limits.per_project && action.project)
    keys.push(key(`project ${action.project}`, limits.per_project, now));
  const perType = limits.by_action_type[action.actionType] ?? limits.per_action_type;
  if (perType) keys.push(key(`action type ${action.actionType}`, perType, now));
  return keys;
}

export type RateRead = RateKey & RateUse;

/** Reads the counters inside the transaction that will count against them (reads before writes). */
export async function readRateUses(tx: Transaction, keys: readonly RateKey[]): Promise<RateRead[]> {
  return Promise.all(
    keys.map(async (k) => {
      const doc = await tx.get(RATE_COUNTERS, k.id);
      return { ...k, used: Number(doc?.['count'] ?? 0) };
    }),
  );
}

export function countRateUses(tx: Transaction, uses: readonly RateRead[], actionId: string): void {
  for (const u of uses)
    tx.set(RATE_COUNTERS, u.id, {
      scope: u.scope,
      windowStart: u.windowStart,
      windowEnd: u.windowEnd,
      max: u.max,
      count: u.used + 1,
      lastActionId: actionId,
    });
}
