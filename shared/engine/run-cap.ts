import type { GuardrailsConfig } from '../config/automation-config.js';
import type { DocumentStore, Transaction } from '../ports/document-store.js';
import { stableId } from '../ports/ids.js';

export const RUN_CAPS = 'run-caps';

/** One policy in one sweep run: how many resources it flagged, may fix automatically, and has. */
export interface RunCap {
  sweepId: string;
  policyId: string;
  flagged: number;
  allowed: number;
  used: number;
  /** When the sweep opened it: caps of old runs are pruned (guardrail-housekeeping.ts). */
  openedAt: string;
}

export function runCapId(sweepId: string, policyId: string): string {
  return stableId('run-cap', sweepId, policyId);
}

/** At most max_resources, and at most max_percent of the flagged resources (rounded down); null: no cap. */
export function allowedInRun(cap: GuardrailsConfig['per_run_cap'], flagged: number): number | null {
  const limits: number[] = [];
  if (cap.max_resources !== undefined) limits.push(cap.max_resources);
  if (cap.max_percent !== undefined) limits.push(Math.floor((flagged * cap.max_percent) / 100));
  return limits.length === 0 ? null : Math.min(...limits);
}

/**
 * Written by the sweep before it announces the run's findings. A redelivered sweep keeps what was already
 * used, so running a sweep twice never hands out its allowance twice.
 */
export async function openRunCaps(
  store: DocumentStore,
  cfg: GuardrailsConfig['per_run_cap'],
  sweepId: string,
  flaggedByPolicy: ReadonlyMap<string, number>,
  openedAt: string,
): Promise<void> {
  const entries = [...flaggedByPolicy].flatMap(([policyId, flagged]) => {
    const allowed = allowedInRun(cfg, flagged);
    return allowed === null ? [] : [{ policyId, flagged, allowed }];
  });
  // Firestore allows 500 writes per transaction.
  for (let i = 0; i < entries.length; i += 200) {
    const chunk = entries.slice(i, i + 200);
    await store.transaction(async (tx) => {
      const existing = await Promise.all(chunk.map((e) => tx.get(RUN_CAPS, runCapId(sweepId, e.policyId))));
      chunk.forEach((e, j) => {
        if (existing[j]) return;
        const cap: RunCap = {
          sweepId,
          policyId: e.policyId,
          flagged: e.flagged,
          allowed: e.allowed,
          used: 0,
          openedAt,
        };
        tx.set(RUN_CAPS, runCapId(sweepId, e.policyId), { ...cap });
      });
    });
  }
}

export async function readRunCap(tx: Transaction, sweepId: string, policyId: string): Promise<RunCap | null> {
  const doc = await tx.get(RUN_CAPS, runCapId(sweepId, policyId));
  return doc ? (doc as unknown as RunCap) : null;
}

export function useRunCap(tx: Transaction, cap: RunCap): void {
  tx.set(RUN_CAPS, runCapId(cap.sweepId, cap.policyId), { ...cap, used: cap.used + 1 });
}
