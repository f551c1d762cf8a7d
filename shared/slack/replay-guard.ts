import type { Clock } from '../ports/clock.js';
import type { DocumentStore } from '../ports/document-store.js';
import { stableId } from '../ports/ids.js';
import { SLACK_SIGNATURE_WINDOW_SECONDS } from './signature.js';

const SLACK_REPLAYS = 'slack-replays';

/**
 * Signatures already accepted, kept a little longer than Slack's 5-minute window (beyond it the timestamp
 * check refuses the request anyway). Held in the store, so every instance of the endpoint sees them.
 */
export class ReplayGuard {
  constructor(
    private readonly store: DocumentStore,
    private readonly clock: Clock,
    private readonly ttlMs = 2 * SLACK_SIGNATURE_WINDOW_SECONDS * 1000,
  ) {}

  /** true the first time a signature is offered within its lifetime; false for a replay. */
  async firstUse(signature: string): Promise<boolean> {
    const id = stableId('slack-signature', signature);
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      const seen = await tx.get(SLACK_REPLAYS, id);
      if (seen && String(seen['expiresAt']) > now.toISOString()) return false;
      tx.set(SLACK_REPLAYS, id, { expiresAt: new Date(now.getTime() + this.ttlMs).toISOString() });
      return true;
    });
  }

  /** Forgets signatures past their lifetime (run from the periodic approval tick). */
  async prune(): Promise<number> {
    const now = this.clock.now().toISOString();
    const old = await this.store.query(SLACK_REPLAYS, { where: [['expiresAt', '<=', now]], limit: 500 });
    if (old.length === 0) return 0;
    await this.store.transaction(async (tx) => {
      for (const { id } of old) tx.delete(SLACK_REPLAYS, id);
    });
    return old.length;
  }
}
