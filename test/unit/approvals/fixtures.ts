import { expect } from '@jest/globals';
import { parseApprovalRules, type ApprovalRules } from '../../../shared/approvals/rules.js';
import type { ApprovalRequest } from '../../../shared/approvals/request.js';

/** Two teams, a cross-team platform group for high risk, and people known by Slack, Google or both. */
export const RULES_YAML = `
people:
  alice: { slack: U0ALICE, google: alice@example.com }
  bob: { slack: U0BOB, google: bob@example.com }
  carol: { slack: U0CAROL }
  dave: { google: dave@example.com }
  erin: { slack: U0ERIN }
groups:
  web-approvers: { members: [alice, bob], teams: [web], risks: [low, medium, high] }
  data-approvers: { members: [erin], teams: [data], risks: [medium] }
  platform-leads: { members: [carol, dave], teams: ["*"], risks: [high] }
teams:
  web: { scope: [projects/558120439716, projects/301846275019], channel: "#web-approvals" }
  data: { scope: [folders/519306284417] }
quorum: { medium: 1, high: 2 }
expiry: { medium: 24h, high: 72h }
channels:
  default: "#warden-approvals"
  scopes: { projects/301846275019: "#prod-web" }
notifications: { channel: "#warden", batch_minutes: 15 }
local_approver: alice
`;

export function rules(text = RULES_YAML): ApprovalRules {
  const r = parseApprovalRules('approvals.yaml', text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  expect(r.ok).toBe(true);
  return r.rules;
}

export function request(over: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: 'a1',
    actionId: 'a1',
    findingId: 'f1',
    risk: 'medium',
    scope: ['projects/558120439716', 'folders/519306284417', 'organizations/123456789012'],
    teams: ['web', 'data'],
    requester: ['warden'],
    requiredApprovals: 1,
    createdAt: '2026-11-01T00:00:00.000Z',
    expiresAt: '2026-11-02T00:00:00.000Z',
    status: 'pending',
    votes: [],
    decidedAt: null,
    outcomeReason: null,
    channel: '#web-approvals',
    message: null,
    messageClaimedAt: null,
    messageError: null,
    renderedRevision: -1,
    announced: false,
    revision: 0,
    ...over,
  };
}
