import type { Deps } from '../engine/deps.js';
import { expiryAudit } from './cast-vote.js';
import { approvalStoreFor } from './deps.js';
import { expireIfDue } from './judge.js';
import type { ApprovalRequest } from './request.js';
import { settle } from './settle.js';

/**
 * Expires every pending request past its expiry and fails it closed: the action goes to `expired` (never
 * executed) and its outcome is reported. Needs only the engine's Deps, so the sweep can call it; the Slack
 * messages of what it expired are updated by the next approval tick. Idempotent.
 */
export async function expireApprovals(deps: Deps, now: Date): Promise<ApprovalRequest[]> {
  const approvals = approvalStoreFor(deps);
  const due = (await approvals.pending()).filter((r) => r.expiresAt <= now.toISOString());
  const expired: ApprovalRequest[] = [];
  for (const r of due) {
    const done = await approvals.change(r.id, (current) => {
      const next = current ? expireIfDue(current, now) : null;
      return next ? { result: next, next, audit: [expiryAudit(next)] } : { result: null };
    });
    if (!done) continue;
    await settle({ core: deps, approvals, liveBus: true }, done);
    expired.push(done);
  }
  return expired;
}
