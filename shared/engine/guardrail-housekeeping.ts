import type { DocumentStore } from '../ports/document-store.js';
import { RATE_COUNTERS } from './rate-limits.js';
import { RUN_CAPS } from './run-cap.js';

/** A window's counter is read only while the window is open; a day's grace covers late deliveries. */
const RATE_GRACE_MS = 24 * 3_600_000;
/** A run's caps are read while its findings are decided, which redelivery can stretch over days. */
const RUN_CAP_KEEP_MS = 7 * 24 * 3_600_000;
/** Firestore allows 500 writes per transaction. */
const BATCH = 400;

/**
 * Guardrail documents no decision will read again: counters of windows long closed, caps of old runs.
 * Without this both collections grow by a document per window and per run for ever. Run by the sweep.
 */
export async function pruneGuardrailDocs(store: DocumentStore, now: Date): Promise<number> {
  const rates = await pruneWhere(store, RATE_COUNTERS, 'windowEnd', new Date(now.getTime() - RATE_GRACE_MS));
  const caps = await pruneWhere(store, RUN_CAPS, 'openedAt', new Date(now.getTime() - RUN_CAP_KEEP_MS));
  return rates + caps;
}

async function pruneWhere(
  store: DocumentStore,
  collection: string,
  field: string,
  before: Date,
): Promise<number> {
  let pruned = 0;
  for (;;) {
    const old = await store.query(collection, { where: [[field, '<', before.toISOString()]], limit: BATCH });
    if (old.length === 0) return pruned;
    await store.transaction(async (tx) => {
      for (const { id } of old) tx.delete(collection, id);
    });
    pruned += old.length;
    if (old.length < BATCH) return pruned;
  }
}
