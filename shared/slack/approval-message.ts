import type { Action } from '../model/action.js';
import type { Finding } from '../model/finding.js';
import type { Block, ButtonElement, ChatMessage, ModalView } from '../ports/chat.js';
import { WARDEN_REQUESTER } from '../approvals/identity.js';
import { approversOf, type ApprovalRequest } from '../approvals/request.js';
import type { ApprovalRules } from '../approvals/rules.js';
import { consoleLink } from './console-link.js';
import { clip, esc, link, slackDate } from './mrkdwn.js';

export const APPROVE_ACTION = 'warden_approve';
export const REJECT_ACTION = 'warden_reject';
export const REJECT_CALLBACK = 'warden_reject_reason';
export const REASON_BLOCK = 'reason';
export const REASON_INPUT = 'reason';

const SECTION_MAX = 3000;

/**
 * The cost engine's contract: a finding's estimated monthly saving, in USD, when it has one. Nothing in
 * the engine records it yet, so messages show savings only where a finding carries this evidence.
 */
export function estimatedSavings(finding: Finding | null): number | null {
  const v = finding?.evidence['estimatedMonthlySavingsUsd'];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

function who(person: string, rules: ApprovalRules): string {
  const slack = rules.slackIdOf(person);
  return slack ? `<@${slack}>` : esc(person);
}

function requesterText(request: ApprovalRequest, action: Action, rules: ApprovalRules): string {
  return request.requester
    .map((r) => {
      if (r === WARDEN_REQUESTER) return 'Warden (automatic detection)';
      const person = rules.personOf(r);
      const name = person ? who(person, rules) : esc(r.replace(/^google:/, ''));
      return `${name} (${r === action.requestedBy ? 'asked for it' : 'whose change triggered it'})`;
    })
    .join(', ');
}

function planText(action: Action): string {
  const calls = action.plan.requests
    .map((r) => `${r.method} ${r.url}${r.body === undefined ? '' : `\n${JSON.stringify(r.body, null, 1)}`}`)
    .join('\n');
  return `\`\`\`${clip(esc(calls || '(no API call)'), SECTION_MAX - 8)}\`\`\``;
}

const HEADINGS: Record<ApprovalRequest['status'], string> = {
  pending: ':raising_hand: Approval needed',
  approved: ':white_check_mark: Approved',
  rejected: ':x: Rejected',
  expired: ':hourglass: Expired',
  cancelled: ':heavy_minus_sign: Withdrawn',
};

function statusText(request: ApprovalRequest, rules: ApprovalRules): string {
  const approvers = approversOf(request);
  const tally = `${approvers.length} of ${request.requiredApprovals} approval${request.requiredApprovals > 1 ? 's' : ''}${approvers.length ? `: ${approvers.map((p) => who(p, rules)).join(', ')}` : ''}`;
  switch (request.status) {
    case 'pending':
      return `*Waiting:* ${tally}. Expires ${slackDate(request.expiresAt)}; without a decision nothing is changed.`;
    case 'approved':
      return `*Approved* by ${approvers.map((p) => who(p, rules)).join(', ')} at ${slackDate(request.decidedAt ?? request.expiresAt)}. Warden is applying the change.`;
    case 'rejected': {
      const v = [...request.votes].reverse().find((x) => x.vote === 'reject');
      return `*Rejected* by ${v ? who(v.person, rules) : 'an approver'} at ${slackDate(request.decidedAt ?? request.expiresAt)}: ${esc(v?.reason ?? '')}. Nothing was changed.`;
    }
    case 'expired':
      return `*Expired* at ${slackDate(request.expiresAt)} with ${tally}: the request failed closed and nothing was changed.`;
    case 'cancelled':
      return `*Withdrawn:* ${esc(request.outcomeReason ?? 'the action no longer waits for approval')}.`;
  }
}

function buttons(request: ApprovalRequest): Block {
  const approve: ButtonElement = {
    type: 'button',
    action_id: APPROVE_ACTION,
    text: { type: 'plain_text', text: 'Approve' },
    value: request.id,
    style: 'primary',
  };
  if (request.risk === 'high')
    approve.confirm = {
      title: { type: 'plain_text', text: 'Approve a high-risk change?' },
      text: { type: 'mrkdwn', text: 'Warden applies the plan above once the quorum is reached.' },
      confirm: { type: 'plain_text', text: 'Approve' },
      deny: { type: 'plain_text', text: 'Cancel' },
    };
  return {
    type: 'actions',
    // A fresh block id per revision: Slack asks for one whenever a message is updated.
    block_id: `warden_approval:${request.id}:${request.revision}`,
    elements: [
      approve,
      {
        type: 'button',
        action_id: REJECT_ACTION,
        text: { type: 'plain_text', text: 'Reject' },
        value: request.id,
        style: 'danger',
      },
    ],
  };
}

/** The approval message: what was found, where, the exact change, risk and why, savings, who, expiry. */
export function approvalMessage(input: {
  request: ApprovalRequest;
  action: Action;
  finding: Finding | null;
  rules: ApprovalRules;
}): ChatMessage {
  const { request, action, finding, rules } = input;
  const title = finding?.title ?? action.policyId;
  const url = consoleLink(action.resourceName, action.assetType, action.project);
  const savings = estimatedSavings(finding);
  const why = action.decision.factors.map((f) => `• ${esc(f.factor)}: ${esc(f.effect)}`).join('\n');
  const fields = [
    { type: 'mrkdwn' as const, text: `*Risk*\n${request.risk}` },
    { type: 'mrkdwn' as const, text: `*Requested by*\n${requesterText(request, action, rules)}` },
    { type: 'mrkdwn' as const, text: `*Expires*\n${slackDate(request.expiresAt)}` },
    {
      type: 'mrkdwn' as const,
      text: `*Approvals needed*\n${request.requiredApprovals} distinct approver${request.requiredApprovals > 1 ? 's' : ''}`,
    },
  ];
  if (savings !== null)
    fields.push({ type: 'mrkdwn', text: `*Estimated savings*\n$${savings.toFixed(2)} per month` });
  const blocks: Block[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clip(`${HEADINGS[request.status]}: ${title}`, 150) },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(
          `*Found:* ${esc(title)} (${finding?.severity ?? 'unknown'} severity, policy \`${esc(action.policyId)}\`)\n` +
            `*Resource:* ${link(url, action.resourceName)}\n` +
            `*Project:* ${esc(action.project ?? 'none')}${request.teams.length ? ` · team ${esc(request.teams.join(', '))}` : ''}`,
          SECTION_MAX,
        ),
      },
    },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*The change:* ${esc(action.plan.description)}`, SECTION_MAX) },
    },
    { type: 'section', text: { type: 'mrkdwn', text: planText(action) } },
    { type: 'section', fields },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Why ${request.risk} risk:*\n${why}`, SECTION_MAX) },
    },
    { type: 'divider' },
    { type: 'section', text: { type: 'mrkdwn', text: clip(statusText(request, rules), SECTION_MAX) } },
  ];
  if (request.status === 'pending') blocks.push(buttons(request));
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Warden · action \`${request.actionId}\`${action.decision.dryRun ? ' · dry run: nothing will be changed' : ''}`,
      },
    ],
  });
  const text = `${HEADINGS[request.status].replace(/^:[a-z_]+: /, '')}: ${request.risk}-risk ${action.actionType} on ${action.resourceName}`;
  return { channel: request.message?.channel ?? request.channel, text, blocks };
}

/** The modal a Reject click opens: a reason is required before anything is recorded. */
export function rejectReasonModal(request: ApprovalRequest, action: Action): ModalView {
  return {
    type: 'modal',
    callback_id: REJECT_CALLBACK,
    private_metadata: request.id,
    title: { type: 'plain_text', text: 'Reject the change' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(`${esc(action.plan.description)}\n_on_ \`${esc(action.resourceName)}\``, SECTION_MAX),
        },
      },
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: { type: 'plain_text', text: 'Why reject it? (kept in the audit trail)' },
        element: {
          type: 'plain_text_input',
          action_id: REASON_INPUT,
          multiline: true,
          min_length: 3,
          max_length: 1000,
        },
      },
    ],
  };
}
