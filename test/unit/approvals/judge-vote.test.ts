import { describe, expect, it } from '@jest/globals';
import { expireIfDue, judgeVote, type VoteInput } from '../../../shared/approvals/judge.js';
import type { ApprovalRequest } from '../../../shared/approvals/request.js';
import { request, rules } from './fixtures.js';

const R = rules();
const at = (iso: string) => new Date(iso);
const NOW = at('2026-11-01T10:00:00.000Z');
const slack = (
  userId: string,
  vote: VoteInput['vote'] = 'approve',
  reason: string | null = null,
): VoteInput => ({
  voter: { kind: 'slack', userId },
  vote,
  reason,
  via: 'slack',
});

/** Applies votes in order, as the store would, returning every outcome. */
function run(r: ApprovalRequest, votes: VoteInput[], now = NOW) {
  let current = r;
  const outcomes = [];
  for (const v of votes) {
    const j = judgeVote(current, v, R, now);
    outcomes.push(j.outcome);
    if (j.next) current = j.next;
  }
  return { outcomes, request: current };
}

describe('judgeVote: the approval rules, one pure function', () => {
  it('approves a medium-risk request with one approver of the team, recording who and through what', () => {
    const j = judgeVote(request(), slack('U0ALICE'), R, NOW);
    expect(j.outcome).toEqual({ kind: 'approved', approvers: ['alice'] });
    expect(j.next).toMatchObject({
      status: 'approved',
      decidedAt: NOW.toISOString(),
      revision: 1,
      votes: [{ person: 'alice', identity: 'slack:U0ALICE', vote: 'approve', via: 'slack', reason: null }],
    });
  });

  it('needs N distinct approvers at high risk: the same person through Slack and the API counts once', () => {
    const high = request({ risk: 'high', requiredApprovals: 2 });
    const { outcomes, request: after } = run(high, [
      slack('U0ALICE'),
      { voter: { kind: 'google', email: 'ALICE@example.com' }, vote: 'approve', reason: null, via: 'api' },
      slack('U0CAROL'),
    ]);
    expect(outcomes).toEqual([
      { kind: 'pending', approvals: 1, required: 2 },
      {
        kind: 'refused',
        reason: 'already_voted',
        detail: expect.stringContaining('alice already voted approve'),
      },
      { kind: 'approved', approvers: ['alice', 'carol'] },
    ]);
    expect(after.status).toBe('approved');
    expect(after.votes.map((v) => v.person)).toEqual(['alice', 'carol']);
  });

  it('counts a double click once and changes nothing the second time', () => {
    const high = request({ risk: 'high', requiredApprovals: 2 });
    const first = judgeVote(high, slack('U0BOB'), R, NOW);
    const second = judgeVote(first.next!, slack('U0BOB'), R, NOW);
    expect(second.outcome).toMatchObject({ kind: 'refused', reason: 'already_voted' });
    expect(second.next).toBeNull();
  });

  it('lets one rejection veto, even after approvals and even from an earlier approver', () => {
    const high = request({ risk: 'high', requiredApprovals: 2 });
    const { outcomes, request: after } = run(high, [
      slack('U0ALICE'),
      slack('U0ALICE', 'reject', 'wrong bucket'),
    ]);
    expect(outcomes[1]).toEqual({ kind: 'rejected', by: 'alice', reason: 'wrong bucket' });
    expect(after).toMatchObject({ status: 'rejected', outcomeReason: 'rejected by alice: wrong bucket' });
    expect(judgeVote(after, slack('U0CAROL'), R, NOW).outcome).toMatchObject({
      kind: 'refused',
      reason: 'already_decided',
    });
  });

  it('requires a reason to reject', () => {
    expect(judgeVote(request(), slack('U0ALICE', 'reject', '   '), R, NOW).outcome).toMatchObject({
      kind: 'refused',
      reason: 'reason_required',
    });
  });

  it('never lets the requester approve, by any of their identities; they may still reject', () => {
    const byBob = request({ requester: ['google:bob@example.com'] });
    expect(judgeVote(byBob, slack('U0BOB'), R, NOW).outcome).toMatchObject({
      kind: 'refused',
      reason: 'self_approval',
    });
    expect(
      judgeVote(
        byBob,
        { voter: { kind: 'google', email: 'bob@example.com' }, vote: 'approve', reason: null, via: 'api' },
        R,
        NOW,
      ).outcome,
    ).toMatchObject({ reason: 'self_approval' });
    expect(judgeVote(byBob, slack('U0BOB', 'reject', 'not now'), R, NOW).outcome.kind).toBe('rejected');
    // The local user is alice: a request alice made cannot be approved from the status page or CLI.
    const byAlice = request({ requester: ['person:alice'] });
    expect(
      judgeVote(byAlice, { voter: { kind: 'local' }, vote: 'approve', reason: null, via: 'cli' }, R, NOW)
        .outcome,
    ).toMatchObject({ reason: 'self_approval' });
    expect(judgeVote(byAlice, slack('U0BOB'), R, NOW).outcome.kind).toBe('approved');
  });

  it('refuses strangers and people outside the team or the risk level, and changes nothing', () => {
    const cases: Array<[VoteInput, string]> = [
      [slack('U0STRANGER'), 'slack:U0STRANGER is not an approver'],
      [
        {
          voter: { kind: 'google', email: 'mallory@example.com' },
          vote: 'approve',
          reason: null,
          via: 'api',
        },
        'not an approver',
      ],
      // carol approves high risk anywhere, but not medium
      [slack('U0CAROL'), 'carol may not approve medium-risk changes'],
    ];
    for (const [vote, detail] of cases) {
      const j = judgeVote(request(), vote, R, NOW);
      expect(j.outcome).toEqual({
        kind: 'refused',
        reason: 'not_an_approver',
        detail: expect.stringContaining(detail),
      });
      expect(j.next).toBeNull();
    }
    // erin approves data's medium-risk requests only
    const webOnly = request({ teams: ['web'] });
    expect(judgeVote(webOnly, slack('U0ERIN'), R, NOW).outcome).toMatchObject({ reason: 'not_an_approver' });
    expect(judgeVote(request({ teams: ['data'] }), slack('U0ERIN'), R, NOW).outcome.kind).toBe('approved');
    // Outside every team only "*" groups may decide.
    const orphan = request({ teams: [], risk: 'high', requiredApprovals: 2 });
    expect(judgeVote(orphan, slack('U0ALICE'), R, NOW).outcome).toMatchObject({ reason: 'not_an_approver' });
    expect(judgeVote(orphan, slack('U0CAROL'), R, NOW).outcome.kind).toBe('pending');
  });

  it('fails closed at expiry: votes are refused and the request expires', () => {
    const r = request();
    const late = at(r.expiresAt);
    expect(judgeVote(r, slack('U0ALICE'), R, late).outcome).toMatchObject({
      kind: 'refused',
      reason: 'expired',
    });
    expect(judgeVote(r, slack('U0ALICE'), R, at('2026-11-01T23:59:59.999Z')).outcome.kind).toBe('approved');
    expect(expireIfDue(r, at('2026-11-01T23:59:59.999Z'))).toBeNull();
    expect(expireIfDue(r, late)).toMatchObject({ status: 'expired', revision: 1, decidedAt: r.expiresAt });
    expect(expireIfDue({ ...r, status: 'approved' }, late)).toBeNull();
  });

  it('judges on the request as stored: a decided or withdrawn request takes no more votes', () => {
    for (const status of ['approved', 'rejected', 'expired', 'cancelled'] as const)
      expect(judgeVote(request({ status }), slack('U0ALICE'), R, NOW).outcome).toMatchObject({
        reason: 'already_decided',
      });
  });
});
