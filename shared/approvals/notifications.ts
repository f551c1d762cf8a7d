import type { Action } from '../model/action.js';
import { autoActionsMessage, dailyDigestMessage } from '../slack/notification-message.js';
import { estimatedSavings } from '../slack/approval-message.js';
import type { ApprovalDeps } from './deps.js';

const NOTIFICATIONS = 'notifications';
const OUTCOMES = 'outcomes';
const FINDINGS = 'findings';
const AUTO_WATERMARK = 'auto-actions';

export type NotifyResult = { status: 'sent'; count: number } | { status: 'skipped'; reason: string };

/**
 * Reports the actions Warden took on its own since the last report, in one message, at most once per
 * `notifications.batch_minutes`. The window is claimed (compare-and-set on the watermark) before posting,
 * so two ticks never report the same actions; a failed post hands the window back.
 */
export async function flushAutoActions(deps: ApprovalDeps, now: Date): Promise<NotifyResult> {
  const chat = deps.chat;
  if (!chat) return { status: 'skipped', reason: 'no chat configured' };
  const store = deps.core.repo.store;
  const until = now.toISOString();
  const windowMs = deps.rules.file.notifications.batch_minutes * 60_000;
  const claim = await store.transaction(async (tx) => {
    const mark = await tx.get(NOTIFICATIONS, AUTO_WATERMARK);
    const since = mark ? String(mark['until']) : null;
    // First run: start counting from now rather than reporting all of history.
    if (since === null || now.getTime() - new Date(since).getTime() >= windowMs)
      tx.set(NOTIFICATIONS, AUTO_WATERMARK, { until });
    if (since === null) return { due: false as const, reason: 'first run: counting from now' };
    if (now.getTime() - new Date(since).getTime() < windowMs)
      return { due: false as const, reason: 'not due' };
    return { due: true as const, since };
  });
  if (!claim.due) return { status: 'skipped', reason: claim.reason };

  // Windows are half-open, [since, until): an outcome stamped at the very instant of a claim falls in the
  // next window rather than being lost between two.
  const outcomes = await store.query(OUTCOMES, {
    where: [
      ['at', '>=', claim.since],
      ['at', '<', until],
    ],
  });
  const taken: Array<{ action: Action; state: string }> = [];
  for (const { doc } of outcomes) {
    const action = await deps.core.repo.getAction(String(doc['actionId']));
    if (action?.decision.kind === 'auto') taken.push({ action, state: String(doc['state']) });
  }
  if (taken.length === 0) return { status: 'skipped', reason: 'nothing taken automatically' };
  try {
    await chat.postMessage(
      autoActionsMessage({
        channel: deps.rules.notificationsChannel(),
        since: claim.since,
        until,
        actions: taken,
      }),
    );
  } catch (err) {
    await store.transaction(async (tx) => {
      const mark = await tx.get(NOTIFICATIONS, AUTO_WATERMARK);
      if (mark?.['until'] === until) tx.set(NOTIFICATIONS, AUTO_WATERMARK, { until: claim.since });
    });
    throw err;
  }
  return { status: 'sent', count: taken.length };
}

/** The daily digest of the 24 hours up to `now`, sent once per UTC day however often it is triggered. */
export async function sendDailyDigest(deps: ApprovalDeps, now: Date): Promise<NotifyResult> {
  const chat = deps.chat;
  if (!chat) return { status: 'skipped', reason: 'no chat configured' };
  if (!deps.rules.file.notifications.daily_digest)
    return { status: 'skipped', reason: 'daily digest disabled' };
  const store = deps.core.repo.store;
  // One per UTC calendar day.
  const id = `digest-${now.toISOString().slice(0, 10)}`;
  const claimed = await store.transaction(async (tx) => {
    if (await tx.get(NOTIFICATIONS, id)) return false;
    tx.set(NOTIFICATIONS, id, { sentAt: now.toISOString() });
    return true;
  });
  if (!claimed) return { status: 'skipped', reason: `digest ${id} already sent` };

  const until = now.toISOString();
  const since = new Date(now.getTime() - 86_400_000).toISOString();
  try {
    const opened = await store.count(FINDINGS, { where: [['firstSeen', '>=', since]] });
    const closed = await store.count(FINDINGS, { where: [['resolvedAt', '>=', since]] });
    const outcomes = await store.query(OUTCOMES, { where: [['at', '>=', since]] });
    const actionsByOutcome: Record<string, number> = {};
    let savings = 0;
    let anySavings = false;
    for (const { doc } of outcomes) {
      const state = String(doc['state']);
      actionsByOutcome[state] = (actionsByOutcome[state] ?? 0) + 1;
      if (state !== 'verified') continue;
      const action = await deps.core.repo.getAction(String(doc['actionId']));
      const s = estimatedSavings(action ? await deps.core.repo.getFinding(action.findingId) : null);
      if (s !== null) {
        savings += s;
        anySavings = true;
      }
    }
    const pending = await Promise.all(
      (await deps.approvals.pending()).map(async (request) => ({
        request,
        action: await deps.core.repo.getAction(request.actionId),
      })),
    );
    await chat.postMessage(
      dailyDigestMessage({
        channel: deps.rules.notificationsChannel(),
        since,
        until,
        findingsOpened: opened,
        findingsClosed: closed,
        actionsByOutcome,
        savingsUsd: anySavings ? savings : null,
        pending,
      }),
    );
    return { status: 'sent', count: outcomes.length };
  } catch (err) {
    await store.transaction(async (tx) => {
      tx.delete(NOTIFICATIONS, id);
    });
    throw err;
  }
}
