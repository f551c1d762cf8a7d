import type { ApplyOutcome, UndoOutcome } from './types.js';

/**
 * Some writes take no precondition: the resource has no etag, fingerprint or generation the API would check
 * (Cloud DNS zones and policies, KMS crypto keys, projects' labels, Service Usage services, firewall rules,
 * GKE's set* methods). A change made between capture and write would be silently overwritten, so the
 * resource is re-read right before the write and the write goes ahead only while it is as the recorded state
 * says. That leaves one round trip in which a concurrent change can still be lost, the most these APIs allow.
 * Writes that do take a precondition use the same re-read: it tells "already fixed" from "changed by someone"
 * before anything is sent, where a stale precondition alone could not.
 *
 * Each returns either the outcome to return at once (nothing to send) or the fresh read to write from.
 */
export type Reread<L, O> = { outcome: O } | { live: L };

/** The reason given when the re-read differs: the usual sentence about `what`, or one of the action's own. */
type ChangedReason<L> = { what: string } | { changedReason: (live: L) => string };

export async function rereadBeforeApply<L>(
  read: () => Promise<L | null>,
  guard: {
    /** Why the fix cannot be done on this resource at all (the full conflict reason), if it cannot. */
    refusal?: (live: L) => string | undefined;
    /** The after-state when the resource is already fixed. */
    alreadyApplied: (live: L) => unknown;
    /** Whether the resource is still as it was captured. */
    asCaptured: (live: L) => boolean;
  } & ChangedReason<L>,
): Promise<Reread<L, ApplyOutcome>> {
  const live = await read();
  if (!live) return { outcome: { status: 'gone' } };
  const refused = guard.refusal?.(live);
  if (refused) return { outcome: { status: 'conflict', reason: refused } };
  const after = guard.alreadyApplied(live);
  if (after !== undefined) return { outcome: { status: 'already_applied', after } };
  if (!guard.asCaptured(live)) {
    const reason =
      'what' in guard ? `${guard.what} changed since its state was captured` : guard.changedReason(live);
    return { outcome: { status: 'conflict', reason, stale: true } };
  }
  return { live };
}

export async function rereadBeforeUndo<L>(
  read: () => Promise<L | null>,
  guard: {
    /** Whether the resource is still as the fix left it. */
    asFixLeftIt: (live: L) => boolean;
    /** Whether the resource already has its before-state back (nothing to send). */
    restored?: (live: L) => boolean;
  } & ChangedReason<L>,
): Promise<Reread<L, UndoOutcome>> {
  const live = await read();
  if (!live) return { outcome: { status: 'gone' } };
  if (!guard.asFixLeftIt(live)) {
    const reason =
      'what' in guard
        ? `${guard.what} changed after the fix; restoring would overwrite that change`
        : guard.changedReason(live);
    return { outcome: { status: 'refused', reason } };
  }
  if (guard.restored?.(live)) return { outcome: { status: 'restored' } };
  return { live };
}
