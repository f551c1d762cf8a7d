import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryChat } from '../../../shared/adapters/chat-memory.js';
import { castVote } from '../../../shared/approvals/cast-vote.js';
import { buildApprovalDeps, type ApprovalDeps } from '../../../shared/approvals/deps.js';
import { expireApprovals } from '../../../shared/approvals/expire.js';
import type { Identity } from '../../../shared/approvals/identity.js';
import { openRequest, postRequestMessage } from '../../../shared/approvals/open-request.js';
import { runApprovalTick } from '../../../shared/approvals/tick.js';
import { recordChangeAuthor } from '../../../shared/engine/change-authors.js';
import type { Action } from '../../../shared/model/action.js';
import type { Risk } from '../../../shared/model/policy.js';
import { ManualClock } from '../../../shared/ports/clock.js';
import { MemoryLogger } from '../../../shared/ports/logger.js';
import { loadEngineConfig, type EngineConfig } from '../../../shared/roots/build-deps.js';
import { ChatError } from '../../../shared/ports/chat.js';
import { recordingCore, type Published } from '../../support/recording-core.js';
import { rules } from './fixtures.js';

const T0 = '2026-11-01T10:00:00.000Z';
let config: EngineConfig;
beforeAll(async () => {
  config = await loadEngineConfig(new MemoryLogger());
});

interface World {
  deps: ApprovalDeps;
  clock: ManualClock;
  chat: MemoryChat;
  published: Published;
  close(): Promise<void>;
}
const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close();
});

async function world(opts: { liveBus?: boolean } = {}): Promise<World> {
  const clock = new ManualClock(T0);
  const { core, published, close } = await recordingCore(config, clock, ['actions', 'outcomes']);
  const chat = new MemoryChat({
    'web-approvals': 'C0WEB',
    'warden-approvals': 'C0DEFAULT',
    warden: 'C0WARDEN',
  });
  const deps = buildApprovalDeps({ core, rules: rules(), chat, liveBus: opts.liveBus ?? true });
  const w = {
    deps,
    clock,
    chat,
    published,
    close,
  };
  worlds.push(w);
  return w;
}

let n = 0;
async function seedAction(
  w: World,
  risk: Risk,
  project = 'projects/558120439716',
  extra: Partial<Action> = {},
): Promise<Action> {
  n += 1;
  const now = w.clock.now().toISOString();
  const action: Action = {
    id: `action-${n}`,
    findingId: `finding-${n}`,
    policyId: 'storage-bucket-uniform-access',
    actionType: 'storage.bucket.enable-uniform-access',
    resourceName: `//storage.googleapis.com/bucket-${n}`,
    assetType: 'storage.googleapis.com/Bucket',
    project,
    assetVersion: now,
    state: 'awaiting_approval',
    decision: { kind: 'approve', risk, factors: [{ factor: 'base risk', effect: risk }], dryRun: false },
    plan: {
      description: 'Enable uniform bucket-level access',
      requests: [
        { method: 'PATCH', url: `https://storage.googleapis.com/storage/v1/b/bucket-${n}`, body: {} },
      ],
    },
    reversible: true,
    step: 'none',
    beforeState: null,
    afterState: null,
    error: null,
    attempts: 0,
    replans: 0,
    requestedBy: null,
    leaseUntil: null,
    createdAt: now,
    updatedAt: now,
    revision: 0,
    ...extra,
  };
  await w.deps.core.repo.createAction(action, { actor: 'assess-risk', reason: 'test' });
  return action;
}

const slack = (userId: string): Identity => ({ kind: 'slack', userId });
const vote = (
  w: World,
  id: string,
  voter: Identity,
  choice: 'approve' | 'reject' = 'approve',
  reason: string | null = null,
) =>
  castVote(w.deps, {
    approvalId: id,
    voter,
    vote: choice,
    reason,
    via: voter.kind === 'slack' ? 'slack' : 'api',
  });

async function snapshot(w: World, id: string) {
  return {
    request: await w.deps.approvals.get(id),
    action: await w.deps.core.repo.getAction(id),
    audit: (await w.deps.core.repo.readAuditRecords()).length,
  };
}

describe('approval requests', () => {
  it('opens a request once, with quorum and expiry fixed by risk, and posts its message once in the team channel', async () => {
    const w = await world();
    const a = await seedAction(w, 'high');
    const [first, second] = await Promise.all([openRequest(w.deps, a.id), openRequest(w.deps, a.id)]);
    expect([first.status, second.status].sort()).toEqual(['exists', 'opened']);
    const r = await w.deps.approvals.get(a.id);
    expect(r).toMatchObject({
      requiredApprovals: 2,
      expiresAt: '2026-11-04T10:00:00.000Z',
      teams: ['web'],
      channel: '#web-approvals',
      requester: ['warden'],
    });
    await Promise.all([postRequestMessage(w.deps, a.id), postRequestMessage(w.deps, a.id)]);
    expect(w.chat.list()).toHaveLength(1);
    const posted = w.chat.list()[0]!;
    expect(posted.channel).toBe('C0WEB');
    expect(JSON.stringify(posted.blocks)).toContain('"action_id":"warden_approve"');
    expect(await w.deps.approvals.get(a.id)).toMatchObject({ message: { channel: 'C0WEB', ts: posted.ts } });
    expect((await w.deps.core.repo.verifyAudit()).ok).toBe(true);
  });

  it('routes by scope override, then team, then the default channel', async () => {
    const w = await world();
    const prod = await seedAction(w, 'medium', 'projects/301846275019');
    const orphan = await seedAction(w, 'medium', 'projects/999');
    await openRequest(w.deps, prod.id);
    await openRequest(w.deps, orphan.id);
    expect((await w.deps.approvals.get(prod.id))?.channel).toBe('#prod-web');
    expect((await w.deps.approvals.get(orphan.id))?.channel).toBe('#warden-approvals');
  });

  it('records a permanent Slack failure and keeps the request decidable; a transient one is retried', async () => {
    const w = await world();
    const a = await seedAction(w, 'medium');
    await openRequest(w.deps, a.id);
    w.chat.failNext('postMessage', 'ratelimited');
    await expect(postRequestMessage(w.deps, a.id)).rejects.toBeInstanceOf(ChatError);
    // The claim was handed back: the redelivery posts.
    expect((await postRequestMessage(w.deps, a.id)).status).toBe('posted');

    const b = await seedAction(w, 'medium');
    await openRequest(w.deps, b.id);
    w.chat.failNext('postMessage', 'channel_not_found');
    expect(await postRequestMessage(w.deps, b.id)).toMatchObject({ status: 'failed' });
    expect((await w.deps.approvals.get(b.id))?.messageError).toContain('channel_not_found');
    expect((await vote(w, b.id, slack('U0BOB'))).outcome.kind).toBe('approved');
  });
});

describe('votes', () => {
  it('approves at quorum, moves the action, hands it to the executor once and updates the message', async () => {
    const w = await world();
    const a = await seedAction(w, 'medium');
    await openRequest(w.deps, a.id);
    await postRequestMessage(w.deps, a.id);
    const result = await vote(w, a.id, slack('U0BOB'));
    expect(result.outcome).toEqual({ kind: 'approved', approvers: ['bob'] });
    await w.deps.core.bus.drain();
    expect((await w.deps.core.repo.getAction(a.id))?.state).toBe('approved');
    expect(w.published).toEqual([{ topic: 'actions', data: { kind: 'action', actionId: a.id } }]);
    const message = w.chat.list()[0]!;
    expect(message.history).toHaveLength(2);
    expect(JSON.stringify(message.blocks)).toContain('*Approved* by <@U0BOB>');
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    // A repeat (double click, Slack retry, the API) changes nothing and announces nothing again.
    const again = await vote(w, a.id, slack('U0BOB'));
    expect(again.outcome).toMatchObject({ kind: 'refused', reason: 'already_decided' });
    await runApprovalTick(w.deps);
    await w.deps.core.bus.drain();
    const audit = await w.deps.core.repo.readAuditRecords();
    expect(audit.map((r) => r['kind'])).toEqual(
      expect.arrayContaining(['approval.requested', 'approval.vote', 'approval.approved', 'action.approved']),
    );
    expect(audit.find((r) => r['kind'] === 'approval.vote')?.['actor']).toBe('slack:U0BOB');
    expect((await w.deps.core.repo.verifyAudit()).ok).toBe(true);
  });

  it('counts concurrent double clicks once', async () => {
    const w = await world();
    const a = await seedAction(w, 'high');
    await openRequest(w.deps, a.id);
    const results = await Promise.all([vote(w, a.id, slack('U0ALICE')), vote(w, a.id, slack('U0ALICE'))]);
    expect(results.map((r) => r.outcome.kind).sort()).toEqual(['pending', 'refused']);
    expect((await w.deps.approvals.get(a.id))?.votes).toHaveLength(1);
    expect((await w.deps.core.repo.getAction(a.id))?.state).toBe('awaiting_approval');
  });

  it('needs two distinct approvers at high risk, across Slack and the API', async () => {
    const w = await world();
    const a = await seedAction(w, 'high');
    expect((await vote(w, a.id, slack('U0ALICE'))).outcome).toEqual({
      kind: 'pending',
      approvals: 1,
      required: 2,
    });
    expect((await vote(w, a.id, { kind: 'google', email: 'alice@example.com' })).outcome).toMatchObject({
      reason: 'already_voted',
    });
    expect((await vote(w, a.id, { kind: 'google', email: 'dave@example.com' })).outcome).toEqual({
      kind: 'approved',
      approvers: ['alice', 'dave'],
    });
    expect((await w.deps.core.repo.getAction(a.id))?.state).toBe('approved');
  });

  it('lets one rejection veto: the action is rejected and its outcome reported', async () => {
    const w = await world();
    const a = await seedAction(w, 'high');
    await vote(w, a.id, slack('U0ALICE'));
    const r = await vote(w, a.id, slack('U0CAROL'), 'reject', 'needs a change window');
    expect(r.outcome).toEqual({ kind: 'rejected', by: 'carol', reason: 'needs a change window' });
    await w.deps.core.bus.drain();
    expect(await w.deps.core.repo.getAction(a.id)).toMatchObject({
      state: 'rejected',
      error: { message: 'rejected by carol: needs a change window' },
    });
    expect(w.published).toEqual([
      { topic: 'outcomes', data: { kind: 'outcome', actionId: a.id, state: 'rejected' } },
    ]);
    expect((await vote(w, a.id, slack('U0BOB'))).outcome).toMatchObject({ reason: 'already_decided' });
  });

  it('never lets the requester approve, and a refused or unauthorised vote changes nothing at all', async () => {
    const w = await world();
    const a = await seedAction(w, 'medium');
    await openRequest(w.deps, a.id, ['google:bob@example.com']);
    const before = await snapshot(w, a.id);
    for (const [voter, reason] of [
      [slack('U0BOB'), 'self_approval'],
      [slack('U0STRANGER'), 'not_an_approver'],
      [slack('U0CAROL'), 'not_an_approver'],
      [{ kind: 'google', email: 'mallory@example.com' }, 'not_an_approver'],
    ] as Array<[Identity, string]>)
      expect((await vote(w, a.id, voter)).outcome).toMatchObject({ kind: 'refused', reason });
    expect(await snapshot(w, a.id)).toEqual(before);
    // Another approver of the team may.
    expect((await vote(w, a.id, slack('U0ALICE'))).outcome.kind).toBe('approved');
  });

  it('names the author of the change (Cloud Audit Logs) as requester; authors, known early or late, never approve', async () => {
    const w = await world();
    const a = await seedAction(w, 'high');
    const change = (principal: string, at: string, insertId: string) =>
      recordChangeAuthor(w.deps.core.repo.store, {
        insertId,
        principal,
        at,
        method: 'storage.setIamPermissions',
        resourceNames: [a.resourceName],
      });
    // Bob's change an hour before; Dave's two days before, outside the 24 h lookback.
    await change('bob@example.com', '2026-11-01T09:00:00Z', 'e1');
    await change('dave@example.com', '2026-10-30T09:00:00Z', 'e2');
    expect(await change('bob@example.com', '2026-11-01T09:00:00Z', 'e1')).toBe('duplicate');
    const opened = await openRequest(w.deps, a.id);
    expect(opened).toMatchObject({ status: 'opened', request: { requester: ['google:bob@example.com'] } });
    await postRequestMessage(w.deps, a.id);
    expect(JSON.stringify(w.chat.list()[0]?.blocks)).toContain('<@U0BOB> (whose change triggered it)');
    expect((await vote(w, a.id, slack('U0BOB'))).outcome).toMatchObject({
      reason: 'self_approval',
      detail: 'bob requested this change and cannot approve it',
    });
    // Alice changes it again while the request waits: her vote is refused too, though she is no requester.
    await change('alice@example.com', '2026-11-01T10:05:00Z', 'e3');
    const before = await snapshot(w, a.id);
    expect((await vote(w, a.id, slack('U0ALICE'))).outcome).toMatchObject({
      reason: 'self_approval',
      detail: 'alice made the change this fix answers and cannot approve it',
    });
    expect(await snapshot(w, a.id)).toEqual(before);
    // Carol never touched it; Dave's change is older than the lookback: together they are the quorum of two.
    expect((await vote(w, a.id, slack('U0CAROL'))).outcome.kind).toBe('pending');
    expect((await vote(w, a.id, { kind: 'google', email: 'dave@example.com' })).outcome.kind).toBe(
      'approved',
    );
  });

  it('names who asked for the run through the API as requester, and they cannot approve it', async () => {
    const w = await world();
    const a = await seedAction(w, 'medium', undefined, { requestedBy: 'google:bob@example.com' });
    expect(await openRequest(w.deps, a.id)).toMatchObject({
      request: { requester: ['google:bob@example.com'] },
    });
    await postRequestMessage(w.deps, a.id);
    expect(JSON.stringify(w.chat.list()[0]?.blocks)).toContain('<@U0BOB> (asked for it)');
    expect((await vote(w, a.id, slack('U0BOB'))).outcome).toMatchObject({ reason: 'self_approval' });
    expect((await vote(w, a.id, slack('U0ALICE'))).outcome.kind).toBe('approved');
  });

  it('a stranger’s click on an expired request records nothing; an approver’s records the expiry', async () => {
    const w = await world();
    const a = await seedAction(w, 'medium');
    await openRequest(w.deps, a.id);
    w.clock.advance(24 * 3_600_000);
    const before = await snapshot(w, a.id);
    expect((await vote(w, a.id, slack('U0STRANGER'))).outcome).toMatchObject({ reason: 'not_an_approver' });
    expect(await snapshot(w, a.id)).toEqual(before);
    expect((await vote(w, a.id, slack('U0BOB'))).outcome).toMatchObject({ reason: 'expired' });
    expect((await w.deps.core.repo.getAction(a.id))?.state).toBe('expired');
  });
});

describe('expiry, withdrawal and the tick', () => {
  it('expires due requests, fails them closed, reports the outcome and says so in Slack', async () => {
    const w = await world();
    const a = await seedAction(w, 'medium');
    const b = await seedAction(w, 'high');
    await runApprovalTick(w.deps);
    expect(w.chat.list()).toHaveLength(2);
    w.clock.advance(24 * 3_600_000 - 1);
    expect(await expireApprovals(w.deps.core, w.clock.now())).toEqual([]);
    w.clock.advance(1);
    const expired = await expireApprovals(w.deps.core, w.clock.now());
    expect(expired.map((r) => r.id)).toEqual([a.id]);
    expect(await expireApprovals(w.deps.core, w.clock.now())).toEqual([]);
    await w.deps.core.bus.drain();
    expect((await w.deps.core.repo.getAction(a.id))?.state).toBe('expired');
    expect((await w.deps.core.repo.getAction(b.id))?.state).toBe('awaiting_approval');
    expect(w.published).toEqual([
      { topic: 'outcomes', data: { kind: 'outcome', actionId: a.id, state: 'expired' } },
    ]);
    const report = await runApprovalTick(w.deps);
    expect(report.rendered).toBe(1);
    const message = w.chat.list().find((m) => JSON.stringify(m.blocks).includes(a.id))!;
    expect(JSON.stringify(message.blocks)).toContain('failed closed and nothing was changed');
    expect(message.blocks.some((x) => x.type === 'actions')).toBe(false);
  });

  it('withdraws a request whose action moved on (its finding was resolved)', async () => {
    const w = await world();
    const a = await seedAction(w, 'medium');
    await runApprovalTick(w.deps);
    await w.deps.core.repo.expirePendingActions(a.findingId, 'detect', 'the finding was resolved');
    const report = await runApprovalTick(w.deps);
    expect(report.withdrawn).toBe(1);
    expect(await w.deps.approvals.get(a.id)).toMatchObject({ status: 'cancelled', announced: true });
    expect(JSON.stringify(w.chat.list()[0]!.blocks)).toContain('Withdrawn');
    expect((await vote(w, a.id, slack('U0BOB'))).outcome).toMatchObject({ reason: 'already_decided' });
  });

  it('a decision taken without a live bus (the CLI) is announced by the next tick, once', async () => {
    const w = await world({ liveBus: false });
    const a = await seedAction(w, 'medium');
    expect((await vote(w, a.id, { kind: 'local' })).outcome).toEqual({
      kind: 'approved',
      approvers: ['alice'],
    });
    await w.deps.core.bus.drain();
    expect(w.published).toEqual([]);
    const live = { ...w.deps, liveBus: true };
    expect((await runApprovalTick(live)).announced).toBe(1);
    await w.deps.core.bus.drain();
    expect((await runApprovalTick(live)).announced).toBe(0);
    await w.deps.core.bus.drain();
    // The approved action is offered to the executor until one claims it (the executor is idempotent).
    expect(w.published.filter((p) => p.topic === 'actions').length).toBeGreaterThanOrEqual(2);
    expect((await w.deps.approvals.get(a.id))?.announced).toBe(true);
  });

  it('makes the request of an awaiting action whose approval message was lost', async () => {
    const w = await world();
    const a = await seedAction(w, 'medium');
    const report = await runApprovalTick(w.deps);
    expect(report).toMatchObject({ opened: 1, posted: 1 });
    expect(await w.deps.approvals.get(a.id)).toMatchObject({
      status: 'pending',
      message: { channel: 'C0WEB' },
    });
  });
});
