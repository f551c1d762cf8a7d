import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { loadApprovalRules, noApprovers, parseApprovalRules } from '../../../shared/approvals/rules.js';
import { projectRoot } from '../../../shared/util/project-root.js';
import { rules } from './fixtures.js';

const errors = (text: string) => {
  const r = parseApprovalRules('approvals.yaml', text);
  if (r.ok) throw new Error('expected errors');
  return r.errors.map((e) => `${e.file}:${e.line}: ${e.message}`);
};

describe('policies/approvals.yaml', () => {
  it('ships valid, with an approver for every team and risk that can reach its quorum', async () => {
    const { rules: shipped, warnings } = await loadApprovalRules(
      path.join(projectRoot(), 'policies', 'approvals.yaml'),
    );
    expect(warnings).toEqual([]);
    expect(shipped.personOf({ kind: 'local' })).not.toBeNull();
    for (const team of Object.keys(shipped.file.teams))
      for (const risk of ['low', 'medium', 'high'] as const)
        expect(shipped.eligible([team], risk).length).toBeGreaterThanOrEqual(shipped.quorum(risk));
  });

  it('points at the line to fix, for every kind of mistake', () => {
    expect(
      errors(`people:
  alice: { slack: U0ALICE }
  bob: { slack: alice }
groups:
  g: { members: [alice, zed], teams: [web, nowhere], risks: [medium, extreme] }
teams:
  web: { scope: [projects/1, buckets/x] }
expiry: { high: 3 weeks }
channels: { default: "#ok" }
local_approver: eve
surprise: true
`),
    ).toEqual([
      'approvals.yaml:3: people.bob.slack: expected a Slack user id (U…)',
      expect.stringMatching(/^approvals\.yaml:5: groups\.g\.risks\.1: /),
      'approvals.yaml:7: teams.web.scope.1: expected organizations/N, folders/N or projects/N',
      'approvals.yaml:8: expiry.high: expected a duration such as 90m, 24h or 3d',
      expect.stringMatching(/^approvals\.yaml:1: .*surprise/),
    ]);
    expect(
      errors(`people:
  alice: { slack: U0ALICE }
  bob: { slack: U0ALICE }
groups:
  g: { members: [alice, zed], teams: [web, nowhere], risks: [medium] }
teams:
  web: { scope: [projects/1] }
channels: { default: "#ok" }
local_approver: eve
`),
    ).toEqual([
      'approvals.yaml:5: groups.g.members.1: unknown person zed',
      'approvals.yaml:5: groups.g.teams.1: unknown team nowhere',
      "approvals.yaml:3: people.bob.slack: slack identity U0ALICE is also alice's",
      'approvals.yaml:9: local_approver: unknown person eve',
    ]);
    expect(errors('channels: {}\n')).toEqual([
      'approvals.yaml:1: channels.default: Invalid input: expected string, received undefined',
    ]);
  });

  it('defaults quorum (1, 1, 2) and expiry (24h, 24h, 72h), and warns when a quorum cannot be met', () => {
    const r = parseApprovalRules(
      'approvals.yaml',
      `people: { ann: { slack: U0ANN } }
groups: { g: { members: [ann], teams: [t], risks: [medium, high] } }
teams: { t: { scope: [projects/1] } }
channels: { default: "#c" }
`,
    );
    if (!r.ok) throw new Error('expected rules');
    expect([1, 1, 2]).toEqual(['low', 'medium', 'high'].map((x) => r.rules.quorum(x as 'low')));
    expect(r.rules.expiryMs('high')).toBe(72 * 3_600_000);
    expect(r.warnings).toEqual([
      'approvals.yaml: team t has 1 approver(s) for high risk but the quorum is 2: such requests can only expire',
    ]);
  });

  it('answers who is who, which teams own a resource, where to post and what a caller may see', () => {
    const R = rules();
    expect(R.personOf({ kind: 'slack', userId: 'U0BOB' })).toBe('bob');
    expect(R.personOf({ kind: 'google', email: 'Bob@Example.com' })).toBe('bob');
    expect(R.personOf({ kind: 'local' })).toBe('alice');
    expect(R.personOf('google:dave@example.com')).toBe('dave');
    expect(R.personOf({ kind: 'slack', userId: 'U0NOBODY' })).toBeNull();
    const devWeb = ['projects/558120439716', 'folders/519306284417', 'organizations/123456789012'];
    expect(R.teamsFor(devWeb)).toEqual(['web', 'data']);
    expect(R.channelFor(['projects/301846275019'], ['web'])).toBe('#prod-web');
    expect(R.channelFor(devWeb, ['web', 'data'])).toBe('#web-approvals');
    expect(R.channelFor(['projects/1'], [])).toBe('#warden-approvals');
    expect(R.visibleScopes('bob')).toEqual(['projects/558120439716', 'projects/301846275019']);
    expect(R.visibleScopes('carol')).toBe('*');
    expect(R.visibleScopes(null)).toEqual([]);
    expect(noApprovers().eligible([], 'low')).toEqual([]);
  });
});
