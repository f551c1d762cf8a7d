import type { Action } from '../model/action.js';
import type { Block, ChatMessage } from '../ports/chat.js';
import type { ApprovalRequest } from '../approvals/request.js';
import { clip, esc, slackDate } from './mrkdwn.js';

const LIST_MAX = 20;
const OUTCOME_ICON: Record<string, string> = {
  verified: ':white_check_mark:',
  failed: ':warning:',
  rolled_back: ':leftwards_arrow_with_hook:',
  rejected: ':x:',
  expired: ':hourglass:',
};

/** One message for every action Warden took on its own in a window (never one message per action). */
export function autoActionsMessage(input: {
  channel: string;
  since: string;
  until: string;
  actions: Array<{ action: Action; state: string }>;
}): ChatMessage {
  const byState = new Map<string, number>();
  for (const a of input.actions) byState.set(a.state, (byState.get(a.state) ?? 0) + 1);
  const counts = [...byState]
    .map(([s, n]) => `${OUTCOME_ICON[s] ?? ''} ${n} ${s.replace('_', ' ')}`)
    .join(' · ');
  const lines = input.actions
    .slice(0, LIST_MAX)
    .map(
      ({ action, state }) =>
        `${OUTCOME_ICON[state] ?? '•'} \`${esc(action.actionType)}\` on \`${esc(action.resourceName)}\`: ${state.replace('_', ' ')}${action.error ? ` (${esc(action.error.message)})` : ''}`,
    );
  if (input.actions.length > LIST_MAX) lines.push(`…and ${input.actions.length - LIST_MAX} more`);
  const n = input.actions.length;
  const blocks: Block[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Warden took ${n} action${n === 1 ? '' : 's'} automatically* between ${slackDate(input.since)} and ${slackDate(input.until)}: ${counts}`,
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), 3000) } },
  ];
  return {
    channel: input.channel,
    text: `Warden took ${n} action(s) automatically: ${counts.trim()}`,
    blocks,
  };
}

export interface DigestFacts {
  channel: string;
  since: string;
  until: string;
  findingsOpened: number;
  findingsClosed: number;
  actionsByOutcome: Record<string, number>;
  /** Estimated monthly savings of the fixes verified in the period; null when none are recorded. */
  savingsUsd: number | null;
  pending: Array<{ request: ApprovalRequest; action: Action | null }>;
}

/** The daily digest: findings opened and closed, actions by outcome, savings, what waits for a human. */
export function dailyDigestMessage(f: DigestFacts): ChatMessage {
  const outcomes = Object.entries(f.actionsByOutcome)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${OUTCOME_ICON[s] ?? '•'} ${n} ${s.replace('_', ' ')}`)
    .join(' · ');
  const pendingLines = f.pending
    .slice(0, LIST_MAX)
    .map(
      ({ request, action }) =>
        `• ${request.risk} risk: \`${esc(action?.actionType ?? request.actionId)}\` on \`${esc(action?.resourceName ?? '?')}\`, ${request.votes.filter((v) => v.vote === 'approve').length} of ${request.requiredApprovals} approvals, expires ${slackDate(request.expiresAt)}`,
    );
  if (f.pending.length > LIST_MAX) pendingLines.push(`…and ${f.pending.length - LIST_MAX} more`);
  const fields = [
    { type: 'mrkdwn' as const, text: `*Findings opened*\n${f.findingsOpened}` },
    { type: 'mrkdwn' as const, text: `*Findings closed*\n${f.findingsClosed}` },
    { type: 'mrkdwn' as const, text: `*Actions*\n${outcomes || 'none'}` },
    { type: 'mrkdwn' as const, text: `*Pending approvals*\n${f.pending.length}` },
  ];
  if (f.savingsUsd !== null)
    fields.push({ type: 'mrkdwn', text: `*Estimated savings*\n$${f.savingsUsd.toFixed(2)} per month` });
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Warden daily digest' } },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${slackDate(f.since)} to ${slackDate(f.until)}` }],
    },
    { type: 'section', fields },
  ];
  if (pendingLines.length)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Waiting for a decision:*\n${pendingLines.join('\n')}`, 3000) },
    });
  return {
    channel: f.channel,
    text: `Warden daily digest: ${f.findingsOpened} findings opened, ${f.findingsClosed} closed, ${f.pending.length} approvals pending`,
    blocks,
  };
}
